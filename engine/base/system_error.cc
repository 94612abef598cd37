#include "engine/base/system_error.h"

#include <cstring>

namespace kiln {

std::string ErrnoContext(std::string_view what, const std::filesystem::path& path) {
  std::string context(what);
  if (!path.empty()) context.append(" ").append(path.native());
  return context;
}

std::string ErrnoMessage(std::string_view what, const std::filesystem::path& path, int error) {
  return ErrnoContext(what, path).append(": ").append(std::strerror(error));
}

}  // namespace kiln
