#include "frontend/file_system.h"

#include <filesystem>
#include <fstream>
#include <system_error>

namespace kiln {

std::optional<std::string> DiskFileSystem::ReadFile(const std::string& path) const {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::string content;
  std::error_code error;
  if (const auto size = std::filesystem::file_size(path, error); !error) content.reserve(size);
  // Read in chunks straight into `content`: a stringstream would copy the text twice more.
  char chunk[64 * 1024];
  try {
    while (const std::streamsize n = in.rdbuf()->sgetn(chunk, sizeof chunk))
      content.append(chunk, static_cast<size_t>(n));
  } catch (const std::ios_base::failure&) {
    // A read error (the path is a directory...) ends the text, as `stream << rdbuf()` did.
  }
  return content;
}

std::optional<std::string> MemoryFileSystem::ReadFile(const std::string& path) const {
  auto it = files.find(path);
  if (it == files.end()) return std::nullopt;
  return it->second;
}

}  // namespace kiln
