#include "engine/step_executor.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>

#include "engine/base/hash.h"
#include "engine/context/copy_plan.h"
#include "engine/layers/layer_applier.h"
#include "engine/layers/layer_writer.h"
#include "engine/layers/libarchive_api.h"
#include "engine/run/container_runtime.h"
#include "engine/run/overlay_mount.h"
#include "engine/run/run_mounts.h"
#include "engine/run/user_db.h"
#include "engine/store/image_config.h"
#include "engine/store/image_rootfs.h"
#include "engine/store/image_store.h"
#include "engine/store/scratch_dir.h"
#include "engine/store/step_cache.h"

namespace kiln {
namespace fs = std::filesystem;
namespace {

/// An image as a step sees it: its config and its layers, bottom-most first.
struct Image {
  std::string id;  ///< "" for the empty image
  nlohmann::json config;
  std::vector<Descriptor> layers;
};

Image EmptyImage() {
  return {"", EmptyImageConfig(), {}};
}

Image LoadImage(ImageStore& store, const std::string& id) {
  if (id.empty()) return EmptyImage();
  Image image;
  image.id = id;
  image.config = store.ReadConfig(id);
  image.layers = store.ReadManifest(id).layers;
  return image;
}

/// The unpacked layers of `image`, top-most first, as overlay lower directories.
std::vector<fs::path> LowerDirs(ImageStore& store, const Image& image) {
  return UnpackedLowerDirs(store, image.layers);
}

/// Writes the tree under `root` as a layer blob of the store.
Descriptor CommitLayer(ImageStore& store, const fs::path& root, const LayerOptions& options,
                       std::string* diff_id) {
  BlobWriter blob = store.blobs().NewBlob();
  const LayerBlob layer = WriteLayer(root, blob.fd(), options);
  *diff_id = layer.diff_id;
  // The store keeps layers uncompressed: the blob digest is the diff_id.
  return blob.Commit(kMediaTypeLayer, Digest::Parse(layer.diff_id));
}

/// Sets every mtime under `root` later than `epoch` to `epoch`, as the layer writer does.
void ClampMtimes(const fs::path& root, int64_t epoch) {
  const struct timespec times[2] = {{0, UTIME_OMIT}, {static_cast<time_t>(epoch), 0}};
  for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator();
       ++it) {
    struct stat st;
    if (::lstat(it->path().c_str(), &st) == 0 && st.st_mtime >= epoch)
      ::utimensat(AT_FDCWD, it->path().c_str(), times, AT_SYMLINK_NOFOLLOW);
  }
}

bool IsEmptyDir(const fs::path& dir) {
  return fs::is_empty(dir);
}

bool CmdSetEarlierInStage(const StepGraph& graph, const Step& step) {
  for (int id : graph.stages.at(step.stage).steps) {
    if (id == step.id) break;
    if (graph.steps[id].instruction == "CMD") return true;
  }
  return false;
}

/// The parts of a step's cache key, named for --explain.
std::map<std::string, std::string> KeyParts(const StepInputs& in, const Step& step,
                                            const StepSettings& settings) {
  std::map<std::string, std::string> parts;
  if (in.parent) parts["parent"] = in.parent->content_key;
  parts["instruction"] = StepKeyText(step);
  if (!in.inputs_digest.empty()) parts["inputs"] = in.inputs_digest;
  for (const auto& [stage, record] : in.stages)
    parts["stage " + std::to_string(stage)] = record.content_key;
  for (const auto& [name, value] : step.build_args) parts["arg " + name] = value;
  if (settings.source_date_epoch) parts["epoch"] = std::to_string(*settings.source_date_epoch);
  return parts;
}

std::string KeyOf(const std::map<std::string, std::string>& parts) {
  CacheKeyHasher h;
  h.AddField("kiln-step-1");
  for (const auto& [name, value] : parts) {
    h.AddField(name);
    h.AddField(value);
  }
  return h.HexDigest();
}

class StepRun {
 public:
  StepRun(ImageStore& store, const StepInputs& in, const StepSettings& settings)
      : store_(store),
        in_(in),
        graph_(*in.graph),
        step_(graph_.steps.at(in.step)),
        settings_(settings),
        created_(CreatedTime(settings.source_date_epoch)) {}

  StepRecord Run() {
    if (step_.kind == StepKind::kFrom) return From();
    StepRecord record;
    record.key_parts = KeyParts(in_, step_, settings_);
    record.cache_key = KeyOf(record.key_parts);
    if (!settings_.no_cache) {
      if (std::optional<Digest> id = StepCache(store_).Get(record.cache_key)) {
        record.image_id = id->String();
        record.content_key = ContentKey(store_.ReadConfig(record.image_id));
        record.cached = true;
        return record;
      }
    }
    // Steps that may write a layer: loading libarchive overlaps the copy or the container run.
    if (step_.kind == StepKind::kRun || step_.kind == StepKind::kCopy ||
        step_.kind == StepKind::kAdd)
      PreloadLibArchive();
    Image image = LoadImage(store_, in_.parent ? in_.parent->image_id : "");
    switch (step_.kind) {
      case StepKind::kRun:
        Execute(image);
        break;
      case StepKind::kCopy:
      case StepKind::kAdd:
        Copy(image);
        break;
      case StepKind::kWorkdir:
        Workdir(image);
        break;
      default:
        Config(image);
        break;
    }
    const Digest id = Commit(image);
    record.image_id = id.String();
    record.content_key = ContentKey(image.config);
    StepCache(store_).Put(record.cache_key, id);
    return record;
  }

 private:
  StepRecord From() {
    StepRecord record;
    if (step_.base_stage >= 0) {
      record = in_.stages.at(step_.base_stage);
    } else if (step_.base_image == "scratch") {
      record.content_key = ContentKey(EmptyImageConfig());
    } else {
      std::optional<ImageRecord> found = store_.FindImage(step_.base_image);
      if (!found)
        throw StepError("FROM " + step_.base_image + ": no such image in the local store; " +
                        "build, load or import it first");
      record.image_id = found->id;
      record.content_key = "image " + found->id;
    }
    record.cached = true;
    record.key_parts = {{"base", record.content_key}};
    record.cache_key = KeyOf(record.key_parts);
    return record;
  }

  void Config(Image& image) {
    ApplyConfigStep(step_, image.config, CmdSetEarlierInStage(graph_, step_));
    AddHistory(image.config, created_, HistoryCreatedBy(step_, image.config), true);
  }

  void Workdir(Image& image) {
    ApplyConfigStep(step_, image.config, false);
    const std::vector<fs::path> lowers = LowerDirs(store_, image);
    const std::string relative = step_.value == "/" ? "" : step_.value.substr(1);
    if (relative.empty() || FindInLayers(lowers, relative)) {
      AddHistory(image.config, created_, HistoryCreatedBy(step_, image.config), true);
      return;
    }
    // Docker creates a missing WORKDIR; the new directories are the step's layer.
    ScratchDir scratch(store_, "step");
    fs::create_directories(scratch.path() / "tree" / relative);
    AddLayer(image, scratch.path() / "tree", LayerOptions{settings_.source_date_epoch},
             /*adopt=*/true);
  }

  void Copy(Image& image) {
    ScratchDir scratch(store_, "step");
    const std::vector<fs::path> lowers = LowerDirs(store_, image);
    WritableRootfs dest_view(lowers, scratch.path() / "dest");

    CopyRequest request;
    request.instruction = step_.instruction;
    for (const std::string& source : step_.sources)
      if (!IsHeredocSource(source)) request.sources.push_back(source);
    request.inline_files = step_.inline_files;
    request.destination = step_.destination;
    request.workdir = WorkingDir(image);
    request.excludes = step_.excludes;
    request.parents = step_.parents;
    request.checksum = step_.checksum;
    request.matcher = settings_.matcher;
    request.existing = LookupInRootfs(dest_view.root());
    if (settings_.source_date_epoch) request.created_time = settings_.source_date_epoch;
    if (!step_.chmod.empty()) request.chmod = ParseChmod(step_.chmod);
    if (!step_.chown.empty()) {
      const ResolvedUser user = ResolveChown(ReadAccountFiles(dest_view.root()), step_.chown);
      request.uid = user.uid;
      request.gid = user.gid;
    }

    std::optional<WritableRootfs> source_view;
    if (step_.from_stage >= 0 || !step_.from_image.empty()) {
      const Image source = step_.from_stage >= 0
                               ? LoadImage(store_, in_.stages.at(step_.from_stage).image_id)
                               : ResolveImage(step_.from_image);
      source_view.emplace(LowerDirs(store_, source), scratch.path() / "source");
      request.source_root = source_view->root();
      request.from_context = false;
      request.matcher.excluded = nullptr;
      request.matcher.may_include_under = nullptr;
    } else {
      request.source_root = graph_.context;
    }
    fs::create_directories(scratch.path() / "work");
    StageCopy(request, scratch.path() / "tree", scratch.path() / "work");
    AddLayer(image, scratch.path() / "tree", LayerOptions{settings_.source_date_epoch},
             /*adopt=*/true);
  }

  void Execute(Image& image) {
    ScratchDir scratch(store_, "step");
    RunSpec spec;
    spec.args = RunArgv(step_, image.config);
    spec.lower_dirs = LowerDirs(store_, image);
    spec.cwd = WorkingDir(image);
    spec.network =
        step_.network.empty() || step_.network == "default" ? settings_.network : step_.network;
    spec.runtime = settings_.runtime;
    spec.work_root = scratch.path() / "run";
    spec.env = ImageEnv(image.config);
    for (const auto& [k, v] : step_.run_env) {
      // ENV wins over a build arg of the same name.
      bool set = false;
      for (const std::string& e : spec.env) set = set || e.rfind(k + "=", 0) == 0;
      if (!set) spec.env.push_back(k + "=" + v);
    }
    const std::string user = image.config["config"].value("User", "");
    const ResolvedUser resolved = ResolveUser(ReadAccountFiles(spec.lower_dirs), user);
    spec.uid = resolved.uid;
    spec.gid = resolved.gid;
    spec.additional_gids = resolved.additional_gids;
    spec.home = resolved.home;
    AttachHeredocs(spec);

    std::vector<std::unique_ptr<WritableRootfs>> bind_views;
    RunMountSources sources;
    sources.store_root = store_.root();
    sources.scratch = scratch.path() / "mounts";
    sources.secrets = {settings_.secrets.begin(), settings_.secrets.end()};
    sources.bind_source = [&](const RunMount& m) -> fs::path {
      auto source = m.options.find("source");
      const std::string sub = source == m.options.end() ? "" : source->second;
      fs::path root = graph_.context;
      if (m.from_stage >= 0 || !m.from_image.empty()) {
        const Image from = m.from_stage >= 0
                               ? LoadImage(store_, in_.stages.at(m.from_stage).image_id)
                               : ResolveImage(m.from_image);
        bind_views.push_back(std::make_unique<WritableRootfs>(
            LowerDirs(store_, from),
            scratch.path() / ("bind" + std::to_string(bind_views.size()))));
        root = bind_views.back()->root();
      }
      return root / CleanRelativePath(sub);
    };
    fs::create_directories(sources.scratch);
    std::unique_ptr<PreparedRunMounts> mounts = PrepareRunMounts(step_.mounts, sources);
    spec.mounts = mounts->mounts();
    spec.env.insert(spec.env.end(), mounts->env().begin(), mounts->env().end());

    const RunResult result = RunContainer(spec, settings_.output);
    mounts.reset();
    if (result.exit_code != 0)
      throw StepError(
          RunFailureReport(step_.text, spec.args, result.exit_code, result.output_tail));
    AddLayer(image, result.upper_dir,
             LayerOptions{settings_.source_date_epoch, /*overlay_upper=*/true});
  }

  /// RUN heredocs: a command that is only the heredoc runs its body as the script; otherwise
  /// the shell gets the heredoc text itself, as BuildKit does.
  void AttachHeredocs(RunSpec& spec) const {
    if (step_.inline_files.empty() || !step_.shell_form) return;
    const std::string command = step_.command.empty() ? "" : step_.command.front();
    std::string script = command;
    for (const InlineFile& f : step_.inline_files) script += "\n" + f.content + f.name;
    if (step_.inline_files.size() == 1 && command.find_first_not_of(" \t") != std::string::npos &&
        command.substr(command.find_first_not_of(" \t")).rfind("<<", 0) == 0 &&
        command.find(' ', command.find("<<")) == std::string::npos) {
      script = step_.inline_files.front().content;
    }
    spec.args.back() = script;
  }

  Image ResolveImage(const std::string& reference) {
    std::optional<ImageRecord> found = store_.FindImage(reference);
    if (!found) throw StepError(reference + ": no such image in the local store");
    return LoadImage(store_, found->id);
  }

  static std::string WorkingDir(const Image& image) {
    const std::string dir = image.config["config"].value("WorkingDir", "");
    return dir.empty() ? "/" : dir;
  }

  /// Appends the tree under `root` as a new layer, or an empty-layer history entry when the
  /// step changed no file. With `adopt`, `root` is a plain tree the step built (no whiteouts)
  /// and becomes the unpacked layer, so later steps need not unpack it.
  void AddLayer(Image& image, const fs::path& root, const LayerOptions& options,
                bool adopt = false) {
    const std::string created_by = HistoryCreatedBy(step_, image.config);
    if (!fs::exists(root) || IsEmptyDir(root)) {
      AddHistory(image.config, created_, created_by, true);
      return;
    }
    std::string diff_id;
    image.layers.push_back(CommitLayer(store_, root, options, &diff_id));
    image.config["rootfs"]["diff_ids"].push_back(diff_id);
    if (adopt) {
      // Unpacking the layer would clamp the times as the tar did.
      if (options.source_date_epoch) ClampMtimes(root, *options.source_date_epoch);
      store_.AdoptUnpackedLayer(image.layers.back().digest, root);
    }
    AddHistory(image.config, created_, created_by, false);
  }

  Digest Commit(Image& image) {
    image.config["created"] = created_;
    auto lock = store_.Lock();
    return store_.CommitImage(image.config, image.layers, in_.parent ? in_.parent->image_id : "",
                              /*intermediate=*/true);
  }

  ImageStore& store_;
  const StepInputs& in_;
  const StepGraph& graph_;
  const Step& step_;
  const StepSettings& settings_;
  const std::string created_;
};

}  // namespace

NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(StepRecord, cache_key, image_id, content_key,
                                                cached, key_parts)

nlohmann::json StepRecordToJson(const StepRecord& record) {
  return record;
}
StepRecord StepRecordFromJson(const nlohmann::json& json) {
  return json.get<StepRecord>();
}

StepRecord ExecuteStep(ImageStore& store, const StepInputs& inputs, const StepSettings& settings) {
  return StepRun(store, inputs, settings).Run();
}

std::string FinishImage(ImageStore& store, const std::string& image_id,
                        const std::map<std::string, std::string>& labels,
                        const std::optional<int64_t>& source_date_epoch) {
  Image image = LoadImage(store, image_id);
  if (labels.empty() && !image_id.empty()) {
    store.SetIntermediate(image_id, false);
    return image_id;
  }
  for (const auto& [k, v] : labels) image.config["config"]["Labels"][k] = v;
  image.config["created"] = CreatedTime(source_date_epoch);
  return store.CommitImage(image.config, image.layers, image_id, /*intermediate=*/false).String();
}

}  // namespace kiln
