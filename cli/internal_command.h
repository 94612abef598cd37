// `kiln internal ...`: the commands build.ninja's edges run, in the build directory, and the
// reference check the CMake package calls.
#pragma once

#include <string>
#include <vector>

namespace kiln::cli {

/// `kiln internal hash|step|image|regenerate|check-reference ...`: parses the edge's flags and
/// runs it (driver/edges.h). Returns 0, 1 when the edge failed, 2 for a malformed command line.
int RunInternalCommand(const std::vector<std::string>& args);

}  // namespace kiln::cli
