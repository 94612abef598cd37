#include "cli/import_command.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <set>
#include <stdexcept>
#include <string_view>
#include <system_error>

#include "cli/command_errors.h"
#include "cli/flags.h"
#include "engine/base/atomic_file.h"
#include "engine/base/system_error.h"
#include "engine/layers/layer_applier.h"
#include "engine/layers/layer_writer.h"
#include "engine/store/image_config.h"
#include "engine/store/image_store.h"
#include "engine/store/reference.h"
#include "engine/store/scratch_dir.h"
#include "frontend/lowering.h"
#include "frontend/parser.h"
#include "frontend/step_graph.h"

namespace kiln::cli {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr const char* kUsage =
    "Usage:  kiln import [OPTIONS] file|- [REPOSITORY[:TAG]]\n\n"
    "Import the contents from a tarball to create a filesystem image\n\nOptions:\n"
    "  -c, --change list       Apply Dockerfile instruction to the created image\n"
    "  -m, --message string    Set commit message for imported image\n";

/// The instructions Docker's BuildFromConfig accepts for --change.
bool IsChangeCommand(const std::string& keyword) {
  static const std::set<std::string> allowed = {
      "CMD",     "ENTRYPOINT", "ENV",  "EXPOSE", "HEALTHCHECK", "LABEL",
      "ONBUILD", "STOPSIGNAL", "USER", "VOLUME", "WORKDIR"};
  return allowed.count(keyword) > 0;
}

std::string Lowercase(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

/// Stdin copied into a temporary file of the store (removed when this dies), since the layer
/// applier reads a file.
class StdinCopy {
 public:
  explicit StdinCopy(const ImageStore& store) : file_(store.root() / "tmp") {
    char buffer[1 << 16];
    for (;;) {
      const ssize_t n = ::read(STDIN_FILENO, buffer, sizeof buffer);
      if (n == 0) break;
      if (n < 0) {
        if (errno == EINTR) continue;
        ThrowErrno("cannot read stdin");
      }
      file_.Write(buffer, static_cast<size_t>(n));
    }
  }
  const fs::path& path() const { return file_.temp_path(); }

 private:
  AtomicFileWriter file_;  // never committed: the destructor removes it
};

/// Unpacks `tarball` and rewrites it as a deterministic layer blob (not yet committed), so that
/// the same tree imported twice gives the same diff_id whatever the tarball's compression and
/// entry order. Entries escaping the root make ApplyLayer throw before anything is stored.
std::pair<BlobWriter, LayerBlob> NormalizedLayer(const ImageStore& store, const fs::path& tarball,
                                                 const std::string& source_name) {
  ScratchDir tree(store, "import");
  const fs::path rootfs = tree.path() / "rootfs";
  try {
    ApplyLayer(tarball, rootfs, WhiteoutMode::kApply);
  } catch (const LayerError& e) {
    throw std::runtime_error("cannot import " + source_name + ": " + e.what());
  }
  BlobWriter blob = store.blobs().NewBlob();
  const LayerBlob layer = WriteLayer(rootfs, blob.fd(), LayerOptions{});
  return {std::move(blob), layer};
}

std::optional<Reference> TargetReference(const std::vector<std::string>& positional) {
  if (positional.size() < 2) return std::nullopt;
  Reference ref = ParseReference(positional[1]);
  if (!ref.digest.empty())
    throw std::invalid_argument("refusing to create a tag with a digest reference");
  return ref;
}

int Import(const std::vector<std::string>& args) {
  std::vector<std::string> changes;
  std::string message;
  FlagSet flags;
  flags.Strings("change", 'c', &changes);
  flags.String("message", 'm', &message);
  const std::vector<std::string> positional = flags.Parse(args);
  if (flags.help_requested()) {
    std::fputs(kUsage, stdout);
    return 0;
  }
  if (positional.empty() || positional.size() > 2)
    throw UsageError("\"kiln import\" requires at least 1 and at most 2 arguments.");
  const std::string& source = positional[0];
  // Everything that can be checked without the tarball is, before the store is touched.
  const std::optional<Reference> target = TargetReference(positional);
  json config = ConfigWithChanges(changes);
  if (IsUrlSource(source))
    throw std::runtime_error("importing from a URL is not supported: download " + source +
                             " and import the file");
  if (source != "-" && !fs::exists(source))
    throw std::runtime_error("open " + source + ": no such file or directory");
  if (source != "-" && fs::is_directory(source))
    throw std::runtime_error("read " + source + ": is a directory");

  ImageStore store(ImageStore::DefaultRoot());
  std::optional<StdinCopy> stdin_copy;
  if (source == "-") stdin_copy.emplace(store);
  auto [blob, layer] =
      NormalizedLayer(store, stdin_copy ? stdin_copy->path() : fs::path(source), source);

  // Docker's CLI sends a file as the request body, so its daemon names every local source "-".
  if (message.empty()) message = "Imported from -";
  const std::string created = CreatedTime(std::nullopt);
  config["created"] = created;
  config["comment"] = message;
  config["rootfs"]["diff_ids"] = json::array({layer.diff_id});
  config["history"] = json::array({{{"created", created}, {"comment", message}}});

  StoreLock lock = store.Lock();
  // The store keeps layers uncompressed: the blob digest is the diff_id.
  const Descriptor descriptor = blob.Commit(kMediaTypeLayer, Digest::Parse(layer.diff_id));
  const std::string id =
      store.CommitImage(config, {descriptor}, "", /*intermediate=*/false).String();
  if (target) store.Tag(id, *target);
  std::printf("%s\n", id.c_str());
  return 0;
}

}  // namespace

json ConfigWithChanges(const std::vector<std::string>& changes) {
  json image = EmptyImageConfig();
  if (changes.empty()) return image;
  std::string text;
  for (const std::string& change : changes) text += change + "\n";
  SyntaxTree tree = ParseDockerfile(text, "--change");
  for (const Node& node : tree.instructions)
    if (!IsChangeCommand(node.instruction))
      throw std::invalid_argument(Lowercase(node.instruction) + " is not a valid change command");
  // Lowering gives the changes Docker's expansion (ENV in scope) and validation; they apply to
  // an empty image, as a stage on scratch.
  Node from;
  from.instruction = "FROM";
  from.form = ArgForm::kWords;
  from.args = {"scratch"};
  tree.instructions.insert(tree.instructions.begin(), from);
  const StepGraph graph = LowerDockerfile(tree, LowerOptions{});
  bool cmd_set = false;
  for (const Step& step : graph.steps) {
    if (step.kind == StepKind::kFrom) continue;
    ApplyConfigStep(step, image, cmd_set);
    cmd_set = cmd_set || step.instruction == "CMD";
  }
  return image;
}

int RunImportCommand(const std::vector<std::string>& args) {
  return RunReportingErrors("import", [&] { return Import(args); });
}

}  // namespace kiln::cli
