// The tests' one temporary directory: fresh, private to the test, removed with everything in it.
#pragma once

#include <stdlib.h>
#include <sys/mount.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <system_error>
#include <vector>

namespace kiln::testing {

/// A fresh directory `$TMPDIR/<prefix>-XXXXXX` (mode 0755, so that a container's non-root user
/// can read what a test puts there). The destructor first detaches anything still mounted below
/// it (a failed RUN test may leave an overlay behind), makes every directory writable again (a
/// test may have locked one) and removes it all. Not copyable.
class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "kiln-test") {
    std::string pattern = (std::filesystem::temp_directory_path() / (prefix + "-XXXXXX")).string();
    if (::mkdtemp(pattern.data()) == nullptr) {
      throw std::system_error(errno, std::generic_category(), "cannot create " + pattern);
    }
    path_ = pattern;
    std::filesystem::permissions(path_, std::filesystem::perms(0755));
  }
  ~TempDir() {
    UnmountBelow();
    std::error_code ec;
    for (auto it = std::filesystem::recursive_directory_iterator(path_, ec);
         !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
      if (it->is_directory(ec) && !it->is_symlink(ec)) {
        std::filesystem::permissions(it->path(), std::filesystem::perms::owner_all,
                                     std::filesystem::perm_options::add, ec);
      }
    }
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& relative) const { return path_ / relative; }

 private:
  void UnmountBelow() const {
    std::ifstream mounts("/proc/self/mounts");
    std::vector<std::string> below;
    for (std::string line; std::getline(mounts, line);) {
      std::istringstream fields(line);
      std::string device, target;
      fields >> device >> target;
      if (target == path_.string() || target.rfind(path_.string() + "/", 0) == 0) {
        below.push_back(target);
      }
    }
    // Deepest first: a mount inside another must go before it.
    std::sort(below.rbegin(), below.rend());
    for (const std::string& target : below) ::umount2(target.c_str(), MNT_DETACH);
  }

  std::filesystem::path path_;
};

}  // namespace kiln::testing
