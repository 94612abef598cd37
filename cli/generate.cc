#include "cli/generate.h"

#include <unistd.h>

#include <system_error>

#include "frontend/file_system.h"
#include "generators/ninja_writer.h"

namespace kiln::cli {
namespace {

/// Files whose change must regenerate build.ninja. Directories are included so that an ignore
/// file created later (which changes the directory's mtime) is noticed.
std::vector<std::string> RegenerateInputs(const std::filesystem::path& dir,
                                          const BuildRequest& request) {
  std::vector<std::string> inputs = {(dir / kRequestFile).string()};
  for (const ImageRequest& image : request.images) {
    const std::filesystem::path dockerfile(image.dockerfile);
    inputs.push_back(image.dockerfile);
    inputs.push_back(dockerfile.parent_path().string());
    inputs.push_back(image.context);
    for (const std::filesystem::path& ignore :
         {std::filesystem::path(image.context) / ".dockerignore",
          std::filesystem::path(image.dockerfile + ".dockerignore")}) {
      if (std::filesystem::exists(ignore)) inputs.push_back(ignore.string());
    }
  }
  return inputs;
}

}  // namespace

std::string KilnProgramPath() {
  std::error_code ec;
  const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) throw std::runtime_error("cannot find the kiln program: " + ec.message());
  return self.string();
}

std::vector<StepGraph> GenerateBuildDirectory(const std::filesystem::path& dir,
                                              const BuildRequest& request,
                                              const ImageResolver* resolver) {
  std::vector<StepGraph> graphs;
  for (const ImageRequest& image : request.images) {
    LowerOptions options;
    options.dockerfile = image.dockerfile;
    options.context = image.context;
    options.build_args = image.build_args;
    options.target = image.target;
    if (!image.platform.empty()) options.platform = image.platform;
    options.resolver = resolver;
    graphs.push_back(LoadStepGraph(DiskFileSystem(), options));
  }

  std::filesystem::create_directories(dir);
  WriteIfChanged(dir / kRequestFile, BuildRequestToJson(request).dump(2) + "\n");
  std::vector<NinjaImage> images;
  for (size_t i = 0; i < graphs.size(); ++i) {
    WriteIfChanged(dir / GraphFile(i), StepGraphToJson(graphs[i]).dump() + "\n");
    images.push_back(
        {request.images[i].name, GraphFile(i), &graphs[i], IidFile(request.images[i].name)});
  }
  NinjaOptions options;
  options.kiln = KilnProgramPath();
  options.build_dir = std::filesystem::absolute(dir).string();
  options.regenerate_inputs = RegenerateInputs(dir, request);
  options.image_inputs = {kRequestFile};
  options.run_jobs = request.run_jobs;
  WriteIfChanged(dir / kNinjaFile, WriteNinjaFile(images, options));
  return graphs;
}

}  // namespace kiln::cli
