// `kiln internal ...`: the commands build.ninja's edges run, in the build directory.
#pragma once

#include <string>
#include <vector>

namespace kiln::cli {

/// `kiln internal hash|step|image|regenerate ...`.
int RunInternalCommand(const std::vector<std::string>& args);

}  // namespace kiln::cli
