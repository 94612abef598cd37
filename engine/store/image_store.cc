#include "engine/store/image_store.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <system_error>

#include "engine/base/system_error.h"
#include "engine/store/scratch_dir.h"

namespace kiln {
namespace fs = std::filesystem;
using nlohmann::json;

struct StoreLockState {
  std::recursive_mutex mutex;
  int depth = 0;
  int fd = -1;
  fs::path path;
  ~StoreLockState() {
    if (fd >= 0) ::close(fd);
  }
};

namespace {

/// An id prefix as `kiln images` prints them: lowercase hex of any length.
bool IsHexPrefix(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
  });
}

std::string RequireTagRef(const Reference& ref) {
  if (!ref.digest.empty()) {
    throw ImageStoreError("refusing to create a tag with a digest reference: " + ref.String());
  }
  Reference tagged = ref;
  if (tagged.tag.empty()) tagged.tag = kDefaultTag;
  return tagged.String();
}

}  // namespace

std::string RefName(const Descriptor& d) {
  auto it = d.annotations.find(std::string(kAnnotationRefName));
  return it == d.annotations.end() ? std::string() : it->second;
}

std::optional<Reference> TagOf(const Descriptor& d) {
  try {
    std::string name = RefName(d);
    if (name.empty()) return std::nullopt;
    return ParseReference(name, /*default_tag=*/false);
  } catch (const ReferenceError&) {
    return std::nullopt;
  }
}

void to_json(json& j, const ImageRecord& v) {
  j = {{"id", v.id},
       {"manifest_digest", v.manifest_digest},
       {"parent", v.parent},
       {"created", v.created},
       {"intermediate", v.intermediate}};
}

void from_json(const json& j, ImageRecord& v) {
  v.id = j.at("id").get<Digest>().String();
  v.manifest_digest = j.at("manifest_digest").get<Digest>().String();
  v.parent = j.value("parent", "");
  v.created = j.value("created", "");
  v.intermediate = j.value("intermediate", false);
}

// --- StoreLock ---------------------------------------------------------------------------------

StoreLock::StoreLock(std::shared_ptr<StoreLockState> state) : state_(std::move(state)) {
  std::unique_lock guard(state_->mutex);
  if (state_->depth == 0) {
    if (state_->fd < 0) {
      state_->fd = ::open(state_->path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
      if (state_->fd < 0) {
        ThrowErrno("cannot open the store lock", state_->path);
      }
    }
    while (::flock(state_->fd, LOCK_EX) != 0) {
      if (errno != EINTR) {
        ThrowErrno("cannot lock", state_->path);
      }
    }
  }
  ++state_->depth;
  guard.release();  // the mutex stays held until ~StoreLock
}

StoreLock::~StoreLock() {
  if (!state_) return;
  if (--state_->depth == 0) ::flock(state_->fd, LOCK_UN);
  state_->mutex.unlock();
}

// --- ImageStore --------------------------------------------------------------------------------

fs::path ImageStore::DefaultRoot() {
  if (const char* root = std::getenv("KILN_ROOT"); root && *root) return root;
  if (::geteuid() == 0) return "/var/lib/kiln";
  if (const char* data = std::getenv("XDG_DATA_HOME"); data && *data) {
    return fs::path(data) / "kiln";
  }
  const char* home = std::getenv("HOME");
  return fs::path(home && *home ? home : "/") / ".local" / "share" / "kiln";
}

ImageStore::ImageStore(fs::path root)
    : root_(std::move(root)),
      blobs_(OciDir() / "blobs" / "sha256", TmpDir()),
      lock_state_(std::make_shared<StoreLockState>()) {
  lock_state_->path = root_ / "lock";
  for (const fs::path& dir : {blobs_.dir(), root_ / "images", root_ / "layers", root_ / "cache",
                              root_ / "containers", TmpDir()}) {
    fs::create_directories(dir);
  }
  if (!fs::exists(OciDir() / "oci-layout") || !fs::exists(OciDir() / "index.json")) {
    StoreLock lock = Lock();
    if (!fs::exists(OciDir() / "oci-layout")) WriteFile(OciDir() / "oci-layout", kOciLayout);
    if (!fs::exists(OciDir() / "index.json")) WriteIndex(ImageIndex{});
  }
  if (!fs::exists(DeletionStamp())) WriteFile(DeletionStamp(), "");
}

StoreLock ImageStore::Lock() {
  return StoreLock(lock_state_);
}

void ImageStore::WriteFile(const fs::path& target, std::string_view data) const {
  WriteFileAtomic(target, data, TmpDir());
}

// --- images ------------------------------------------------------------------------------------

fs::path ImageStore::RecordPath(const Digest& id) const {
  return root_ / "images" / (std::string(id.Hex()) + ".json");
}

std::optional<ImageRecord> ImageStore::ReadRecord(const Digest& id) const {
  if (!id.IsSha256()) return std::nullopt;
  const fs::path path = RecordPath(id);
  if (!fs::exists(path)) return std::nullopt;
  return ParseJsonAs<ImageRecord>(ReadWholeFile(path), "image record " + path.string());
}

void ImageStore::WriteRecord(const ImageRecord& record) const {
  WriteFile(RecordPath(Digest::Parse(record.id)), CanonicalJson(record));
}

Digest ImageStore::CommitImage(const json& config, const std::vector<Descriptor>& layers,
                               const std::string& parent, bool intermediate) {
  if (!config.is_object()) throw ImageStoreError("an image config must be a JSON object");
  const json* diff_ids = nullptr;
  if (auto rootfs = config.find("rootfs"); rootfs != config.end() && rootfs->is_object()) {
    if (auto it = rootfs->find("diff_ids"); it != rootfs->end() && it->is_array()) diff_ids = &*it;
  }
  const size_t diff_count = diff_ids ? diff_ids->size() : 0;
  if (diff_count != layers.size()) {
    throw ImageStoreError("image config lists " + std::to_string(diff_count) +
                          " rootfs.diff_ids for " + std::to_string(layers.size()) + " layers");
  }
  for (const Descriptor& layer : layers) {
    if (!blobs_.Has(layer.digest)) {
      throw ImageStoreError("layer blob " + layer.digest.String() + " is missing from the store");
    }
  }
  if (!parent.empty() && !GetImage(parent)) {
    throw ImageStoreError("parent image " + parent + " does not exist");
  }

  const std::string config_bytes = CanonicalJson(config);
  Manifest manifest;
  manifest.config = {std::string(kMediaTypeImageConfig), blobs_.Put(config_bytes),
                     static_cast<int64_t>(config_bytes.size())};
  manifest.layers = layers;
  const std::string manifest_bytes = CanonicalJson(manifest);

  ImageRecord record;
  record.id = manifest.config.digest.String();
  record.manifest_digest = blobs_.Put(manifest_bytes).String();
  record.parent = parent;
  record.created = config.value("created", "");
  record.intermediate = intermediate;

  StoreLock lock = Lock();
  if (std::optional<ImageRecord> existing = ReadRecord(manifest.config.digest)) {
    record.intermediate = existing->intermediate && intermediate;
    if (record == *existing) return manifest.config.digest;
  }
  WriteRecord(record);
  return manifest.config.digest;
}

Digest ImageStore::CommitImage(const ImageConfig& config, const std::vector<Descriptor>& layers,
                               const std::string& parent, bool intermediate) {
  ImageConfig filled = config;
  const bool uncompressed = std::all_of(layers.begin(), layers.end(), [](const Descriptor& d) {
    return d.media_type == kMediaTypeLayer;
  });
  if (filled.rootfs.diff_ids.empty() && uncompressed) {
    for (const Descriptor& layer : layers) filled.rootfs.diff_ids.push_back(layer.digest.String());
  }
  return CommitImage(json(filled), layers, parent, intermediate);
}

std::optional<ImageRecord> ImageStore::RecordFromManifest(const Digest& manifest_digest) const {
  if (!blobs_.Has(manifest_digest)) return std::nullopt;
  Manifest manifest =
      ParseJsonAs<Manifest>(blobs_.Read(manifest_digest), "manifest " + manifest_digest.String());
  const Digest& config = manifest.config.digest;
  if (!config.IsSha256()) return std::nullopt;
  if (std::optional<ImageRecord> record = ReadRecord(config)) return record;
  ImageRecord record;
  record.id = config.String();
  record.manifest_digest = manifest_digest.String();
  if (blobs_.Has(config)) {
    record.created =
        ParseJsonAs<json>(blobs_.Read(config), "config " + record.id).value("created", "");
  }
  return record;
}

std::optional<ImageRecord> ImageStore::GetImage(const std::string& id) const {
  const std::optional<Digest> digest = Digest::TryParse(id);
  if (!digest || !digest->IsSha256()) return std::nullopt;
  if (std::optional<ImageRecord> record = ReadRecord(*digest)) return record;
  for (const Descriptor& d : ReadIndex().manifests) {
    std::optional<ImageRecord> record = RecordFromManifest(d.digest);
    if (record && record->id == id) return record;
  }
  return std::nullopt;
}

std::vector<ImageRecord> ImageStore::ListImages() const {
  std::map<std::string, ImageRecord> by_id;
  for (const auto& entry : fs::directory_iterator(root_ / "images")) {
    const std::string name = entry.path().filename().string();
    if (!name.ends_with(".json")) continue;
    const auto id = Digest::FromSha256Hex(name.substr(0, name.size() - 5));
    if (!id) continue;
    if (auto record = ReadRecord(*id)) {
      by_id.emplace(record->id, *record);
    }
  }
  for (const Descriptor& d : ReadIndex().manifests) {
    if (auto record = RecordFromManifest(d.digest)) by_id.emplace(record->id, *record);
  }
  std::vector<ImageRecord> images;
  for (auto& [id, record] : by_id) images.push_back(std::move(record));
  return images;
}

std::optional<ImageRecord> ImageStore::FindByPrefix(std::string_view hex_prefix) const {
  std::optional<ImageRecord> found;
  for (ImageRecord& record : ListImages()) {
    if (!Digest::Parse(record.id).Hex().starts_with(hex_prefix)) continue;
    if (found) {
      throw ImageStoreError("multiple IDs found with provided prefix: " + std::string(hex_prefix));
    }
    found = std::move(record);
  }
  return found;
}

std::optional<ImageRecord> ImageStore::FindImage(std::string_view query) const {
  if (query.empty()) return std::nullopt;
  if (query.starts_with("sha256:")) {
    std::string_view hex = query.substr(7);
    if (!IsHexPrefix(hex)) return std::nullopt;
    return hex.size() == 64 ? GetImage(std::string(query)) : FindByPrefix(hex);
  }
  if (LooksLikeImageId(query)) return GetImage(Digest::FromSha256Hex(query)->String());
  try {
    Reference ref = ParseReference(query);
    if (!ref.digest.empty()) {
      for (ImageRecord& record : ListImages()) {
        if (record.manifest_digest == ref.digest) return record;
      }
    } else if (std::optional<std::string> id = ImageForTag(ref)) {
      return GetImage(*id);
    }
  } catch (const ReferenceError&) {
    // Not a reference; it may still be an id prefix.
  }
  if (IsHexPrefix(query)) return FindByPrefix(query);
  return std::nullopt;
}

void ImageStore::SetIntermediate(const std::string& id, bool intermediate) {
  StoreLock lock = Lock();
  const std::optional<Digest> digest = Digest::TryParse(id);
  std::optional<ImageRecord> record = digest ? ReadRecord(*digest) : std::nullopt;
  if (!record) throw ImageStoreError("no such image: " + id);
  if (record->intermediate == intermediate) return;
  record->intermediate = intermediate;
  WriteRecord(*record);
}

Manifest ImageStore::ReadManifest(const std::string& id) const {
  std::optional<ImageRecord> record = GetImage(id);
  if (!record) throw ImageStoreError("no such image: " + id);
  return ParseJsonAs<Manifest>(blobs_.Read(Digest::Parse(record->manifest_digest)),
                               "manifest " + record->manifest_digest);
}

json ImageStore::ReadConfig(const std::string& id) const {
  const std::optional<Digest> digest = Digest::TryParse(id);
  if (!digest) throw ImageStoreError("invalid image id: " + id);
  return ParseJsonAs<json>(blobs_.Read(*digest), "image config " + id);
}

ImageConfig ImageStore::ReadImageConfig(const std::string& id) const {
  try {
    return ReadConfig(id).get<ImageConfig>();
  } catch (const json::exception& e) {
    throw ImageStoreError("image config " + id + ": " + e.what());
  }
}

bool ImageStore::DeleteImage(const std::string& id) {
  StoreLock lock = Lock();
  const std::optional<Digest> digest = Digest::TryParse(id);
  if (!digest || !digest->IsSha256()) return false;
  const bool removed = fs::remove(RecordPath(*digest));
  if (removed) {
    SyncDirectory(root_ / "images");
    WriteFile(DeletionStamp(), id + "\n");
  }
  return removed;
}

// --- tags --------------------------------------------------------------------------------------

ImageIndex ImageStore::ReadIndex() const {
  const fs::path path = OciDir() / "index.json";
  return ParseJsonAs<ImageIndex>(ReadWholeFile(path), path.string());
}

void ImageStore::WriteIndex(const ImageIndex& index) const {
  ImageIndex sorted = index;
  std::stable_sort(
      sorted.manifests.begin(), sorted.manifests.end(),
      [](const Descriptor& a, const Descriptor& b) { return RefName(a) < RefName(b); });
  WriteFile(OciDir() / "index.json", CanonicalJson(sorted));
}

void ImageStore::Tag(const std::string& image_id, const Reference& ref) {
  const std::string name = RequireTagRef(ref);
  StoreLock lock = Lock();
  std::optional<ImageRecord> record = GetImage(image_id);
  if (!record) throw ImageStoreError("no such image: " + image_id);
  Descriptor d;
  d.media_type = kMediaTypeImageManifest;
  d.digest = Digest::Parse(record->manifest_digest);
  if (!blobs_.Has(d.digest)) {
    throw ImageStoreError("manifest " + record->manifest_digest + " of image " + image_id +
                          " is missing from the store");
  }
  d.size = static_cast<int64_t>(fs::file_size(blobs_.Path(d.digest)));
  d.annotations[std::string(kAnnotationRefName)] = name;

  ImageIndex index = ReadIndex();
  // Rewriting an unchanged index would make every step that names an image look again.
  for (const Descriptor& m : index.manifests)
    if (RefName(m) == name && m.digest == d.digest && m.size == d.size) return;
  std::erase_if(index.manifests, [&](const Descriptor& m) { return RefName(m) == name; });
  index.manifests.push_back(d);
  WriteIndex(index);
  WriteTagStamp(name, d.digest.String());
}

bool ImageStore::Untag(const Reference& ref) {
  const std::string name = RequireTagRef(ref);
  StoreLock lock = Lock();
  ImageIndex index = ReadIndex();
  if (std::erase_if(index.manifests, [&](const Descriptor& m) { return RefName(m) == name; }) ==
      0) {
    return false;
  }
  WriteIndex(index);
  WriteTagStamp(name, "");
  return true;
}

fs::path ImageStore::TagStamp(const Reference& ref) const {
  return TagStampOf(RequireTagRef(ref));
}

fs::path ImageStore::TagStampOf(const std::string& name) const {
  CacheKeyHasher hasher;
  hasher.AddField(name);
  return root_ / "tags" / hasher.HexDigest();
}

fs::path ImageStore::SyncTagStamp(const Reference& ref) {
  const std::string name = RequireTagRef(ref);
  StoreLock lock = Lock();
  std::string digest;
  for (const Descriptor& d : ReadIndex().manifests)
    if (RefName(d) == name) digest = d.digest.String();
  WriteTagStamp(name, digest);
  return TagStampOf(name);
}

void ImageStore::WriteTagStamp(const std::string& name, const std::string& digest) const {
  const fs::path stamp = TagStampOf(name);
  std::error_code missing;
  if (fs::file_size(stamp, missing) == digest.size() && !missing && ReadWholeFile(stamp) == digest)
    return;
  fs::create_directories(stamp.parent_path());
  WriteFile(stamp, digest);
}

std::optional<std::string> ImageStore::ImageForTag(const Reference& ref) const {
  const std::string name = RequireTagRef(ref);
  for (const Descriptor& d : ReadIndex().manifests) {
    if (RefName(d) != name) continue;
    std::optional<ImageRecord> record = RecordFromManifest(d.digest);
    return record ? std::optional<std::string>(record->id) : std::nullopt;
  }
  return std::nullopt;
}

std::vector<std::pair<Reference, std::string>> ImageStore::ListTags() const {
  std::vector<std::pair<Reference, std::string>> tags;
  for (const Descriptor& d : ReadIndex().manifests) {
    std::optional<Reference> ref = TagOf(d);
    std::optional<ImageRecord> record = RecordFromManifest(d.digest);
    if (ref && record) tags.emplace_back(*ref, record->id);
  }
  std::sort(tags.begin(), tags.end(),
            [](const auto& a, const auto& b) { return a.first.String() < b.first.String(); });
  return tags;
}

std::vector<Reference> ImageStore::TagsOf(const std::string& image_id) const {
  std::vector<Reference> refs;
  for (auto& [ref, id] : ListTags()) {
    if (id == image_id) refs.push_back(std::move(ref));
  }
  return refs;
}

// --- unpacked layers ---------------------------------------------------------------------------

namespace {

/// The name of a layer's directory: the hex of its sha256 digest (the only kind the store
/// writes; another would name no blob of it).
std::string LayerName(const Digest& digest) {
  if (!digest.IsSha256()) {
    throw DigestError("unpacked layers are named by sha256 digests, not \"" + digest.String() +
                      "\"");
  }
  return std::string(digest.Hex());
}

/// This boot's id: until the machine stops, the page cache is the truth, whatever reached the
/// disk.
const std::string& BootId() {
  static const std::string id = [] {
    std::string text;
    try {
      text = ReadWholeFile("/proc/sys/kernel/random/boot_id");
    } catch (const std::exception&) {
      return std::string();  // no way to tell boots apart: nothing unsynced is ever trusted
    }
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
    return text;
  }();
  return id;
}

}  // namespace

fs::path ImageStore::LayerDir(const Digest& digest) const {
  return root_ / "layers" / LayerName(digest);
}

fs::path ImageStore::UnsyncedMarker(const Digest& digest) const {
  return root_ / "layers-unsynced" / LayerName(digest);
}

bool ImageStore::HasTrustedUnpackedLayer(const Digest& digest) const {
  if (!fs::is_directory(LayerDir(digest))) return false;
  std::error_code ec;
  if (!fs::exists(UnsyncedMarker(digest), ec)) return true;  // synced when it was written
  std::string boot;
  try {
    boot = ReadWholeFile(UnsyncedMarker(digest));
  } catch (const std::exception&) {
    return false;
  }
  return !BootId().empty() && boot == BootId();
}

bool ImageStore::PublishUnpackedLayer(const Digest& digest, const fs::path& tree) {
  const fs::path dir = LayerDir(digest);
  // Under the lock, so that a layer another process has just published is never taken for a
  // stale one and moved away while it is in use.
  StoreLock lock = Lock();
  if (HasTrustedUnpackedLayer(digest)) return false;
  if (fs::exists(dir)) {  // written before a crash or reboot: out of the way first
    const ScratchDir stale(*this, "stale-layer");
    fs::rename(dir, stale.path() / "rootfs");
  }
  // The marker goes first: journaled file systems keep the order of these two changes, so a
  // layer that survives a crash always has its marker (its content may be lost: then it names
  // no boot, which is as good as an old one).
  const fs::path marker = UnsyncedMarker(digest);
  fs::create_directories(marker.parent_path());
  {
    std::ofstream out(marker, std::ios::binary | std::ios::trunc);
    out << BootId();
    if (!out.flush()) throw ImageStoreError("cannot write " + marker.string());
  }
  if (::rename(tree.c_str(), dir.c_str()) != 0) {
    if ((errno == EEXIST || errno == ENOTEMPTY) && fs::is_directory(dir)) return false;
    ThrowErrno("cannot rename " + tree.string() + " to", dir);
  }
  return true;
}

fs::path ImageStore::EnsureUnpackedLayer(const Digest& digest,
                                         const std::function<void(const fs::path&)>& unpack) {
  const fs::path dir = LayerDir(digest);
  if (HasTrustedUnpackedLayer(digest)) return dir;
  const ScratchDir work(*this, "layer");
  const fs::path tree = work.path() / "rootfs";
  fs::create_directory(tree);
  fs::permissions(tree, fs::perms(0755));
  unpack(tree);
  PublishUnpackedLayer(digest, tree);
  return dir;
}

bool ImageStore::AdoptUnpackedLayer(const Digest& digest, const fs::path& tree) {
  if (HasTrustedUnpackedLayer(digest)) return false;
  fs::permissions(tree, fs::perms(0755));
  return PublishUnpackedLayer(digest, tree);
}

bool ImageStore::RemoveUnpackedLayer(const Digest& digest) {
  std::error_code ec;
  fs::remove_all(LayerDir(digest), ec);
  const bool removed = !ec;
  fs::remove(UnsyncedMarker(digest), ec);
  return removed;
}

}  // namespace kiln
