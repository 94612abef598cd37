#include "driver/build.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <stdexcept>
#include <utility>

#include "driver/build_directory.h"
#include "driver/input_hashing.h"
#include "driver/ninja_fingerprint.h"
#include "driver/store_resolver.h"
#include "engine/base/atomic_file.h"
#include "engine/base/unique_fd.h"
#include "engine/store/image_config.h"
#include "engine/store/image_store.h"
#include "engine/store/reference.h"

namespace kiln::driver {
namespace {

/// Holds the build directory's lock while alive: ninja's log and stamps are not shared.
UniqueFd LockBuildDirectory(const std::filesystem::path& dir) {
  UniqueFd lock(open((dir / "build.lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
  if (!lock.valid() || flock(lock.get(), LOCK_EX) != 0)
    throw std::runtime_error("cannot lock the build directory " + dir.string());
  return lock;
}

/// Digests the context files each step reads, in this process rather than as ninja's first
/// edge: one program start less per build.
void HashContexts(const PreparedBuild& build) {
  for (const HashEdge& edge : build.hashing) {
    std::vector<std::pair<const StepGraph*, std::string>> selections;
    for (const HashSelection& s : edge.selections)
      selections.emplace_back(&build.graphs.at(s.image), s.steps);
    HashInputSets(build.dir, selections);
  }
}

}  // namespace

std::string HostPlatform() {
  return "linux/" + HostArchitecture();
}

PreparedBuild PrepareBuild(BuildRequest request, std::filesystem::path dir,
                           std::vector<std::string> targets) {
  PreparedBuild build;
  build.request = std::move(request);
  build.dir = std::move(dir);
  build.targets = std::move(targets);
  StoreImageResolver resolver(build.request.store_root);
  build.graphs = GenerateBuildDirectory(build.dir, build.request, &resolver, &build.hashing);
  return build;
}

std::vector<StepLabel> StepLabels(const StepGraph& graph) {
  std::vector<StepLabel> steps;
  const std::vector<std::string> keys = StepEdgeKeys(graph);
  size_t total = 0;
  for (const Stage& stage : graph.stages) total += stage.steps.size();
  size_t n = 0;
  for (const Stage& stage : graph.stages) {
    for (int id : stage.steps) {
      ++n;
      const std::string prefix =
          graph.stages.size() > 1 && !stage.name.empty() ? stage.name + " " : "";
      steps.push_back({StepResultPath(keys[id]), "[" + prefix + std::to_string(n) + "/" +
                                                     std::to_string(total) + "] " +
                                                     graph.steps[id].text});
    }
  }
  return steps;
}

BuildRunResult RunBuild(const PreparedBuild& build, const BuildRunOptions& options) {
  if (options.no_cache) std::filesystem::remove_all(build.dir / "steps");
  const UniqueFd lock = LockBuildDirectory(build.dir);
  HashContexts(build);
  // When nothing ninja looks at changed since it last finished, it would only say so.
  if (!options.no_cache && NinjaIsUpToDate(build.dir, kDriverNinjaFile, build.targets)) return {};
  ForgetNinjaFingerprint(build.dir);  // a failed or interrupted run must never look up to date
  const NinjaInvocation invocation{build.dir,     kDriverNinjaFile, build.request.run_jobs,
                                   build.targets, options.no_cache, options.explain};
  std::string output;
  BuildRunResult result;
  result.ninja_status = RunNinja(invocation, options.listener, &output);
  if (result.ninja_status == 0)
    RecordNinjaFingerprint(build.dir, kDriverNinjaFile, build.targets);
  else
    result.failure_output = FilterNinjaOutput(output);
  return result;
}

std::vector<const ImageRequest*> BuiltImages(const PreparedBuild& build) {
  std::vector<const ImageRequest*> images;
  for (const ImageRequest& image : build.request.images) {
    if (build.targets.empty() ||
        std::find(build.targets.begin(), build.targets.end(), image.name) != build.targets.end())
      images.push_back(&image);
  }
  return images;
}

std::string FinishImage(const PreparedBuild& build, const ImageRequest& image) {
  std::string id = ReadWholeFile(build.dir / IidFile(image.name));
  while (!id.empty() && id.back() == '\n') id.pop_back();
  // Ninja's image edge tags an image when it changes; a tag removed since (`kiln rmi`) is put
  // back here.
  ImageStore store(build.request.store_root);
  for (const std::string& tag : image.tags) {
    const Reference ref = ParseReference(tag);
    if (store.ImageForTag(ref) != id) store.Tag(id, ref);
  }
  return id;
}

}  // namespace kiln::driver
