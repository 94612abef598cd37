// Temporary directories inside the store.
#pragma once

#include <filesystem>
#include <string>

namespace kiln {

class ImageStore;

/// A fresh directory `<store>/tmp/<prefix>-XXXXXX`, on the store's file system so that what is
/// built in it can be renamed into place; removed with everything below it when this dies.
class ScratchDir {
 public:
  ScratchDir(const ImageStore& store, const std::string& prefix);
  ~ScratchDir();
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace kiln
