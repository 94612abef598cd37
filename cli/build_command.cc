#include "cli/build_command.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <thread>

#include <nlohmann/json.hpp>

#include "cli/flags.h"
#include "cli/progress_display.h"
#include "driver/build.h"
#include "driver/build_request.h"
#include "driver/manifest.h"
#include "driver/secret.h"
#include "engine/store/image_store.h"
#include "frontend/dockerfile_error.h"

namespace kiln::cli {
namespace fs = std::filesystem;
namespace {

constexpr const char* kBuildUsage =
    "Usage:  kiln build [OPTIONS] PATH | -\n\n"
    "Build an image from a Dockerfile\n\n"
    "Options:\n"
    "      --build-arg list          Set build-time variables\n"
    "      --explain                 Say, for each step that ran, which input changed\n"
    "  -f, --file string             Name of the Dockerfile (default: \"PATH/Dockerfile\")\n"
    "      --iidfile string          Write the image ID to the file\n"
    "  -j, --jobs int                Steps to run in parallel (default: number of CPUs)\n"
    "      --label list              Set metadata for an image\n"
    "      --manifest string         Build the images a manifest lists (PATH is then a list of\n"
    "                                image names, default all)\n"
    "      --network string          Networking mode for the RUN instructions (default, none, "
    "host)\n"
    "      --no-cache                Do not use cache when building the image\n"
    "      --platform string         Set platform (only the host's for now)\n"
    "      --progress string         Set type of progress output (auto, plain, tty) (default "
    "\"auto\")\n"
    "  -q, --quiet                   Suppress the build output and print image ID on success\n"
    "      --secret stringArray      Secret to expose to the build "
    "(id=mysecret,src=/local/secret)\n"
    "      --source-date-epoch int   Timestamp for reproducible output (default: "
    "$SOURCE_DATE_EPOCH)\n"
    "  -t, --tag list                Name and optionally a tag in the \"name:tag\" format\n"
    "      --target string           Set the target build stage to build\n";

struct BuildFlags {
  std::vector<std::string> tags, build_args, labels, secrets;
  std::string file, target, iidfile, progress = "auto", network = "default", platform, epoch;
  bool no_cache = false, quiet = false, explain = false;
  int jobs = 0;
  std::string output_dir;  // generate only
  std::string manifest;
  FlagSet set;

  explicit BuildFlags(bool generate) {
    set.Strings("tag", 't', &tags);
    set.String("file", 'f', &file);
    set.Strings("build-arg", 0, &build_args);
    set.String("target", 0, &target);
    set.Strings("label", 0, &labels);
    set.String("iidfile", 0, &iidfile);
    set.Strings("secret", 0, &secrets);
    set.String("network", 0, &network);
    set.String("platform", 0, &platform);
    set.String("source-date-epoch", 0, &epoch);
    set.Int("jobs", 'j', &jobs);
    set.String("manifest", 0, &manifest);
    if (generate) {
      set.String("output", 'o', &output_dir);
    } else {
      set.Bool("no-cache", 0, &no_cache);
      set.Bool("quiet", 'q', &quiet);
      set.String("progress", 0, &progress);
      set.Bool("explain", 0, &explain);
    }
  }
};

/// KEY=VALUE, or KEY alone taking the value from the environment (Docker's --build-arg rule;
/// an unset variable is left out).
void AddKeyValue(const std::string& item, std::map<std::string, std::string>& into, bool from_env) {
  const size_t eq = item.find('=');
  if (eq != std::string::npos) {
    into[item.substr(0, eq)] = item.substr(eq + 1);
  } else if (from_env) {
    if (const char* v = std::getenv(item.c_str())) into[item] = v;
  } else {
    into[item] = "";
  }
}

/// The single image of `kiln build [flags] CONTEXT`; sets `dir` to its build directory.
driver::ImageRequest ImageFromFlags(const BuildFlags& flags,
                                    const std::vector<std::string>& positional,
                                    const std::string& command, const std::string& store_root,
                                    fs::path* dir) {
  if (positional.size() != 1)
    throw UsageError("\"kiln " + command + "\" requires exactly 1 argument.");
  const fs::path context = fs::absolute(positional[0]).lexically_normal();
  if (!fs::is_directory(context))
    throw std::runtime_error("unable to prepare context: path \"" + positional[0] + "\" not found");
  driver::ImageRequest image;
  image.context = context.string();
  image.target = flags.target;
  image.tags = driver::NormalizedTags(flags.tags);
  for (const std::string& a : flags.build_args) AddKeyValue(a, image.build_args, true);
  for (const std::string& l : flags.labels) AddKeyValue(l, image.labels, false);
  if (!flags.iidfile.empty()) image.iidfile = fs::absolute(flags.iidfile).string();

  const std::string dockerfile_arg =
      flags.file.empty() ? (context / "Dockerfile").string() : flags.file;
  if (dockerfile_arg == "-") {
    *dir = driver::BuildDirectoryFor(store_root, image.context, "-");
    const std::string text(std::istreambuf_iterator<char>(std::cin), {});
    driver::WriteIfChanged(*dir / "Dockerfile", text);
    image.dockerfile = (*dir / "Dockerfile").string();
  } else {
    image.dockerfile = fs::absolute(dockerfile_arg).lexically_normal().string();
    if (!fs::is_regular_file(image.dockerfile))
      throw std::runtime_error("failed to read dockerfile: open " + dockerfile_arg +
                               ": no such file or directory");
    *dir = driver::BuildDirectoryFor(store_root, image.context, image.dockerfile);
  }
  return image;
}

/// --source-date-epoch, else $SOURCE_DATE_EPOCH: seconds since 1970, or nothing.
std::optional<int64_t> SourceDateEpoch(const BuildFlags& flags) {
  std::string epoch = flags.epoch;
  if (epoch.empty())
    if (const char* env = std::getenv("SOURCE_DATE_EPOCH")) epoch = env;
  if (epoch.empty()) return std::nullopt;
  try {
    size_t used = 0;
    const int64_t seconds = std::stoll(epoch, &used);
    if (used != epoch.size()) throw std::invalid_argument(epoch);
    return seconds;
  } catch (const std::exception&) {
    throw UsageError("invalid SOURCE_DATE_EPOCH \"" + epoch + "\": expected seconds since 1970");
  }
}

/// Turns the flags into a build request and writes its build directory. Throws UsageError,
/// driver::RequestError, ReferenceError, DockerfileError or std::runtime_error.
driver::PreparedBuild PrepareFromFlags(const BuildFlags& flags,
                                       const std::vector<std::string>& positional,
                                       const std::string& command, const std::string& store_root) {
  if (!flags.platform.empty() && flags.platform != driver::HostPlatform())
    throw std::runtime_error("platform " + flags.platform + " is not supported: kiln builds for " +
                             "the host platform (" + driver::HostPlatform() + ") only");
  driver::BuildRequest request;
  fs::path dir;
  std::vector<std::string> targets;
  if (flags.manifest.empty()) {
    request.images.push_back(ImageFromFlags(flags, positional, command, store_root, &dir));
  } else {
    request.images = driver::ReadManifest(flags.manifest);
    dir = driver::ManifestBuildDirectory(store_root, flags.manifest);
    driver::RequireManifestImages(flags.manifest, request.images, positional);
    targets = positional;
  }
  for (driver::ImageRequest& image : request.images)
    image.platform = flags.platform.empty() ? driver::HostPlatform() : flags.platform;
  if (!flags.output_dir.empty()) dir = fs::absolute(flags.output_dir);

  request.store_root = store_root;
  request.network = flags.network;
  if (flags.network != "default" && flags.network != "none" && flags.network != "host")
    throw UsageError("invalid --network \"" + flags.network + "\": expected default, none or host");
  request.run_jobs =
      flags.jobs > 0 ? flags.jobs : static_cast<int>(std::thread::hardware_concurrency());
  request.source_date_epoch = SourceDateEpoch(flags);
  for (const std::string& spec : flags.secrets) {
    auto [id, file] = driver::ResolveSecret(spec, dir);
    request.secrets[id] = file;
  }
  return driver::PrepareBuild(std::move(request), dir, std::move(targets));
}

void PrintWarnings(const driver::PreparedBuild& build) {
  for (const StepGraph& graph : build.graphs)
    for (const std::string& w : graph.warnings) std::fprintf(stderr, "%s\n", w.c_str());
}

std::vector<ProgressStep> ProgressSteps(const driver::PreparedBuild& build) {
  std::vector<ProgressStep> steps;
  for (const StepGraph& graph : build.graphs)
    for (driver::StepLabel& label : driver::StepLabels(graph))
      steps.push_back({std::move(label.id), std::move(label.text)});
  return steps;
}

int ReportError(const std::string& command, const std::exception& e) {
  if (dynamic_cast<const UsageError*>(&e) || dynamic_cast<const driver::RequestError*>(&e)) {
    std::fprintf(stderr, "%s\nSee 'kiln %s --help'.\n", e.what(), command.c_str());
    return 2;
  }
  std::fprintf(stderr, "ERROR: %s\n", e.what());
  return 1;
}

}  // namespace

int RunBuildCommand(const std::vector<std::string>& args) {
  BuildFlags flags(false);
  try {
    const std::vector<std::string> positional = flags.set.Parse(args);
    if (flags.set.help_requested()) {
      std::fputs(kBuildUsage, stdout);
      return 0;
    }
    if (flags.progress != "auto" && flags.progress != "plain" && flags.progress != "tty")
      throw UsageError("invalid --progress \"" + flags.progress +
                       "\": expected auto, plain or tty");
    const std::string store_root = ImageStore::DefaultRoot().string();
    const driver::PreparedBuild build = PrepareFromFlags(flags, positional, "build", store_root);
    PrintWarnings(build);

    const bool live = flags.progress == "tty" || (flags.progress == "auto" && isatty(2));
    std::unique_ptr<ProgressDisplay> display;
    if (!flags.quiet)
      display =
          std::make_unique<ProgressDisplay>(stderr, ProgressSteps(build), live, flags.explain);
    driver::BuildRunOptions options;
    options.no_cache = flags.no_cache;
    options.explain = flags.explain && !flags.quiet;
    if (display) {
      options.listener.on_event = [&](const nlohmann::json& event) { display->OnEvent(event); };
      options.listener.on_tick = [&] { display->Tick(); };
    }
    const driver::BuildRunResult result = driver::RunBuild(build, options);
    if (display) display->Finish(result.ninja_status == 0);
    if (result.ninja_status != 0) {
      std::fputs(result.failure_output.c_str(), stderr);
      return 1;
    }
    for (const driver::ImageRequest* image : driver::BuiltImages(build)) {
      const std::string id = driver::FinishImage(build, *image);
      if (flags.quiet) {
        std::printf("%s\n", id.c_str());
      } else {
        std::fprintf(stderr, "writing image %s done\n", id.c_str());
        for (const std::string& tag : image->tags)
          std::fprintf(stderr, "naming to %s done\n", tag.c_str());
      }
    }
    return 0;
  } catch (const DockerfileError& e) {
    std::fprintf(stderr, "ERROR: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    return ReportError("build", e);
  }
}

int RunGenerateCommand(const std::vector<std::string>& args) {
  BuildFlags flags(true);
  try {
    const std::vector<std::string> positional = flags.set.Parse(args);
    if (flags.set.help_requested()) {
      std::fputs(
          "Usage:  kiln generate [BUILD OPTIONS] -o DIR PATH\n\n"
          "Write build.ninja for a build without building; `ninja -C DIR` builds it.\n",
          stdout);
      return 0;
    }
    if (flags.output_dir.empty()) throw UsageError("kiln generate needs -o DIR");
    const std::string store_root = ImageStore::DefaultRoot().string();
    const driver::PreparedBuild build = PrepareFromFlags(flags, positional, "generate", store_root);
    PrintWarnings(build);
    std::printf("%s\n", (build.dir / driver::kNinjaFile).c_str());
    return 0;
  } catch (const DockerfileError& e) {
    std::fprintf(stderr, "ERROR: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    return ReportError("generate", e);
  }
}

}  // namespace kiln::cli
