// Helpers for the context-scanner and COPY tests: an fnmatch(3) stand-in for the frontend's
// .dockerignore matcher, temporary directories and small file utilities.
#pragma once

#include <fnmatch.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "engine/context/path_filter.h"
#include "tests/support/temp_dir.h"

namespace kiln::testing {

inline bool FnMatch(std::string_view pattern, std::string_view path) {
  return fnmatch(std::string(pattern).c_str(), std::string(path).c_str(), FNM_PATHNAME) == 0;
}

/// A matcher with .dockerignore-like rules: `ignore` patterns (with `!` exceptions, last match
/// wins) exclude a path when they match it or one of its parents.
inline PathMatcher TestMatcher(std::vector<std::string> ignore = {}) {
  PathMatcher matcher;
  matcher.match = FnMatch;
  if (ignore.empty()) return matcher;
  matcher.excluded = [ignore](std::string_view path) {
    bool excluded = false;
    for (const std::string& rule : ignore) {
      const bool exception = rule.front() == '!';
      const std::string pattern = exception ? rule.substr(1) : rule;
      for (size_t end = path.find('/');; end = path.find('/', end + 1)) {
        if (FnMatch(pattern, path.substr(0, end))) {
          excluded = !exception;
          break;
        }
        if (end == std::string_view::npos) break;
      }
    }
    return excluded;
  };
  matcher.may_include_under = [ignore](std::string_view dir) {
    for (const std::string& rule : ignore) {
      if (rule.front() == '!' && rule.compare(1, dir.size() + 1, std::string(dir) + "/") == 0) {
        return true;
      }
    }
    return false;
  };
  return matcher;
}

inline void WriteFile(const std::filesystem::path& path, const std::string& content,
                      mode_t mode = 0644) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary | std::ios::trunc) << content;
  chmod(path.c_str(), mode);
}

inline std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

inline struct stat Lstat(const std::filesystem::path& path) {
  struct stat st {};
  if (lstat(path.c_str(), &st) != 0) throw std::runtime_error("lstat failed: " + path.string());
  return st;
}

/// Every path below `root`, relative and sorted, directories marked with a trailing '/'.
inline std::vector<std::string> ListTree(const std::filesystem::path& root) {
  std::vector<std::string> paths;
  for (auto it = std::filesystem::recursive_directory_iterator(root);
       it != std::filesystem::recursive_directory_iterator(); ++it) {
    std::string relative = it->path().lexically_relative(root).string();
    if (it->is_directory() && !it->is_symlink()) relative += '/';
    paths.push_back(relative);
  }
  std::sort(paths.begin(), paths.end());
  return paths;
}

}  // namespace kiln::testing
