// Lowering every image of a build request and writing its build directory: request.json, one
// StepGraph JSON per image, and build.ninja.
#pragma once

#include <filesystem>
#include <vector>

#include "cli/build_request.h"
#include "frontend/lowering.h"
#include "frontend/step_graph.h"

namespace kiln::cli {

/// Lowers each image (throws DockerfileError) and writes the build directory `dir`; files whose
/// content is unchanged are left untouched so ninja sees no change. Returns the graphs.
std::vector<StepGraph> GenerateBuildDirectory(const std::filesystem::path& dir,
                                              const BuildRequest& request,
                                              const ImageResolver* resolver);

/// The absolute path of the running kiln program, which the generated edges call.
std::string KilnProgramPath();

}  // namespace kiln::cli
