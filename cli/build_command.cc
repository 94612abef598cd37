#include "cli/build_command.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <iterator>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "cli/flags.h"
#include "cli/progress_display.h"
#include "driver/build_directory.h"
#include "driver/build_request.h"
#include "driver/input_hashing.h"
#include "driver/ninja_fingerprint.h"
#include "driver/store_resolver.h"
#include "engine/base/atomic_file.h"
#include "engine/store/image_config.h"
#include "engine/store/image_store.h"
#include "engine/store/reference.h"
#include "frontend/dockerfile_error.h"
#include "generators/ninja_writer.h"

namespace kiln::cli {
using namespace driver;  // TODO(driver split): the build logic below moves into driver/
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

/// Starts ninja's edge description lines, so they can be told from the edges' own output.
constexpr const char* kNinjaStatusMarker = "kiln-edge: ";

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

/// --secret id=ID,src=PATH (also source=, type=file; env=VAR reads a variable).
void AddSecret(const std::string& spec, std::map<std::string, std::string>& into,
               const fs::path& build_dir) {
  std::map<std::string, std::string> fields;
  std::stringstream in(spec);
  for (std::string part; std::getline(in, part, ',');) AddKeyValue(part, fields, false);
  const std::string id = fields.count("id") ? fields["id"] : "";
  if (id.empty()) throw UsageError("invalid secret \"" + spec + "\": id is required");
  std::string src = fields.count("src")      ? fields["src"]
                    : fields.count("source") ? fields["source"]
                                             : "";
  if (src.empty() && fields.count("env")) {
    const char* value = std::getenv(fields["env"].c_str());
    if (!value)
      throw UsageError("invalid secret \"" + spec + "\": variable " + fields["env"] +
                       " is not set");
    // The value must reach the container as a file; it stays in the private build directory.
    const fs::path file = build_dir / "secrets" / id;
    fs::create_directories(file.parent_path());
    fs::permissions(file.parent_path(), fs::perms::owner_all);
    WriteIfChanged(file, value);
    src = file.string();
  }
  if (src.empty()) throw UsageError("invalid secret \"" + spec + "\": src is required");
  if (!fs::exists(src)) throw UsageError("secret " + id + ": file " + src + " not found");
  into[id] = fs::absolute(src).string();
}

std::string HostPlatform() {
  return "linux/" + HostArchitecture();
}

struct PreparedBuild {
  BuildRequest request;
  fs::path dir;
  std::vector<StepGraph> graphs;
  std::vector<std::string> targets;  ///< ninja targets; empty: every image
  std::vector<HashEdge> hashing;     ///< the context hashing to do before ninja runs
};

std::vector<std::string> NormalizedTags(const std::vector<std::string>& tags) {
  std::vector<std::string> normalized;
  for (const std::string& tag : tags) {
    try {
      normalized.push_back(ParseReference(tag).String());
    } catch (const ReferenceError& e) {
      throw UsageError("invalid argument \"" + tag + "\" for \"-t, --tag\" flag: " + e.what());
    }
  }
  return normalized;
}

/// The single image of `kiln build [flags] CONTEXT`; sets `dir` to its build directory.
ImageRequest ImageFromFlags(const BuildFlags& flags, const std::vector<std::string>& positional,
                            const std::string& command, const std::string& store_root,
                            fs::path* dir) {
  if (positional.size() != 1)
    throw UsageError("\"kiln " + command + "\" requires exactly 1 argument.");
  const fs::path context = fs::absolute(positional[0]).lexically_normal();
  if (!fs::is_directory(context))
    throw std::runtime_error("unable to prepare context: path \"" + positional[0] + "\" not found");
  ImageRequest image;
  image.context = context.string();
  image.target = flags.target;
  image.tags = NormalizedTags(flags.tags);
  for (const std::string& a : flags.build_args) AddKeyValue(a, image.build_args, true);
  for (const std::string& l : flags.labels) AddKeyValue(l, image.labels, false);
  if (!flags.iidfile.empty()) image.iidfile = fs::absolute(flags.iidfile).string();

  const std::string dockerfile_arg =
      flags.file.empty() ? (context / "Dockerfile").string() : flags.file;
  if (dockerfile_arg == "-") {
    *dir = BuildDirectoryFor(store_root, image.context, "-");
    const std::string text(std::istreambuf_iterator<char>(std::cin), {});
    WriteIfChanged(*dir / "Dockerfile", text);
    image.dockerfile = (*dir / "Dockerfile").string();
  } else {
    image.dockerfile = fs::absolute(dockerfile_arg).lexically_normal().string();
    if (!fs::is_regular_file(image.dockerfile))
      throw std::runtime_error("failed to read dockerfile: open " + dockerfile_arg +
                               ": no such file or directory");
    *dir = BuildDirectoryFor(store_root, image.context, image.dockerfile);
  }
  return image;
}

/// The images of a manifest: {"images": [{"name", "dockerfile", "context", "tags",
/// "build_args", "target", "labels"}]}, paths relative to the manifest's directory. `names`
/// (may be empty: all) must name images of it.
std::vector<ImageRequest> ImagesFromManifest(const std::string& manifest_path,
                                             const std::string& store_root, fs::path* dir) {
  const fs::path manifest = fs::absolute(manifest_path).lexically_normal();
  nlohmann::json json;
  try {
    json = nlohmann::json::parse(ReadWholeFile(manifest));
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error("manifest " + manifest_path + ": " + e.what());
  }
  const fs::path base = manifest.parent_path();
  std::vector<ImageRequest> images;
  std::set<std::string> names;
  for (const nlohmann::json& entry : json.value("images", nlohmann::json::array())) {
    ImageRequest image;
    image.name = entry.value("name", "");
    if (image.name.empty() || !names.insert(image.name).second)
      throw std::runtime_error("manifest " + manifest_path + ": every image needs a unique name");
    image.context = (base / entry.value("context", ".")).lexically_normal().string();
    image.dockerfile = (base / entry.value("dockerfile", image.context + "/Dockerfile"))
                           .lexically_normal()
                           .string();
    if (!fs::is_regular_file(image.dockerfile))
      throw std::runtime_error("manifest " + manifest_path + ": image " + image.name +
                               ": no Dockerfile at " + image.dockerfile);
    image.tags = NormalizedTags(entry.value("tags", std::vector<std::string>{}));
    image.build_args = entry.value("build_args", std::map<std::string, std::string>{});
    image.labels = entry.value("labels", std::map<std::string, std::string>{});
    image.target = entry.value("target", "");
    images.push_back(image);
  }
  if (images.empty()) throw std::runtime_error("manifest " + manifest_path + " lists no images");
  *dir = BuildDirectoryFor(store_root, manifest.string(), "manifest");
  return images;
}

/// Validates the flags, writes the build directory and returns it. Throws UsageError,
/// ReferenceError, DockerfileError or std::runtime_error.
PreparedBuild Prepare(BuildFlags& flags, const std::vector<std::string>& positional,
                      const std::string& command, const std::string& store_root) {
  if (!flags.platform.empty() && flags.platform != HostPlatform())
    throw std::runtime_error("platform " + flags.platform + " is not supported: kiln builds for " +
                             "the host platform (" + HostPlatform() + ") only");
  PreparedBuild build;
  if (flags.manifest.empty()) {
    build.request.images.push_back(
        ImageFromFlags(flags, positional, command, store_root, &build.dir));
  } else {
    build.request.images = ImagesFromManifest(flags.manifest, store_root, &build.dir);
    for (const std::string& name : positional) {
      bool known = false;
      for (const ImageRequest& image : build.request.images) known |= image.name == name;
      if (!known) throw std::runtime_error("manifest " + flags.manifest + " has no image " + name);
    }
    build.targets = positional;
  }
  for (ImageRequest& image : build.request.images)
    image.platform = flags.platform.empty() ? HostPlatform() : flags.platform;
  if (!flags.output_dir.empty()) build.dir = fs::absolute(flags.output_dir);

  build.request.store_root = store_root;
  build.request.network = flags.network;
  if (flags.network != "default" && flags.network != "none" && flags.network != "host")
    throw UsageError("invalid --network \"" + flags.network + "\": expected default, none or host");
  build.request.run_jobs =
      flags.jobs > 0 ? flags.jobs : static_cast<int>(std::thread::hardware_concurrency());
  std::string epoch = flags.epoch;
  if (epoch.empty())
    if (const char* env = std::getenv("SOURCE_DATE_EPOCH")) epoch = env;
  if (!epoch.empty()) {
    try {
      size_t used = 0;
      build.request.source_date_epoch = std::stoll(epoch, &used);
      if (used != epoch.size()) throw std::invalid_argument(epoch);
    } catch (const std::exception&) {
      throw UsageError("invalid SOURCE_DATE_EPOCH \"" + epoch + "\": expected seconds since 1970");
    }
  }
  for (const std::string& s : flags.secrets) AddSecret(s, build.request.secrets, build.dir);

  StoreImageResolver resolver(store_root);
  build.graphs = GenerateBuildDirectory(build.dir, build.request, &resolver, &build.hashing);
  return build;
}

/// Hashes the build's contexts, then runs ninja on the build directory's driver file, feeding
/// step events to `display`. Steps say why they ran only when `explain`. Returns ninja's exit
/// status and, in `ninja_output`, what ninja itself printed (for failures outside steps).
int RunNinja(const PreparedBuild& build, ProgressDisplay* display, bool no_cache, bool explain,
             std::string* ninja_output) {
  const fs::path& dir = build.dir;
  // Two builds of the same build directory take turns: ninja's log and stamps are not shared.
  const int lock = open((dir / "build.lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (lock < 0 || flock(lock, LOCK_EX) != 0)
    throw std::runtime_error("cannot lock the build directory " + dir.string());
  struct LockCloser {
    int fd;
    ~LockCloser() { close(fd); }
  } closer{lock};
  // In this process rather than as ninja's first edge: one program start less per build.
  for (const HashEdge& edge : build.hashing) {
    std::vector<std::pair<const StepGraph*, std::string>> selections;
    for (const HashSelection& s : edge.selections)
      selections.emplace_back(&build.graphs.at(s.image), s.steps);
    HashInputSets(dir, selections);
  }
  // When nothing ninja looks at changed since it last finished, it would only say so.
  if (!no_cache && NinjaIsUpToDate(dir, kDriverNinjaFile, build.targets)) return 0;
  ForgetNinjaFingerprint(dir);  // a failed or interrupted run must never look up to date
  int events[2], output[2];
  if (pipe(events) != 0 || pipe2(output, O_CLOEXEC) != 0)
    throw std::runtime_error("cannot create a pipe");
  fcntl(events[0], F_SETFD, FD_CLOEXEC);
  const pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("cannot start ninja");
  if (pid == 0) {
    dup2(output[1], 1);
    dup2(output[1], 2);
    setenv("KILN_EVENTS_FD", std::to_string(events[1]).c_str(), 1);
    setenv("NINJA_STATUS", kNinjaStatusMarker, 1);
    if (no_cache) setenv("KILN_NO_CACHE", "1", 1);
    if (explain) setenv("KILN_EXPLAIN", "1", 1);
    std::vector<std::string> argv = {"ninja",
                                     "-C",
                                     dir.string(),
                                     "-f",
                                     kDriverNinjaFile,
                                     "-j",
                                     std::to_string(build.request.run_jobs)};
    argv.insert(argv.end(), build.targets.begin(), build.targets.end());
    std::vector<char*> c_argv;
    for (std::string& a : argv) c_argv.push_back(a.data());
    c_argv.push_back(nullptr);
    execvp("ninja", c_argv.data());
    std::perror("kiln: cannot run ninja");
    _exit(127);
  }
  close(events[1]);
  close(output[1]);

  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  std::thread ticker([&] {
    std::unique_lock<std::mutex> lock(mu);
    while (!cv.wait_for(lock, std::chrono::milliseconds(100), [&] { return done; }))
      if (display) display->Tick();
  });
  std::string pending;
  pollfd fds[2] = {{events[0], POLLIN, 0}, {output[0], POLLIN, 0}};
  int open_fds = 2;
  char buf[8192];
  while (open_fds > 0) {
    if (poll(fds, 2, -1) < 0) continue;
    for (pollfd& p : fds) {
      if (p.fd < 0 || !(p.revents & (POLLIN | POLLHUP))) continue;
      const ssize_t n = read(p.fd, buf, sizeof buf);
      if (n <= 0) {
        close(p.fd);
        p.fd = -1;
        --open_fds;
        continue;
      }
      if (p.fd == output[0]) {
        ninja_output->append(buf, n);
        continue;
      }
      pending.append(buf, n);
      for (size_t nl; (nl = pending.find('\n')) != std::string::npos;) {
        const std::string line = pending.substr(0, nl);
        pending.erase(0, nl + 1);
        if (!display) continue;
        try {
          display->OnEvent(nlohmann::json::parse(line));
        } catch (const nlohmann::json::exception&) {
        }
      }
    }
  }
  int status = 0;
  waitpid(pid, &status, 0);
  {
    std::lock_guard<std::mutex> lock(mu);
    done = true;
  }
  cv.notify_all();
  ticker.join();
  const int exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 1;
  if (exit_code == 0) RecordNinjaFingerprint(dir, kDriverNinjaFile, build.targets);
  return exit_code;
}

/// What ninja printed, less its own bookkeeping (failed edge names and command lines); what is
/// left are the messages of kiln's edges that failed outside a step (e.g. hashing).
std::string FilterNinjaOutput(const std::string& text) {
  std::string kept;
  std::istringstream in(text);
  bool skip_command = false;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("FAILED: ", 0) == 0) {
      skip_command = true;  // the next line is the command
      continue;
    }
    if (skip_command) {
      skip_command = false;
      continue;
    }
    if (line.rfind("ninja: ", 0) == 0 || line.empty()) continue;
    if (line.rfind(kNinjaStatusMarker, 0) == 0) continue;  // edge descriptions
    kept += line + "\n";
  }
  return kept;
}

std::vector<ProgressStep> ProgressSteps(const StepGraph& graph) {
  std::vector<ProgressStep> steps;
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

/// Ninja's image edge tags an image when it changes; a tag removed since (`kiln rmi`) is put
/// back here, as `docker build -t` always leaves its tags in place.
void EnsureTags(const std::string& store_root, const std::string& id,
                const std::vector<std::string>& tags) {
  ImageStore store(store_root);
  for (const std::string& tag : tags) {
    const Reference ref = ParseReference(tag);
    if (store.ImageForTag(ref) != id) store.Tag(id, ref);
  }
}

int ReportError(const std::string& command, const std::exception& e) {
  if (dynamic_cast<const UsageError*>(&e)) {
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
    PreparedBuild build = Prepare(flags, positional, "build", store_root);
    std::vector<ProgressStep> steps;
    for (const StepGraph& graph : build.graphs) {
      for (const std::string& w : graph.warnings) std::fprintf(stderr, "%s\n", w.c_str());
      for (ProgressStep& step : ProgressSteps(graph)) steps.push_back(std::move(step));
    }

    if (flags.no_cache) fs::remove_all(build.dir / "steps");
    const bool live = flags.progress == "tty" || (flags.progress == "auto" && isatty(2));
    std::unique_ptr<ProgressDisplay> display;
    if (!flags.quiet)
      display = std::make_unique<ProgressDisplay>(stderr, std::move(steps), live, flags.explain);
    std::string ninja_output;
    const int status = RunNinja(build, display.get(), flags.no_cache, flags.explain && !flags.quiet,
                                &ninja_output);
    if (display) display->Finish(status == 0);
    if (status != 0) {
      std::fputs(FilterNinjaOutput(ninja_output).c_str(), stderr);
      return 1;
    }
    for (const ImageRequest& image : build.request.images) {
      if (!build.targets.empty() &&
          std::find(build.targets.begin(), build.targets.end(), image.name) == build.targets.end())
        continue;
      std::string id = ReadWholeFile(build.dir / IidFile(image.name));
      while (!id.empty() && id.back() == '\n') id.pop_back();
      EnsureTags(store_root, id, image.tags);
      if (flags.quiet) {
        std::printf("%s\n", id.c_str());
      } else {
        std::fprintf(stderr, "writing image %s done\n", id.c_str());
        for (const std::string& tag : image.tags)
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
    PreparedBuild build = Prepare(flags, positional, "generate", store_root);
    for (const StepGraph& graph : build.graphs)
      for (const std::string& w : graph.warnings) std::fprintf(stderr, "%s\n", w.c_str());
    std::printf("%s\n", (build.dir / kNinjaFile).c_str());
    return 0;
  } catch (const DockerfileError& e) {
    std::fprintf(stderr, "ERROR: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    return ReportError("generate", e);
  }
}

}  // namespace kiln::cli
