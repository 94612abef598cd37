#include "frontend/dockerfile_error.h"

namespace kiln {

std::string FormatDockerfileError(const SourceLocation& location, const std::string& message,
                                  const std::string& source_line) {
  std::string out = location.file.empty() ? std::string("Dockerfile") : location.file;
  // Appended piece by piece: `":" + std::to_string(n)` trips GCC 12's -Wrestrict at -O3.
  if (location.line > 0) out.append(":").append(std::to_string(location.line));
  if (location.line > 0 && location.column > 0)
    out.append(":").append(std::to_string(location.column));
  out.append(": ").append(message);
  if (location.line > 0 && !source_line.empty()) {
    const std::string number = std::to_string(location.line);
    out += "\n " + number + " | " + source_line;
    if (location.column > 0) {
      std::string pad;
      // Keep tabs so the caret lines up under tab-indented text.
      for (int i = 0; i + 1 < location.column && i < static_cast<int>(source_line.size()); ++i)
        pad += source_line[i] == '\t' ? '\t' : ' ';
      out += "\n " + std::string(number.size(), ' ') + " | " + pad + "^";
    }
  }
  return out;
}

DockerfileError::DockerfileError(SourceLocation location, std::string message,
                                 std::string source_line)
    : std::runtime_error(FormatDockerfileError(location, message, source_line)),
      location_(std::move(location)),
      message_(std::move(message)) {}

}  // namespace kiln
