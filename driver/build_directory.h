// Lowering every image of a build request and writing its build directory: request.json, one
// StepGraph JSON per image, and build.ninja.
#pragma once

#include <filesystem>
#include <vector>

#include "driver/build_request.h"
#include "frontend/lowering.h"
#include "frontend/step_graph.h"
#include "generators/ninja_writer.h"

namespace kiln {
class ImageStore;
}

namespace kiln::driver {

/// Lowers each image (throws DockerfileError) and writes the build directory `dir` (build.ninja,
/// the driver's variant and the record of what it names, see RecordNinjaGraphFiles); files whose
/// content is unchanged are left untouched so ninja sees no change. Returns the graphs, and in
/// `hashing` the context hashing the driver must do.
std::vector<StepGraph> GenerateBuildDirectory(const std::filesystem::path& dir,
                                              const BuildRequest& request,
                                              const ImageResolver* resolver,
                                              std::vector<HashEdge>* hashing = nullptr);

/// Removes the step results and image ids in build directory `dir` whose image has been
/// deleted from the store since the last check, so that ninja makes them again. Cheap when
/// nothing was deleted: two stats.
void ForgetResultsOfDeletedImages(const std::filesystem::path& dir, const ImageStore& store);

/// The absolute path of the running kiln program, which the generated edges call.
std::string KilnProgramPath();

}  // namespace kiln::driver
