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

constexpr std::string_view kOciLayout = R"({"imageLayoutVersion":"1.0.0"})";

bool IsLowerHex(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
  });
}

bool IsCacheKey(std::string_view key) {
  return !key.empty() && key.front() != '.' && std::all_of(key.begin(), key.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-';
  });
}

std::string HashFile(const fs::path& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) ThrowErrno("cannot open", path);
  Sha256 hash;
  constexpr size_t kBufferSize = 1 << 20;
  // Not value-initialized: small blobs then touch one page of it, not 256.
  const auto buffer = std::make_unique_for_overwrite<char[]>(kBufferSize);
  while (true) {
    ssize_t n = ::read(fd, buffer.get(), kBufferSize);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int saved = errno;
      ::close(fd);
      throw std::system_error(saved, std::generic_category(), "cannot read " + path.string());
    }
    if (n == 0) break;
    hash.Update(buffer.get(), static_cast<size_t>(n));
  }
  ::close(fd);
  return hash.Digest();
}

std::string RefName(const Descriptor& d) {
  auto it = d.annotations.find(std::string(kAnnotationRefName));
  return it == d.annotations.end() ? std::string() : it->second;
}

/// The tag descriptors of index.json that kiln understands (a ref name that parses).
std::optional<Reference> TagOf(const Descriptor& d) {
  try {
    std::string name = RefName(d);
    if (name.empty()) return std::nullopt;
    return ParseReference(name, /*default_tag=*/false);
  } catch (const ReferenceError&) {
    return std::nullopt;
  }
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

void to_json(json& j, const ImageRecord& v) {
  j = {{"id", v.id},
       {"manifest_digest", v.manifest_digest},
       {"parent", v.parent},
       {"created", v.created},
       {"intermediate", v.intermediate}};
}

void from_json(const json& j, ImageRecord& v) {
  v.id = j.at("id").get<std::string>();
  v.manifest_digest = j.at("manifest_digest").get<std::string>();
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

// --- BlobWriter --------------------------------------------------------------------------------

BlobWriter::BlobWriter(const fs::path& tmp_dir, fs::path blobs_dir)
    : file_(tmp_dir), blobs_dir_(std::move(blobs_dir)), hash_(std::make_unique<Sha256>()) {}

void BlobWriter::Write(const void* data, size_t size) {
  file_.Write(data, size);
  hash_->Update(data, size);
  size_ += static_cast<int64_t>(size);
}

int BlobWriter::fd() {
  raw_fd_used_ = true;
  return file_.fd();
}

Descriptor BlobWriter::Commit(std::string_view media_type, std::string_view expected_digest) {
  if (file_.fd() < 0) throw ImageStoreError("blob writer already committed");
  Descriptor d;
  d.media_type = media_type;
  if (raw_fd_used_) {
    struct stat st {};
    if (::fstat(file_.fd(), &st) != 0) {
      ThrowErrno("cannot stat a blob being written");
    }
    d.size = st.st_size;
    file_.Sync();
    d.digest = expected_digest.empty() ? HashFile(file_.temp_path()) : std::string(expected_digest);
  } else {
    d.size = size_;
    d.digest = hash_->Digest();
    if (!expected_digest.empty() && d.digest != expected_digest) {
      throw ImageStoreError("blob digest mismatch: expected " + std::string(expected_digest) +
                            ", content is " + d.digest);
    }
  }
  const fs::path target = blobs_dir_ / DigestHex(d.digest);
  if (fs::exists(target)) {
    file_.Discard();  // same content already stored
  } else {
    file_.Commit(target);
  }
  return d;
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
    : root_(std::move(root)), lock_state_(std::make_shared<StoreLockState>()) {
  lock_state_->path = root_ / "lock";
  for (const fs::path& dir : {BlobsDir(), root_ / "images", root_ / "layers", root_ / "cache",
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

BlobWriter ImageStore::NewBlob() const {
  return BlobWriter(TmpDir(), BlobsDir());
}

std::string ImageStore::PutBlob(std::string_view bytes) const {
  const std::string digest = Sha256Digest(bytes);
  if (HasBlob(digest)) return digest;
  BlobWriter writer = NewBlob();
  writer.Write(bytes);
  return writer.Commit("", digest).digest;
}

fs::path ImageStore::BlobPath(const std::string& digest) const {
  return BlobsDir() / DigestHex(digest);
}

bool ImageStore::HasBlob(const std::string& digest) const {
  return IsSha256Digest(digest) && fs::is_regular_file(BlobPath(digest));
}

std::string ImageStore::ReadBlob(const std::string& digest) const {
  if (!HasBlob(digest)) throw ImageStoreError("blob " + digest + " is missing from the store");
  std::string bytes = ReadWholeFile(BlobPath(digest));
  if (std::string actual = Sha256Digest(bytes); actual != digest) {
    throw ImageStoreError("blob " + digest + " is corrupt: its content hashes to " + actual);
  }
  return bytes;
}

bool ImageStore::VerifyBlob(const std::string& digest) const {
  return HasBlob(digest) && HashFile(BlobPath(digest)) == digest;
}

// --- images ------------------------------------------------------------------------------------

fs::path ImageStore::RecordPath(const std::string& id) const {
  return root_ / "images" / (DigestHex(id) + ".json");
}

std::optional<ImageRecord> ImageStore::ReadRecord(const std::string& id) const {
  if (!IsSha256Digest(id)) return std::nullopt;
  const fs::path path = RecordPath(id);
  if (!fs::exists(path)) return std::nullopt;
  return ParseJsonAs<ImageRecord>(ReadWholeFile(path), "image record " + path.string());
}

void ImageStore::WriteRecord(const ImageRecord& record) const {
  WriteFile(RecordPath(record.id), CanonicalJson(record));
}

std::string ImageStore::CommitImage(const json& config, const std::vector<Descriptor>& layers,
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
    if (!HasBlob(layer.digest)) {
      throw ImageStoreError("layer blob " + layer.digest + " is missing from the store");
    }
  }
  if (!parent.empty() && !GetImage(parent)) {
    throw ImageStoreError("parent image " + parent + " does not exist");
  }

  const std::string config_bytes = CanonicalJson(config);
  Manifest manifest;
  manifest.config = {std::string(kMediaTypeImageConfig), PutBlob(config_bytes),
                     static_cast<int64_t>(config_bytes.size())};
  manifest.layers = layers;
  const std::string manifest_bytes = CanonicalJson(manifest);

  ImageRecord record;
  record.id = manifest.config.digest;
  record.manifest_digest = PutBlob(manifest_bytes);
  record.parent = parent;
  record.created = config.value("created", "");
  record.intermediate = intermediate;

  StoreLock lock = Lock();
  if (std::optional<ImageRecord> existing = ReadRecord(record.id)) {
    record.intermediate = existing->intermediate && intermediate;
    if (record == *existing) return record.id;
  }
  WriteRecord(record);
  return record.id;
}

std::string ImageStore::CommitImage(const ImageConfig& config,
                                    const std::vector<Descriptor>& layers,
                                    const std::string& parent, bool intermediate) {
  ImageConfig filled = config;
  const bool uncompressed = std::all_of(layers.begin(), layers.end(), [](const Descriptor& d) {
    return d.media_type == kMediaTypeLayer;
  });
  if (filled.rootfs.diff_ids.empty() && uncompressed) {
    for (const Descriptor& layer : layers) filled.rootfs.diff_ids.push_back(layer.digest);
  }
  return CommitImage(json(filled), layers, parent, intermediate);
}

std::optional<ImageRecord> ImageStore::RecordFromManifest(
    const std::string& manifest_digest) const {
  if (!HasBlob(manifest_digest)) return std::nullopt;
  Manifest manifest =
      ParseJsonAs<Manifest>(ReadBlob(manifest_digest), "manifest " + manifest_digest);
  if (!IsSha256Digest(manifest.config.digest)) return std::nullopt;
  if (std::optional<ImageRecord> record = ReadRecord(manifest.config.digest)) return record;
  ImageRecord record;
  record.id = manifest.config.digest;
  record.manifest_digest = manifest_digest;
  if (HasBlob(record.id)) {
    record.created =
        ParseJsonAs<json>(ReadBlob(record.id), "config " + record.id).value("created", "");
  }
  return record;
}

std::optional<ImageRecord> ImageStore::GetImage(const std::string& id) const {
  if (!IsSha256Digest(id)) return std::nullopt;
  if (std::optional<ImageRecord> record = ReadRecord(id)) return record;
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
    if (!name.ends_with(".json") || !IsLowerHex(name.substr(0, name.size() - 5))) continue;
    if (auto record = ReadRecord("sha256:" + name.substr(0, name.size() - 5))) {
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
    if (!std::string_view(record.id).substr(7).starts_with(hex_prefix)) continue;
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
    if (!IsLowerHex(hex)) return std::nullopt;
    return hex.size() == 64 ? GetImage(std::string(query)) : FindByPrefix(hex);
  }
  if (LooksLikeImageId(query)) return GetImage("sha256:" + std::string(query));
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
  if (IsLowerHex(query)) return FindByPrefix(query);
  return std::nullopt;
}

void ImageStore::SetIntermediate(const std::string& id, bool intermediate) {
  StoreLock lock = Lock();
  std::optional<ImageRecord> record = ReadRecord(id);
  if (!record) throw ImageStoreError("no such image: " + id);
  if (record->intermediate == intermediate) return;
  record->intermediate = intermediate;
  WriteRecord(*record);
}

Manifest ImageStore::ReadManifest(const std::string& id) const {
  std::optional<ImageRecord> record = GetImage(id);
  if (!record) throw ImageStoreError("no such image: " + id);
  return ParseJsonAs<Manifest>(ReadBlob(record->manifest_digest),
                               "manifest " + record->manifest_digest);
}

json ImageStore::ReadConfig(const std::string& id) const {
  if (!IsSha256Digest(id)) throw ImageStoreError("invalid image id: " + id);
  return ParseJsonAs<json>(ReadBlob(id), "image config " + id);
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
  if (!IsSha256Digest(id)) return false;
  const bool removed = fs::remove(RecordPath(id));
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
  if (!HasBlob(record->manifest_digest)) {
    throw ImageStoreError("manifest " + record->manifest_digest + " of image " + image_id +
                          " is missing from the store");
  }
  Descriptor d;
  d.media_type = kMediaTypeImageManifest;
  d.digest = record->manifest_digest;
  d.size = static_cast<int64_t>(fs::file_size(BlobPath(d.digest)));
  d.annotations[std::string(kAnnotationRefName)] = name;

  ImageIndex index = ReadIndex();
  // Rewriting an unchanged index would make every step that names an image look again.
  for (const Descriptor& m : index.manifests)
    if (RefName(m) == name && m.digest == d.digest && m.size == d.size) return;
  std::erase_if(index.manifests, [&](const Descriptor& m) { return RefName(m) == name; });
  index.manifests.push_back(d);
  WriteIndex(index);
  WriteTagStamp(name, d.digest);
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
    if (RefName(d) == name) digest = d.digest;
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

// --- step cache --------------------------------------------------------------------------------

fs::path ImageStore::CachePath(const std::string& cache_key) const {
  if (!IsCacheKey(cache_key)) throw ImageStoreError("invalid cache key \"" + cache_key + "\"");
  return root_ / "cache" / (cache_key + ".json");
}

void ImageStore::PutCacheEntry(const std::string& cache_key, const std::string& image_id) {
  const fs::path path = CachePath(cache_key);
  if (!IsSha256Digest(image_id)) throw ImageStoreError("invalid image id: " + image_id);
  StoreLock lock = Lock();
  WriteFile(path, CanonicalJson(json{{"image_id", image_id}}));
}

std::optional<std::string> ImageStore::GetCacheEntry(const std::string& cache_key) const {
  const fs::path path = CachePath(cache_key);
  if (!fs::exists(path)) return std::nullopt;
  std::string id;
  try {
    id = json::parse(ReadWholeFile(path)).at("image_id").get<std::string>();
  } catch (const json::exception&) {
    return std::nullopt;  // an unreadable entry is a cache miss, never an error
  }
  if (!GetImage(id) || !HasBlob(id)) return std::nullopt;
  return id;
}

// --- unpacked layers ---------------------------------------------------------------------------

fs::path ImageStore::LayerDir(const std::string& digest) const {
  return root_ / "layers" / DigestHex(digest);
}

namespace {

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

fs::path ImageStore::UnsyncedMarker(const std::string& digest) const {
  return root_ / "layers-unsynced" / DigestHex(digest);
}

bool ImageStore::HasTrustedUnpackedLayer(const std::string& digest) const {
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

bool ImageStore::PublishUnpackedLayer(const std::string& digest, const fs::path& tree) {
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

fs::path ImageStore::EnsureUnpackedLayer(const std::string& digest,
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

bool ImageStore::AdoptUnpackedLayer(const std::string& digest, const fs::path& tree) {
  if (HasTrustedUnpackedLayer(digest)) return false;
  fs::permissions(tree, fs::perms(0755));
  return PublishUnpackedLayer(digest, tree);
}

// --- maintenance -------------------------------------------------------------------------------

CheckReport ImageStore::Check() const {
  CheckReport report;
  auto problem = [&](std::string text) { report.problems.push_back(std::move(text)); };

  if (!fs::exists(OciDir() / "oci-layout") ||
      json::parse(ReadWholeFile(OciDir() / "oci-layout"), nullptr, false) !=
          json::parse(kOciLayout)) {
    problem("oci/oci-layout is missing or not {\"imageLayoutVersion\":\"1.0.0\"}");
  }
  for (const auto& entry : fs::directory_iterator(BlobsDir())) {
    const std::string name = entry.path().filename().string();
    if (name.size() != 64 || !IsLowerHex(name)) {
      problem("blobs/sha256/" + name + ": not a sha256 digest name");
      continue;
    }
    std::string actual;
    try {
      actual = HashFile(entry.path());
    } catch (const std::exception& e) {
      problem("blob sha256:" + name + ": " + e.what());
      continue;
    }
    if (actual != "sha256:" + name) {
      problem("blob sha256:" + name + " is corrupt: its content hashes to " + actual);
    }
  }

  auto check_manifest = [&](const std::string& what, const std::string& digest,
                            const std::string& expected_config) {
    if (!HasBlob(digest)) return problem(what + ": manifest " + digest + " is missing");
    Manifest manifest;
    try {
      manifest = ParseJsonAs<Manifest>(ReadWholeFile(BlobPath(digest)), "manifest " + digest);
    } catch (const std::exception& e) {
      return problem(what + ": " + e.what());
    }
    if (!expected_config.empty() && manifest.config.digest != expected_config) {
      problem(what + ": manifest " + digest + " names config " + manifest.config.digest);
    }
    if (!HasBlob(manifest.config.digest)) {
      problem(what + ": config " + manifest.config.digest + " is missing");
    } else {
      try {
        ImageConfig config =
            ParseJsonAs<ImageConfig>(ReadWholeFile(BlobPath(manifest.config.digest)), "config");
        if (config.rootfs.diff_ids.size() != manifest.layers.size()) {
          problem(what + ": config lists " + std::to_string(config.rootfs.diff_ids.size()) +
                  " diff_ids for " + std::to_string(manifest.layers.size()) + " layers");
        }
      } catch (const std::exception& e) {
        problem(what + ": " + e.what());
      }
    }
    for (const Descriptor& layer : manifest.layers) {
      if (!HasBlob(layer.digest)) problem(what + ": layer " + layer.digest + " is missing");
    }
  };

  for (const auto& entry : fs::directory_iterator(root_ / "images")) {
    const std::string name = entry.path().filename().string();
    std::optional<ImageRecord> record;
    try {
      record = ParseJsonAs<ImageRecord>(ReadWholeFile(entry.path()), "record");
    } catch (const std::exception& e) {
      problem("images/" + name + ": " + e.what());
      continue;
    }
    if (!IsSha256Digest(record->id) || name != DigestHex(record->id) + ".json") {
      problem("images/" + name + ": record id " + record->id + " does not match its file name");
      continue;
    }
    check_manifest("image " + record->id, record->manifest_digest, record->id);
  }

  ImageIndex index;
  try {
    index = ReadIndex();
  } catch (const std::exception& e) {
    problem(std::string("oci/index.json: ") + e.what());
  }
  for (const Descriptor& d : index.manifests) {
    const std::string what = "tag " + RefName(d);
    if (!TagOf(d)) problem(what + ": not a valid reference");
    if (!HasBlob(d.digest)) {
      problem(what + ": manifest " + d.digest + " is missing");
      continue;
    }
    if (static_cast<int64_t>(fs::file_size(BlobPath(d.digest))) != d.size) {
      problem(what + ": descriptor size " + std::to_string(d.size) + " differs from the blob's");
    }
    check_manifest(what, d.digest, "");
  }

  for (const auto& entry : fs::directory_iterator(TmpDir())) {
    report.leftovers.push_back(entry.path().string());
  }
  return report;
}

GcReport ImageStore::GarbageCollectBlobs(std::chrono::seconds grace) {
  StoreLock lock = Lock();
  std::set<std::string> live;         // blobs
  std::set<std::string> live_layers;  // diff_ids of live images
  std::vector<std::string> pending;
  for (const ImageRecord& record : ListImages()) {
    live.insert(record.id);
    pending.push_back(record.manifest_digest);
  }
  for (const Descriptor& d : ReadIndex().manifests) pending.push_back(d.digest);
  // Manifests (and nested indexes) keep their config and layers alive.
  while (!pending.empty()) {
    std::string digest = std::move(pending.back());
    pending.pop_back();
    if (!live.insert(digest).second || !HasBlob(digest)) continue;
    json doc = json::parse(ReadWholeFile(BlobPath(digest)), nullptr, /*allow_exceptions=*/false);
    if (!doc.is_object()) continue;
    if (doc.contains("config") && doc["config"].is_object()) {
      const std::string config = doc["config"].value("digest", "");
      live.insert(config);
      // Unpacked layer directories may be keyed by diff_id; keep those too.
      if (HasBlob(config)) {
        json c = json::parse(ReadWholeFile(BlobPath(config)), nullptr, false);
        if (c.is_object() && c.contains("rootfs") && c["rootfs"].is_object() &&
            c["rootfs"].contains("diff_ids") && c["rootfs"]["diff_ids"].is_array()) {
          for (const json& id : c["rootfs"]["diff_ids"]) {
            if (id.is_string()) live_layers.insert(id.get<std::string>());
          }
        }
      }
    }
    for (const char* list : {"layers", "manifests"}) {
      if (!doc.contains(list) || !doc[list].is_array()) continue;
      for (const json& d : doc[list]) {
        std::string child = d.value("digest", "");
        if (std::string_view(list) == "layers") {
          live.insert(child);
        } else {
          pending.push_back(child);
        }
      }
    }
  }

  GcReport report;
  const auto cutoff = fs::file_time_type::clock::now() - grace;
  for (const auto& entry : fs::directory_iterator(BlobsDir())) {
    const std::string digest = "sha256:" + entry.path().filename().string();
    if (!IsSha256Digest(digest) || live.count(digest)) continue;
    if (grace.count() > 0 && entry.last_write_time() > cutoff) continue;
    report.bytes_freed += entry.file_size();
    fs::remove(entry.path());
    report.removed_blobs.push_back(digest);
  }
  for (const auto& entry : fs::directory_iterator(root_ / "layers")) {
    const std::string digest = "sha256:" + entry.path().filename().string();
    if (!IsSha256Digest(digest) || live.count(digest) || live_layers.count(digest)) continue;
    std::error_code ec;
    fs::remove_all(entry.path(), ec);
    if (!ec) report.removed_layers.push_back(digest);
    fs::remove(UnsyncedMarker(digest), ec);
  }
  std::sort(report.removed_blobs.begin(), report.removed_blobs.end());
  std::sort(report.removed_layers.begin(), report.removed_layers.end());
  if (!report.removed_blobs.empty()) SyncDirectory(BlobsDir());
  return report;
}

}  // namespace kiln
