#include "cli/image_commands.h"

#include <fnmatch.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <map>
#include <optional>
#include <set>

#include "cli/command_errors.h"
#include "cli/flags.h"
#include "cli/go_template.h"
#include "cli/image_format.h"
#include "cli/import_command.h"
#include "engine/store/image_deleter.h"
#include "engine/store/image_store.h"
#include "engine/store/reference.h"
#include "engine/store/store_maintenance.h"

#if __has_include("cli/container_inspect.h")
#include "cli/container_inspect.h"
#define KILN_HAVE_CONTAINER_INSPECT 1
#endif

namespace kiln::cli {
namespace {

using nlohmann::json;

/// A user error: printed as "Error: <message>", exit 1.
class CommandError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

int64_t Now() {
  return static_cast<int64_t>(std::time(nullptr));
}

/// Parses flags; prints `usage` and returns true when --help was asked.
bool ParseOrHelp(FlagSet& flags, const std::vector<std::string>& args, const char* usage,
                 std::vector<std::string>* positional) {
  *positional = flags.Parse(args);
  if (flags.help_requested()) std::fputs(usage, stdout);
  return flags.help_requested();
}

/// The image's size as Docker reports it: the sum of its layers' sizes.
int64_t ImageSize(const ImageStore& store, const std::string& id) {
  int64_t size = 0;
  for (const Descriptor& layer : store.ReadManifest(id).layers) size += layer.size;
  return size;
}

int64_t CreatedSeconds(const ImageRecord& r) {
  return ParseRfc3339(r.created).value_or(0);
}

/// Creation time with its fraction: images built within one second still order.
int64_t CreatedNanos(const ImageRecord& r) {
  return ParseRfc3339Nanos(r.created).value_or(0);
}

/// Newest first, as Docker sorts images.
void SortNewestFirst(std::vector<ImageRecord>& images) {
  std::stable_sort(images.begin(), images.end(), [](const ImageRecord& a, const ImageRecord& b) {
    const int64_t ca = CreatedNanos(a), cb = CreatedNanos(b);
    return ca != cb ? ca > cb : a.created > b.created;
  });
}

ImageRecord RequireImage(const ImageStore& store, const std::string& name) {
  std::optional<ImageRecord> image = store.FindImage(name);
  if (!image) throw CommandError("No such image: " + name);
  return *image;
}

/// Image id → its tags.
std::map<std::string, std::vector<Reference>> TagsById(const ImageStore& store) {
  std::map<std::string, std::vector<Reference>> tags;
  for (auto& [ref, id] : store.ListTags()) tags[id].push_back(ref);
  return tags;
}

// --- images -------------------------------------------------------------------------------------

constexpr const char* kImagesUsage =
    "Usage:  kiln images [OPTIONS] [REPOSITORY[:TAG]]\n\nList images\n\nOptions:\n"
    "  -a, --all             Show all images (default hides intermediate images)\n"
    "      --digests         Show digests\n"
    "  -f, --filter filter   Filter output based on conditions provided\n"
    "      --format string   Format output using a custom template\n"
    "      --no-trunc        Don't truncate output\n"
    "  -q, --quiet           Only show image IDs\n";

/// `label=` / `label!=` values: KEY or KEY=VALUE.
using LabelFilters = std::vector<std::pair<std::string, std::optional<std::string>>>;

struct ImageFilters {
  std::optional<bool> dangling;
  std::vector<std::string> references;
  LabelFilters labels;
  LabelFilters not_labels;  // label!=
  std::optional<int64_t> before;
  std::optional<int64_t> since;
  std::optional<int64_t> until;  // nanoseconds
};

/// The filters `kiln images` and `kiln image prune` accept, as Docker's daemon validates them.
const std::set<std::string> kImagesFilterKeys = {"dangling", "reference", "label", "before",
                                                 "since"};
const std::set<std::string> kPruneFilterKeys = {"dangling", "label", "label!", "until"};

void AddLabelFilter(LabelFilters& filters, const std::string& value) {
  const size_t eq = value.find('=');
  if (eq == std::string::npos)
    filters.emplace_back(value, std::nullopt);
  else
    filters.emplace_back(value.substr(0, eq), value.substr(eq + 1));
}

ImageFilters ParseImageFilters(const ImageStore& store, const std::vector<std::string>& specs,
                               const std::set<std::string>& accepted) {
  ImageFilters f;
  for (const std::string& spec : specs) {
    const size_t eq = spec.find('=');
    if (eq == std::string::npos) throw CommandError("bad format of filter (expected name=value)");
    const std::string key = spec.substr(0, eq), value = spec.substr(eq + 1);
    if (!accepted.count(key)) throw CommandError("invalid filter '" + key + "'");
    if (key == "dangling") {
      if (value != "true" && value != "false" && value != "1" && value != "0")
        throw CommandError("invalid filter 'dangling=" + value + "'");
      f.dangling = value == "true" || value == "1";
    } else if (key == "reference") {
      f.references.push_back(value);
    } else if (key == "label" || key == "label!") {
      AddLabelFilter(key == "label" ? f.labels : f.not_labels, value);
    } else if (key == "before" || key == "since") {
      const int64_t t = CreatedNanos(RequireImage(store, value));
      (key == "before" ? f.before : f.since) = t;
    } else if (key == "until") {
      const auto now = std::chrono::system_clock::now().time_since_epoch();
      f.until = ParseFilterTimestamp(
          value, std::chrono::duration_cast<std::chrono::nanoseconds>(now).count());
      if (!f.until)
        throw CommandError("failed to parse value as time or duration: \"" + value + "\"");
    } else {
      throw CommandError("invalid filter '" + key + "'");
    }
  }
  return f;
}

bool MatchesReference(const std::vector<std::string>& patterns, const Reference& ref) {
  for (const std::string& p : patterns) {
    if (fnmatch(p.c_str(), ref.FamiliarName().c_str(), 0) == 0) return true;
    if (fnmatch(p.c_str(), ref.Familiar().c_str(), 0) == 0) return true;
  }
  return false;
}

/// Docker's filters.MatchKVList: every filter names a label the image has (with that value when
/// given).
bool AllLabelsMatch(const LabelFilters& filters, const json& labels) {
  for (const auto& [key, value] : filters) {
    if (!labels.is_object() || !labels.contains(key)) return false;
    if (value && labels[key] != *value) return false;
  }
  return true;
}

/// `label=` filters all match and, when there are `label!=` filters, not all of those match
/// (Docker's matchLabels).
bool MatchesLabels(const ImageFilters& f, const json& config) {
  if (f.labels.empty() && f.not_labels.empty()) return true;
  const json labels = config.contains("config") && config["config"].contains("Labels")
                          ? config["config"]["Labels"]
                          : json::object();
  if (!AllLabelsMatch(f.labels, labels)) return false;
  return f.not_labels.empty() || !AllLabelsMatch(f.not_labels, labels);
}

json ImageRow(const ImageRecord& image, const std::optional<Reference>& tag, int64_t size,
              bool no_trunc, int64_t now) {
  const std::string created_at = GoTimeString(CreatedSeconds(image));
  return {{"Containers", "N/A"},
          {"CreatedAt", created_at},
          {"CreatedSince", CreatedSince(image.created, now)},
          {"Digest", image.manifest_digest.empty() ? "<none>" : image.manifest_digest},
          {"ID", no_trunc ? image.id : ShortId(image.id)},
          {"Repository", tag ? tag->FamiliarName() : "<none>"},
          {"SharedSize", "N/A"},
          {"Size", HumanSize(static_cast<double>(size))},
          {"Tag", tag ? tag->tag : "<none>"},
          {"UniqueSize", "N/A"},
          {"VirtualSize", HumanSize(static_cast<double>(size))}};
}

const json& ImageHeader() {
  static const json header = {{"Containers", "CONTAINERS"},
                              {"CreatedAt", "CREATED AT"},
                              {"CreatedSince", "CREATED"},
                              {"Digest", "DIGEST"},
                              {"ID", "IMAGE ID"},
                              {"Repository", "REPOSITORY"},
                              {"SharedSize", "SHARED SIZE"},
                              {"Size", "SIZE"},
                              {"Tag", "TAG"},
                              {"UniqueSize", "UNIQUE SIZE"},
                              {"VirtualSize", "VIRTUAL SIZE"}};
  return header;
}

int Images(const std::vector<std::string>& args) {
  bool all = false, quiet = false, digests = false, no_trunc = false;
  std::vector<std::string> filter_specs;
  std::string format;
  FlagSet flags;
  flags.Bool("all", 'a', &all);
  flags.Bool("quiet", 'q', &quiet);
  flags.Bool("digests", 0, &digests);
  flags.Bool("no-trunc", 0, &no_trunc);
  flags.Strings("filter", 'f', &filter_specs);
  flags.String("format", 0, &format);
  std::vector<std::string> positional;
  if (ParseOrHelp(flags, args, kImagesUsage, &positional)) return 0;
  if (positional.size() > 1) throw UsageError("\"kiln images\" requires at most 1 argument.");
  std::optional<Reference> wanted;
  if (!positional.empty()) wanted = ParseReference(positional[0], /*default_tag=*/false);

  ImageStore store(ImageStore::DefaultRoot());
  const ImageFilters filters = ParseImageFilters(store, filter_specs, kImagesFilterKeys);
  auto tags = TagsById(store);
  std::vector<ImageRecord> images = store.ListImages();
  SortNewestFirst(images);
  const int64_t now = Now();

  std::vector<json> rows;
  std::vector<std::string> ids;
  for (const ImageRecord& image : images) {
    const std::vector<Reference>& image_tags = tags[image.id];
    if (!all && image.intermediate && image_tags.empty()) continue;
    if (filters.dangling && *filters.dangling != image_tags.empty()) continue;
    const int64_t created = CreatedNanos(image);
    if (filters.before && created >= *filters.before) continue;
    if (filters.since && created <= *filters.since) continue;
    if ((!filters.labels.empty() || !filters.not_labels.empty()) &&
        !MatchesLabels(filters, store.ReadConfig(image.id)))
      continue;
    std::vector<std::optional<Reference>> shown;
    for (const Reference& ref : image_tags) {
      if (wanted &&
          (ref.Name() != wanted->Name() || (!wanted->tag.empty() && ref.tag != wanted->tag)))
        continue;
      if (!filters.references.empty() && !MatchesReference(filters.references, ref)) continue;
      shown.push_back(ref);
    }
    if (image_tags.empty() && !wanted && filters.references.empty()) shown.push_back(std::nullopt);
    if (shown.empty()) continue;
    const int64_t size = ImageSize(store, image.id);
    for (const auto& tag : shown) rows.push_back(ImageRow(image, tag, size, no_trunc, now));
    ids.push_back(no_trunc ? image.id : ShortId(image.id));
  }

  if (quiet) {
    for (const std::string& id : ids) std::printf("%s\n", id.c_str());
    return 0;
  }
  if (format == "json") {
    for (const json& row : rows) std::printf("%s\n", row.dump().c_str());
    return 0;
  }
  if (format.empty() || format == "table") {
    format =
        digests
            ? "table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}"
            : "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}";
  }
  std::fputs(RenderRows(GoTemplate(format), ImageHeader(), rows).c_str(), stdout);
  return 0;
}

// --- inspect ------------------------------------------------------------------------------------

constexpr const char* kInspectUsage =
    "Usage:  kiln inspect [OPTIONS] NAME|ID [NAME|ID...]\n\n"
    "Return low-level information on images and containers\n\nOptions:\n"
    "  -f, --format string   Format output using a custom template\n"
    "  -s, --size            Display total file sizes if the type is container\n"
    "      --type string     Return JSON for specified type\n";

json OrNull(const json& config, const char* key) {
  return config.contains(key) ? config[key] : json(nullptr);
}

/// Docker's container.Config of an image: every key present, nulls for unset lists and maps.
json DockerConfig(const json& c) {
  json out = {{"Hostname", ""},
              {"Domainname", ""},
              {"User", c.value("User", "")},
              {"AttachStdin", false},
              {"AttachStdout", false},
              {"AttachStderr", false},
              {"Tty", false},
              {"OpenStdin", false},
              {"StdinOnce", false},
              {"Env", OrNull(c, "Env")},
              {"Cmd", OrNull(c, "Cmd")},
              {"Image", ""},
              {"Volumes", OrNull(c, "Volumes")},
              {"WorkingDir", c.value("WorkingDir", "")},
              {"Entrypoint", OrNull(c, "Entrypoint")},
              {"OnBuild", OrNull(c, "OnBuild")},
              {"Labels", OrNull(c, "Labels")}};
  for (const char* optional : {"ExposedPorts", "StopSignal", "Healthcheck", "Shell", "ArgsEscaped"})
    if (c.contains(optional)) out[optional] = c[optional];
  return out;
}

json InspectImage(const ImageStore& store, const ImageRecord& image) {
  const json config = store.ReadConfig(image.id);
  json repo_tags = json::array(), repo_digests = json::array();
  std::set<std::string> digest_names;
  for (const Reference& ref : store.TagsOf(image.id)) {
    repo_tags.push_back(ref.Familiar());
    if (!image.manifest_digest.empty() &&
        digest_names.insert(ref.FamiliarName() + "@" + image.manifest_digest).second)
      repo_digests.push_back(ref.FamiliarName() + "@" + image.manifest_digest);
  }
  json layers = json::array();
  if (config.contains("rootfs") && config["rootfs"].contains("diff_ids"))
    layers = config["rootfs"]["diff_ids"];
  json graph_data = nullptr;
  if (!layers.empty()) {
    std::string lower;
    for (size_t i = layers.size() - 1; i-- > 0;)
      lower += (lower.empty() ? "" : ":") + store.LayerDir(layers[i].get<Digest>()).string();
    graph_data = {{"UpperDir", store.LayerDir(layers.back().get<Digest>()).string()}};
    if (!lower.empty()) graph_data["LowerDir"] = lower;
  }
  json out = {{"Id", image.id},
              {"RepoTags", repo_tags},
              {"RepoDigests", repo_digests},
              {"Parent", image.parent},
              {"Comment", config.value("comment", "")},
              {"Created", image.created},
              {"DockerVersion", ""},
              {"Author", config.value("author", "")},
              {"Config", DockerConfig(config.value("config", json::object()))},
              {"Architecture", config.value("architecture", "")},
              {"Os", config.value("os", "")},
              {"Size", ImageSize(store, image.id)},
              {"GraphDriver", {{"Name", "overlay"}, {"Data", graph_data}}},
              {"RootFS", {{"Type", "layers"}, {"Layers", layers}}},
              {"Metadata", {{"LastTagTime", "0001-01-01T00:00:00Z"}}}};
  if (config.contains("variant")) out["Variant"] = config["variant"];
  return out;
}

std::optional<json> InspectContainer(const std::string& name, bool size) {
#ifdef KILN_HAVE_CONTAINER_INSPECT
  return InspectContainerJson(name, size);
#else
  (void)name;
  (void)size;
  return std::nullopt;
#endif
}

int Inspect(const std::vector<std::string>& args) {
  std::string type, format;
  bool size = false;
  FlagSet flags;
  flags.String("type", 0, &type);
  flags.String("format", 'f', &format);
  flags.Bool("size", 's', &size);
  std::vector<std::string> names;
  if (ParseOrHelp(flags, args, kInspectUsage, &names)) return 0;
  if (names.empty()) throw UsageError("\"kiln inspect\" requires at least 1 argument.");
  if (!type.empty() && type != "image" && type != "container")
    throw CommandError("\"" + type + "\" is not a valid value for --type");

  ImageStore store(ImageStore::DefaultRoot());
  std::vector<json> found;
  std::vector<std::string> errors;
  for (const std::string& name : names) {
    try {
      std::optional<json> object;
      if (type != "container") {
        if (auto image = store.FindImage(name)) object = InspectImage(store, *image);
      }
      if (!object && type != "image") object = InspectContainer(name, size);
      if (object) {
        found.push_back(std::move(*object));
      } else {
        errors.push_back(type == "image"       ? "No such image: " + name
                         : type == "container" ? "No such container: " + name
                                               : "No such object: " + name);
      }
    } catch (const std::exception& e) {
      errors.push_back(e.what());
    }
  }
  if (!format.empty()) {
    const GoTemplate tmpl(format);
    for (const json& object : found) std::printf("%s\n", tmpl.Execute(object).c_str());
  } else if (!found.empty() || errors.empty()) {
    std::printf("%s\n", json(found).dump(4).c_str());
  } else {
    std::printf("[]\n");
  }
  for (const std::string& e : errors) std::fprintf(stderr, "Error: %s\n", e.c_str());
  return errors.empty() ? 0 : 1;
}

// --- rmi ----------------------------------------------------------------------------------------

constexpr const char* kRmiUsage =
    "Usage:  kiln rmi [OPTIONS] IMAGE [IMAGE...]\n\nRemove one or more images\n\nOptions:\n"
    "  -f, --force      Force removal of the image\n"
    "      --no-prune   Do not delete untagged parents\n";

/// The line Docker prints for what a deletion did: "Untagged: app:latest", "Deleted: sha256:…".
std::string RemovalLine(const ImageRemoval& removal) {
  return (removal.kind == ImageRemoval::Kind::kUntagged ? "Untagged: " : "Deleted: ") +
         removal.name;
}

int Rmi(const std::vector<std::string>& args) {
  bool force = false, no_prune = false;
  FlagSet flags;
  flags.Bool("force", 'f', &force);
  flags.Bool("no-prune", 0, &no_prune);
  std::vector<std::string> names;
  if (ParseOrHelp(flags, args, kRmiUsage, &names)) return 0;
  if (names.empty()) throw UsageError("\"kiln rmi\" requires at least 1 argument.");
  ImageStore store(ImageStore::DefaultRoot());
  int status = 0;
  {
    StoreLock lock = store.Lock();
    ImageDeleter deleter(store);
    for (const std::string& name : names) {
      std::vector<ImageRemoval> done;
      try {
        deleter.Delete(name, force, !no_prune, done);
      } catch (const std::exception& e) {
        std::fprintf(stderr, "Error: %s\n", e.what());
        status = 1;
      }
      for (const ImageRemoval& removal : done) std::printf("%s\n", RemovalLine(removal).c_str());
    }
    GarbageCollectBlobs(store, std::chrono::seconds(0));
  }
  return status;
}

// --- tag ----------------------------------------------------------------------------------------

int Tag(const std::vector<std::string>& args) {
  FlagSet flags;
  std::vector<std::string> positional;
  if (ParseOrHelp(flags, args,
                  "Usage:  kiln tag SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]\n\n"
                  "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE\n",
                  &positional))
    return 0;
  if (positional.size() != 2) throw UsageError("\"kiln tag\" requires exactly 2 arguments.");
  ImageStore store(ImageStore::DefaultRoot());
  const ImageRecord image = RequireImage(store, positional[0]);
  const Reference target = ParseReference(positional[1]);
  if (!target.digest.empty())
    throw CommandError("refusing to create a tag with a digest reference");
  store.Tag(image.id, target);
  return 0;
}

// --- history ------------------------------------------------------------------------------------

constexpr const char* kHistoryUsage =
    "Usage:  kiln history [OPTIONS] IMAGE\n\nShow the history of an image\n\nOptions:\n"
    "      --format string   Format output using a custom template\n"
    "  -H, --human           Print sizes and dates in human readable format (default true)\n"
    "      --no-trunc        Don't truncate output\n"
    "  -q, --quiet           Only show image IDs\n";

int History(const std::vector<std::string>& args) {
  bool human = true, quiet = false, no_trunc = false;
  std::string format;
  FlagSet flags;
  flags.Bool("human", 'H', &human);
  flags.Bool("quiet", 'q', &quiet);
  flags.Bool("no-trunc", 0, &no_trunc);
  flags.String("format", 0, &format);
  std::vector<std::string> positional;
  if (ParseOrHelp(flags, args, kHistoryUsage, &positional)) return 0;
  if (positional.size() != 1) throw UsageError("\"kiln history\" requires exactly 1 argument.");
  ImageStore store(ImageStore::DefaultRoot());
  const ImageRecord image = RequireImage(store, positional[0]);

  // Docker attaches ids to history entries by walking the parent chain: the image itself owns
  // the newest entry, each parent the entries up to its own history length.
  std::map<size_t, std::string> id_at;  // history length → image id ending there
  for (std::optional<ImageRecord> r = image; r;
       r = r->parent.empty() ? std::nullopt : store.GetImage(r->parent)) {
    const json config = store.ReadConfig(r->id);
    const size_t n = config.contains("history") ? config["history"].size() : 0;
    if (!id_at.count(n)) id_at[n] = r->id;
  }
  const json config = store.ReadConfig(image.id);
  const json history = config.value("history", json::array());
  const json diff_ids =
      config.contains("rootfs") ? config["rootfs"].value("diff_ids", json::array()) : json::array();
  const Manifest manifest = store.ReadManifest(image.id);
  std::vector<int64_t> layer_sizes;
  for (const Descriptor& d : manifest.layers) layer_sizes.push_back(d.size);

  std::vector<json> rows;
  size_t layer = 0;
  const int64_t now = Now();
  for (size_t i = 0; i < history.size(); ++i) {
    const json& h = history[i];
    const bool empty = h.value("empty_layer", false);
    const int64_t size = empty || layer >= layer_sizes.size() ? 0 : layer_sizes[layer++];
    auto it = id_at.find(i + 1);
    std::string id = it == id_at.end() ? "<missing>" : it->second;
    if (id != "<missing>" && !no_trunc) id = ShortId(id);
    const std::string created = h.value("created", "");
    const std::string created_by = h.value("created_by", "");
    rows.push_back({{"ID", id},
                    {"CreatedSince", human ? CreatedSince(created, now) : created},
                    {"CreatedAt", created},
                    {"CreatedBy", no_trunc ? created_by : Ellipsis(created_by, 45)},
                    {"Size", human ? HumanSize(static_cast<double>(size)) : std::to_string(size)},
                    {"Comment", h.value("comment", "")}});
  }
  std::reverse(rows.begin(), rows.end());
  if (quiet) {
    for (const json& row : rows) std::printf("%s\n", row["ID"].get<std::string>().c_str());
    return 0;
  }
  if (format.empty() || format == "table")
    format = "table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}";
  if (format == "json") {
    for (const json& row : rows) std::printf("%s\n", row.dump().c_str());
    return 0;
  }
  const json header = {{"ID", "IMAGE"},
                       {"CreatedSince", "CREATED"},
                       {"CreatedAt", "CREATED AT"},
                       {"CreatedBy", "CREATED BY"},
                       {"Size", "SIZE"},
                       {"Comment", "COMMENT"}};
  std::fputs(RenderRows(GoTemplate(format), header, rows).c_str(), stdout);
  return 0;
}

// --- image prune --------------------------------------------------------------------------------

int Prune(const std::vector<std::string>& args) {
  bool all = false, force = false;
  std::vector<std::string> filter_specs;
  FlagSet flags;
  flags.Bool("all", 'a', &all);
  flags.Bool("force", 'f', &force);
  flags.Strings("filter", 0, &filter_specs);
  std::vector<std::string> positional;
  if (ParseOrHelp(flags, args,
                  "Usage:  kiln image prune [OPTIONS]\n\nRemove unused images\n\nOptions:\n"
                  "  -a, --all             Remove all unused images, not just dangling ones\n"
                  "      --filter filter   Provide filter values (e.g. \"until=<timestamp>\")\n"
                  "  -f, --force           Do not prompt for confirmation\n",
                  &positional))
    return 0;
  if (!positional.empty()) throw UsageError("\"kiln image prune\" accepts no arguments.");
  ImageStore store(ImageStore::DefaultRoot());
  const ImageFilters filters = ParseImageFilters(store, filter_specs, kPruneFilterKeys);
  if (filters.dangling) all = !*filters.dangling;
  if (!force) {
    std::fputs(all ? "WARNING! This will remove all images without at least one container "
                     "associated to them.\nAre you sure you want to continue? [y/N] "
                   : "WARNING! This will remove all dangling images.\nAre you sure you want to "
                     "continue? [y/N] ",
               stdout);
    std::fflush(stdout);
    std::string answer;
    std::getline(std::cin, answer);
    if (answer != "y" && answer != "Y" && answer != "yes") return 0;
  }
  StoreLock lock = store.Lock();
  ImageDeleter deleter(store);
  std::vector<ImageRemoval> done;
  std::vector<ImageRecord> images = store.ListImages();
  SortNewestFirst(images);
  for (const ImageRecord& image : images) {
    if (!store.GetImage(image.id)) continue;  // pruned with a child already
    const bool tagged = !store.TagsOf(image.id).empty();
    if (image.intermediate && !tagged) continue;  // goes with its child
    if (!all && tagged) continue;
    if (filters.until && CreatedNanos(image) > *filters.until) continue;
    if (!MatchesLabels(filters, store.ReadConfig(image.id))) continue;
    try {
      deleter.Prune(image.id, done);
    } catch (const std::exception&) {
      // a conflict keeps the image, as Docker's prune does
    }
  }
  const GcReport gc = GarbageCollectBlobs(store, std::chrono::seconds(0));
  if (!done.empty()) {
    std::printf("Deleted Images:\n");
    for (const ImageRemoval& removal : done) {
      std::string line = RemovalLine(removal);
      line[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(line[0])));
      std::printf("%s\n", line.c_str());
    }
    std::printf("\n");
  }
  std::printf("Total reclaimed space: %s\n",
              HumanSize(static_cast<double>(gc.bytes_freed)).c_str());
  return 0;
}

}  // namespace

int RunImagesCommand(const std::vector<std::string>& args) {
  return RunReportingErrors("images", [&] { return Images(args); });
}
int RunInspectCommand(const std::vector<std::string>& args) {
  return RunReportingErrors("inspect", [&] { return Inspect(args); });
}
int RunRmiCommand(const std::vector<std::string>& args) {
  return RunReportingErrors("rmi", [&] { return Rmi(args); });
}
int RunTagCommand(const std::vector<std::string>& args) {
  return RunReportingErrors("tag", [&] { return Tag(args); });
}
int RunHistoryCommand(const std::vector<std::string>& args) {
  return RunReportingErrors("history", [&] { return History(args); });
}

int RunImageCommand(const std::vector<std::string>& args) {
  static const std::map<std::string, std::function<int(const std::vector<std::string>&)>> sub = {
      {"ls", RunImagesCommand},
      {"list", RunImagesCommand},
      {"rm", RunRmiCommand},
      {"remove", RunRmiCommand},
      {"inspect", RunInspectCommand},
      {"tag", RunTagCommand},
      {"history", RunHistoryCommand},
      {"import", RunImportCommand},
      {"prune", [](const std::vector<std::string>& a) {
         return RunReportingErrors("image prune", [&] { return Prune(a); });
       }}};
  if (args.empty() || args[0] == "--help" || args[0] == "-h") {
    std::fputs(
        "Usage:  kiln image COMMAND\n\nManage images\n\nCommands:\n"
        "  history, import, inspect, ls, prune, rm, tag\n",
        args.empty() ? stderr : stdout);
    return args.empty() ? 2 : 0;
  }
  auto it = sub.find(args[0]);
  if (it == sub.end()) {
    std::fprintf(stderr, "kiln image: unknown command \"%s\"\n", args[0].c_str());
    return 2;
  }
  return it->second({args.begin() + 1, args.end()});
}

}  // namespace kiln::cli
