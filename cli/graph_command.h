// `kiln graph`: prints the step graph of a build as dot or JSON.
#pragma once

#include <string>
#include <vector>

namespace kiln::cli {

/// kiln graph [-f Dockerfile] [--target T] [--build-arg K[=V]]... [--platform P]
///            [--format dot|json] CONTEXT
/// `args` are the arguments after "graph". Prints the graph to stdout and build-arg warnings
/// to stderr. Returns 0, 1 for a Dockerfile error (printed with its place), 2 for bad usage.
int RunGraphCommand(const std::vector<std::string>& args);

}  // namespace kiln::cli
