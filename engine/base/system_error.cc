#include "engine/base/system_error.h"

#include <cstring>

namespace kiln {

std::string ErrnoMessage(std::string_view what, const std::filesystem::path& path, int error) {
  std::string message(what);
  if (!path.empty()) message.append(" ").append(path.native());
  return message.append(": ").append(std::strerror(error));
}

}  // namespace kiln
