// The one error type of the frontend: a message tied to a place in a Dockerfile.
#pragma once

#include <stdexcept>
#include <string>

namespace kiln {

struct SourceLocation {
  std::string file;
  int line = 0;    ///< 1-based; 0 when the error concerns no line
  int column = 0;  ///< 1-based; 0 when unknown
};

/// Thrown by every frontend pass. what() is the full report:
///   Dockerfile:3:1: unknown instruction: COPPY (did you mean COPY?)
///       3 | COPPY . /app
///         | ^
class DockerfileError : public std::runtime_error {
 public:
  /// `source_line` is the text of the line at `location` ("" to omit the excerpt).
  DockerfileError(SourceLocation location, std::string message, std::string source_line = "");

  const SourceLocation& location() const { return location_; }
  /// The message alone, without place or excerpt.
  const std::string& message() const { return message_; }

 private:
  SourceLocation location_;
  std::string message_;
};

/// Formats the report DockerfileError::what() returns.
std::string FormatDockerfileError(const SourceLocation& location, const std::string& message,
                                  const std::string& source_line);

}  // namespace kiln
