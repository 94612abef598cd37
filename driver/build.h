// One build from request to images: its build directory written, ninja run on it, its images
// tagged. The command around it turns flags into the request and shows what happens.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "driver/build_request.h"
#include "driver/ninja_runner.h"
#include "frontend/step_graph.h"
#include "generators/ninja_writer.h"

namespace kiln::driver {

/// A build whose build directory is written and ready for ninja.
struct PreparedBuild {
  BuildRequest request;
  std::filesystem::path dir;
  std::vector<StepGraph> graphs;     ///< one per image of the request, in its order
  std::vector<std::string> targets;  ///< ninja targets; empty: every image
  std::vector<HashEdge> hashing;     ///< the context hashing to do before ninja runs
};

/// "linux/<architecture>": the only platform kiln builds for.
std::string HostPlatform();

/// Lowers every image of `request` and writes the build directory `dir` (see
/// GenerateBuildDirectory), resolving base images in the request's store. `targets` (image
/// names; empty for all) are what RunBuild asks ninja for. Throws DockerfileError, or
/// std::runtime_error for I/O failures.
PreparedBuild PrepareBuild(BuildRequest request, std::filesystem::path dir,
                           std::vector<std::string> targets);

/// A step as progress shows it: its event id (its result stamp, see StepResultPath) and its
/// numbered text, "[2/7] COPY . /src" ("[stage 2/7] ..." when the image has several stages).
struct StepLabel {
  std::string id;
  std::string text;
};
/// The labels of `graph`'s steps in build order.
std::vector<StepLabel> StepLabels(const StepGraph& graph);

struct BuildRunOptions {
  bool no_cache = false;  ///< forget the build directory's step results and the step cache
  bool explain = false;   ///< steps say which input made them run
  NinjaListener listener;
};

struct BuildRunResult {
  int ninja_status = 0;  ///< 0: every image was built
  /// When ninja failed: the messages of edges that failed outside a step (see
  /// FilterNinjaOutput); a failed step reports itself through the events.
  std::string failure_output;
};

/// Runs a prepared build: takes the build directory's lock (two builds of one directory take
/// turns), hashes the contexts, and runs ninja unless the ninja fingerprint says it would find
/// nothing to do (never with `no_cache`). Records the fingerprint after a successful run and
/// forgets it before any other. Throws std::runtime_error when the directory cannot be locked,
/// a context source is missing, or ninja cannot be started.
BuildRunResult RunBuild(const PreparedBuild& build, const BuildRunOptions& options);

/// The images the build made: every image of the request, or those its targets name.
std::vector<const ImageRequest*> BuiltImages(const PreparedBuild& build);

/// After a successful run: the id of `image` (one of BuiltImages), whose tags are put back in
/// the store where they were removed since ninja's image edge set them, as `docker build -t`
/// always leaves its tags in place.
std::string FinishImage(const PreparedBuild& build, const ImageRequest& image);

}  // namespace kiln::driver
