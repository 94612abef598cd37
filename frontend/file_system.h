// The small file-system interface the frontend reads through, so its tests run in memory.
#pragma once

#include <map>
#include <optional>
#include <string>

namespace kiln {

class FileSystem {
 public:
  virtual ~FileSystem() = default;
  /// The file's whole content, or nullopt when it does not exist or cannot be read.
  virtual std::optional<std::string> ReadFile(const std::string& path) const = 0;
};

/// Reads the real disk.
class DiskFileSystem : public FileSystem {
 public:
  std::optional<std::string> ReadFile(const std::string& path) const override;
};

/// Files held in memory, keyed by path; for tests.
class MemoryFileSystem : public FileSystem {
 public:
  std::map<std::string, std::string> files;
  std::optional<std::string> ReadFile(const std::string& path) const override;
};

}  // namespace kiln
