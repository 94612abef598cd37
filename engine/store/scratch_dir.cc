#include "engine/store/scratch_dir.h"

#include <stdlib.h>

#include <cerrno>
#include <system_error>

#include "engine/base/system_error.h"
#include "engine/store/image_store.h"

namespace kiln {

ScratchDir::ScratchDir(const ImageStore& store, const std::string& prefix) {
  std::string pattern = (store.root() / "tmp" / (prefix + "-XXXXXX")).string();
  if (::mkdtemp(pattern.data()) == nullptr) ThrowErrno("cannot create", pattern);
  path_ = pattern;
}

ScratchDir::~ScratchDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

}  // namespace kiln
