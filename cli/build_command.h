// `kiln build` and `kiln generate`: Docker's build flags, a generated build.ninja in the store,
// and (for build) ninja run on it with BuildKit-style progress.
#pragma once

#include <string>
#include <vector>

namespace kiln::cli {

int RunBuildCommand(const std::vector<std::string>& args);
int RunGenerateCommand(const std::vector<std::string>& args);

}  // namespace kiln::cli
