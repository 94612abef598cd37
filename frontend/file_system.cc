#include "frontend/file_system.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace kiln {

std::optional<std::string> DiskFileSystem::ReadFile(const std::string& path) const {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  // Read straight into the string, sized from the file (one byte more, so the read that finds
  // the end needs no growth): no stream buffer, no second copy, few system calls.
  struct stat info;
  const size_t expected = ::fstat(fd, &info) == 0 && S_ISREG(info.st_mode)
                              ? static_cast<size_t>(info.st_size) + 1
                              : size_t{64} << 10;
  std::string content;
  size_t used = 0;
  while (true) {
    if (used == content.size()) content.resize(std::max(expected, used * 2));
    const ssize_t n = ::read(fd, content.data() + used, content.size() - used);
    if (n < 0 && errno == EINTR) continue;
    // A read error (the path is a directory...) ends the text.
    if (n <= 0) break;
    used += static_cast<size_t>(n);
  }
  ::close(fd);
  content.resize(used);
  return content;
}

std::optional<std::string> MemoryFileSystem::ReadFile(const std::string& path) const {
  auto it = files.find(path);
  if (it == files.end()) return std::nullopt;
  return it->second;
}

}  // namespace kiln
