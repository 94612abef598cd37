#include "cli/system_command.h"

#include <sys/stat.h>

#include <cstdio>
#include <ctime>
#include <filesystem>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "cli/command_errors.h"
#include "cli/container_status.h"
#include "cli/flags.h"
#include "cli/go_template.h"
#include "cli/image_format.h"
#include "engine/store/container_store.h"
#include "engine/store/image_store.h"
#include "engine/store/store_maintenance.h"

namespace kiln::cli {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr const char* kUsage =
    "Usage:  kiln system COMMAND\n\n"
    "Manage kiln's store\n\n"
    "Commands:\n"
    "  check       Verify every blob against its digest and every image against its blobs\n"
    "  df          Show kiln disk usage\n";

int Check(const std::vector<std::string>& args) {
  FlagSet flags;
  const std::vector<std::string> positional = flags.Parse(args);
  if (flags.help_requested()) {
    std::fputs("Usage:  kiln system check\n\nVerify the store\n", stdout);
    return 0;
  }
  if (!positional.empty()) throw UsageError("\"kiln system check\" accepts no arguments.");
  ImageStore store(ImageStore::DefaultRoot());
  const CheckReport report = CheckStore(store);
  for (const std::string& p : report.problems) std::printf("problem: %s\n", p.c_str());
  for (const std::string& l : report.leftovers)
    std::printf("leftover temporary file: %s\n", l.c_str());
  if (!report.ok()) {
    std::fprintf(stderr, "Error: the store at %s has %zu problem(s)\n", store.root().c_str(),
                 report.problems.size());
    return 1;
  }
  std::printf("store %s is consistent\n", store.root().c_str());
  return 0;
}

// --- df ------------------------------------------------------------------------------------------

constexpr const char* kDfUsage =
    "Usage:  kiln system df [OPTIONS]\n\nShow kiln disk usage\n\nOptions:\n"
    "      --format string   Format output using a custom template:\n"
    "                        'table', 'table TEMPLATE', 'json' or 'TEMPLATE'\n"
    "  -v, --verbose         Show detailed information on space usage\n";

/// Bytes of the regular files under `path` (a file: its size), symlinks not followed.
int64_t DiskSize(const fs::path& path) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) return 0;
  if (!S_ISDIR(st.st_mode)) return S_ISREG(st.st_mode) ? st.st_size : 0;
  int64_t total = 0;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(
           path, fs::directory_options::skip_permission_denied, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (::lstat(it->path().c_str(), &st) == 0 && S_ISREG(st.st_mode)) total += st.st_size;
  }
  return total;
}

int64_t ModifiedSeconds(const fs::path& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0 ? static_cast<int64_t>(st.st_mtime) : 0;
}

std::string Human(int64_t bytes) {
  return HumanSize(static_cast<double>(bytes));
}

/// Docker's "<size> (<percent>%)", the percentage left out when there is nothing at all.
std::string Reclaimable(int64_t reclaimable, int64_t total) {
  if (total <= 0) return Human(reclaimable);
  return Human(reclaimable) + " (" + std::to_string(reclaimable * 100 / total) + "%)";
}

/// An image as `kiln images` lists it (top-level), with what disk usage needs.
struct ImageUsage {
  ImageRecord record;
  std::vector<Reference> tags;
  std::vector<Descriptor> layers;
  int64_t size = 0;
  int64_t shared_size = 0;  // layers (with everything below them) other listed images share
  int containers = 0;
};

/// One entry of kiln's build cache: what only speeds builds and runs up.
struct CacheUsage {
  std::string id;
  std::string type;
  int64_t size = 0;
  int64_t created = 0;
  bool in_use = false;
};

struct DiskUsage {
  std::vector<ImageUsage> images;
  int64_t layers_size = 0;  // distinct layer blobs of the listed images
  std::vector<ContainerRecord> containers;
  std::map<std::string, int64_t> container_sizes;
  std::vector<CacheUsage> cache;
};

/// The layers of every image, or nothing for one whose manifest cannot be read (`system check`
/// reports those).
std::map<std::string, std::vector<Descriptor>> LayersById(const ImageStore& store,
                                                          const std::vector<ImageRecord>& images) {
  std::map<std::string, std::vector<Descriptor>> layers;
  for (const ImageRecord& image : images) {
    try {
      layers[image.id] = store.ReadManifest(image.id).layers;
    } catch (const std::exception&) {
      layers[image.id] = {};
    }
  }
  return layers;
}

/// Shared sizes as Docker computes them: a layer is shared when the same stack of layers up to
/// it (its chain) belongs to more than one listed image.
void ComputeSharedSizes(std::vector<ImageUsage>& images) {
  std::map<std::string, int> chain_refs;
  auto chains = [](const ImageUsage& image) {
    std::vector<std::string> out;
    std::string chain;
    for (const Descriptor& layer : image.layers)
      out.push_back(chain += layer.digest.String() + "/");
    return out;
  };
  for (const ImageUsage& image : images)
    for (const std::string& chain : chains(image)) ++chain_refs[chain];
  for (ImageUsage& image : images) {
    const std::vector<std::string> own = chains(image);
    for (size_t i = 0; i < own.size(); ++i)
      if (chain_refs[own[i]] > 1) image.shared_size += image.layers[i].size;
  }
}

/// The build cache: layer blobs only intermediate images use, unpacked layers (in use while a
/// running container's image has them) and step cache records.
std::vector<CacheUsage> BuildCache(const ImageStore& store, const DiskUsage& usage,
                                   const std::map<std::string, std::vector<Descriptor>>& layers) {
  std::set<std::string> listed_layers, running_layers;
  std::set<std::string> running_images;
  for (const ContainerRecord& c : usage.containers)
    if (c.state.status == "running") running_images.insert(c.image_id);
  for (const ImageUsage& image : usage.images)
    for (const Descriptor& d : image.layers) listed_layers.insert(d.digest.String());
  for (const auto& [id, descriptors] : layers)
    if (running_images.count(id))
      for (const Descriptor& d : descriptors) running_layers.insert(d.digest.String());

  std::vector<CacheUsage> cache;
  std::set<std::string> seen;
  for (const auto& [id, descriptors] : layers) {
    for (const Descriptor& d : descriptors) {
      const std::string& digest = d.digest.String();
      if (listed_layers.count(digest) || !seen.insert(digest).second) continue;
      cache.push_back({ShortId(digest), "regular", d.size,
                       ModifiedSeconds(store.blobs().Path(d.digest)),
                       running_layers.count(digest) > 0});
    }
  }
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(store.root() / "layers", ec)) {
    const std::string digest = "sha256:" + entry.path().filename().string();
    cache.push_back({ShortId(digest), "regular", DiskSize(entry.path()),
                     ModifiedSeconds(entry.path()), running_layers.count(digest) > 0});
  }
  for (const auto& entry : fs::directory_iterator(store.root() / "cache", ec)) {
    cache.push_back({entry.path().stem().string().substr(0, 12), "internal", DiskSize(entry.path()),
                     ModifiedSeconds(entry.path()), false});
  }
  return cache;
}

DiskUsage CollectDiskUsage(const ImageStore& store) {
  DiskUsage usage;
  const std::vector<ImageRecord> records = store.ListImages();
  const auto layers = LayersById(store, records);
  std::map<std::string, std::vector<Reference>> tags;
  for (auto& [ref, id] : store.ListTags()) tags[id].push_back(ref);
  usage.containers = ListContainers(store);
  std::map<std::string, int> containers_by_image;
  for (const ContainerRecord& c : usage.containers) {
    ++containers_by_image[c.image_id];
    usage.container_sizes[c.id] = static_cast<int64_t>(ContainerSizeRw(store, c.id));
  }
  std::map<std::string, int64_t> listed_blobs;
  for (const ImageRecord& record : records) {
    if (record.intermediate && !tags.count(record.id)) continue;  // as `kiln images` hides them
    ImageUsage image{record, tags[record.id], layers.at(record.id)};
    for (const Descriptor& d : image.layers) {
      image.size += d.size;
      listed_blobs[d.digest.String()] = d.size;
    }
    image.containers = containers_by_image[record.id];
    usage.images.push_back(std::move(image));
  }
  ComputeSharedSizes(usage.images);
  for (const auto& [digest, size] : listed_blobs) usage.layers_size += size;
  usage.cache = BuildCache(store, usage, layers);
  return usage;
}

/// The four summary rows, with Docker's fields (all strings).
std::vector<json> SummaryRows(const DiskUsage& u) {
  // Docker counts as used the unique part of every image a container uses.
  int64_t images_used = 0, images_active = 0;
  for (const ImageUsage& image : u.images) {
    if (image.containers == 0) continue;
    ++images_active;
    images_used += image.size - image.shared_size;
  }
  int64_t containers_size = 0, containers_reclaimable = 0, containers_active = 0;
  for (const ContainerRecord& c : u.containers) {
    const int64_t size = u.container_sizes.at(c.id);
    containers_size += size;
    if (c.state.status == "running")
      ++containers_active;
    else
      containers_reclaimable += size;
  }
  int64_t cache_size = 0, cache_in_use = 0, cache_active = 0;
  for (const CacheUsage& c : u.cache) {
    cache_size += c.size;
    if (c.in_use) cache_in_use += c.size, ++cache_active;
  }
  auto row = [](const char* type, size_t total, int64_t active, const std::string& size,
                const std::string& reclaimable) {
    return json{{"Type", type},
                {"TotalCount", std::to_string(total)},
                {"Active", std::to_string(active)},
                {"Size", size},
                {"Reclaimable", reclaimable}};
  };
  return {row("Images", u.images.size(), images_active, Human(u.layers_size),
              Reclaimable(std::max<int64_t>(u.layers_size - images_used, 0), u.layers_size)),
          row("Containers", u.containers.size(), containers_active, Human(containers_size),
              Reclaimable(containers_reclaimable, containers_size)),
          row("Local Volumes", 0, 0, Human(0), Human(0)),
          row("Build Cache", u.cache.size(), cache_active, Human(cache_size),
              Human(cache_size - cache_in_use))};
}

/// `docker system df -v`: a table per kind.
std::string VerboseTables(const DiskUsage& u, int64_t now) {
  std::vector<std::vector<std::string>> images = {{"REPOSITORY", "TAG", "IMAGE ID", "CREATED",
                                                   "SIZE", "SHARED SIZE", "UNIQUE SIZE",
                                                   "CONTAINERS"}};
  for (const ImageUsage& image : u.images) {
    std::vector<std::pair<std::string, std::string>> names;
    for (const Reference& ref : image.tags) names.emplace_back(ref.FamiliarName(), ref.tag);
    if (names.empty()) names.emplace_back("<none>", "<none>");
    for (const auto& [repository, tag] : names)
      images.push_back({repository, tag, ShortId(image.record.id),
                        CreatedSince(image.record.created, now), Human(image.size),
                        Human(image.shared_size), Human(image.size - image.shared_size),
                        std::to_string(image.containers)});
  }
  std::vector<std::vector<std::string>> containers = {
      {"CONTAINER ID", "IMAGE", "COMMAND", "LOCAL VOLUMES", "SIZE", "CREATED", "STATUS", "NAMES"}};
  for (const ContainerRecord& c : u.containers) {
    std::string command = c.path;
    for (const std::string& arg : c.args) command += " " + arg;
    containers.push_back({c.id.substr(0, 12), c.image_name, json(Ellipsis(command, 20)).dump(), "0",
                          Human(u.container_sizes.at(c.id)), CreatedSince(c.created, now),
                          StatusText(c.state, now), c.name});
  }
  int64_t cache_size = 0;
  std::vector<std::vector<std::string>> cache = {
      {"CACHE ID", "CACHE TYPE", "SIZE", "CREATED", "LAST USED", "USAGE", "SHARED"}};
  for (const CacheUsage& c : u.cache) {
    cache_size += c.size;
    const std::string created = HumanDuration(now - c.created) + " ago";
    cache.push_back({c.id, c.type, Human(c.size), created, created, "1", "false"});
  }
  return "Images space usage:\n\n" + AlignColumns(images) + "\nContainers space usage:\n\n" +
         AlignColumns(containers) + "\nLocal Volumes space usage:\n\n" +
         AlignColumns({{"VOLUME NAME", "LINKS", "SIZE"}}) +
         "\nBuild cache usage: " + Human(cache_size) + "\n\n" + AlignColumns(cache);
}

int Df(const std::vector<std::string>& args) {
  bool verbose = false;
  std::string format;
  FlagSet flags;
  flags.Bool("verbose", 'v', &verbose);
  flags.String("format", 0, &format);
  const std::vector<std::string> positional = flags.Parse(args);
  if (flags.help_requested()) {
    std::fputs(kDfUsage, stdout);
    return 0;
  }
  if (!positional.empty()) throw UsageError("\"kiln system df\" accepts no arguments.");
  ImageStore store(ImageStore::DefaultRoot());
  const DiskUsage usage = CollectDiskUsage(store);
  if (verbose) {
    std::fputs(VerboseTables(usage, static_cast<int64_t>(std::time(nullptr))).c_str(), stdout);
    return 0;
  }
  const std::vector<json> rows = SummaryRows(usage);
  if (format == "json") {
    for (const json& row : rows) std::printf("%s\n", row.dump().c_str());
    return 0;
  }
  if (format.empty() || format == "table")
    format = "table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}";
  const json header = {{"Type", "TYPE"},
                       {"TotalCount", "TOTAL"},
                       {"Active", "ACTIVE"},
                       {"Size", "SIZE"},
                       {"Reclaimable", "RECLAIMABLE"}};
  std::fputs(RenderRows(GoTemplate(format), header, rows).c_str(), stdout);
  return 0;
}

}  // namespace

int RunSystemCommand(const std::vector<std::string>& args) {
  if (args.empty() || args[0] == "--help" || args[0] == "-h") {
    std::fputs(kUsage, args.empty() ? stderr : stdout);
    return args.empty() ? 2 : 0;
  }
  const std::vector<std::string> rest(args.begin() + 1, args.end());
  if (args[0] == "check") return RunReportingErrors("system check", [&] { return Check(rest); });
  if (args[0] == "df") return RunReportingErrors("system df", [&] { return Df(rest); });
  std::fprintf(stderr, "kiln system: unknown command \"%s\"\n%s", args[0].c_str(), kUsage);
  return 2;
}

}  // namespace kiln::cli
