// The frontend's ImageResolver backed by the local store: what lowering needs to know about a
// base image (its environment for expansion, WORKDIR, SHELL, ONBUILD triggers).
#pragma once

#include <string>

#include "frontend/lowering.h"

namespace kiln::driver {

class StoreImageResolver : public ImageResolver {
 public:
  explicit StoreImageResolver(std::string store_root) : store_root_(std::move(store_root)) {}
  std::optional<BaseImageInfo> Resolve(const std::string& reference) const override;

 private:
  std::string store_root_;
};

}  // namespace kiln::driver
