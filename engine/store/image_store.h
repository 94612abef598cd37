// The local image store: an OCI image layout that skopeo, umoci and oci-image-tool read as it is,
// plus image records, tags, the step cache and unpacked layers beside it.
//
//   <root>/oci/{oci-layout,index.json,blobs/sha256/<hex>}   OCI image layout; one index.json
//        manifest descriptor per tag, annotated org.opencontainers.image.ref.name = full reference;
//        the blobs are a BlobStore (blob_store.h)
//   <root>/images/<config-hex>.json   image records {id, manifest_digest, parent, created,
//                                     intermediate}
//   <root>/layers/<hex>/              unpacked layers, each created once (EnsureUnpackedLayer)
//   <root>/layers-unsynced/<hex>      the boot id under which layers/<hex> was written, unsynced
//   <root>/tags/<key>                 the manifest digest a tag points to (TagStamp)
//   <root>/cache/<cache-key>.json     step cache: {"image_id": "sha256:..."} (StepCache)
//   <root>/containers/, <root>/tmp/ (temporary files, same file system), <root>/lock
//
// Every file is written atomically (temporary file in <root>/tmp, fsync, rename), so a crash at
// any moment leaves a store that still reads. Reading needs no lock; every method that changes
// tags, records, the cache or deletes takes the store lock itself (re-entrantly, see Lock()).
// Digests are parsed into Digest values (digest.h) where they enter: image records and OCI
// documents as they are read, file names, the caller's arguments. Checking and garbage
// collection are in store_maintenance.h.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/base/digest.h"
#include "engine/store/blob_store.h"
#include "engine/store/oci_types.h"
#include "engine/store/reference.h"

namespace kiln {

/// A store operation failed: missing or corrupt blob, unknown image, ambiguous id prefix, I/O.
class ImageStoreError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// One image of the store. `id` is the config digest ("sha256:<hex>"); `parent` is the id of the
/// image it was built on ("" for none); `created` is the config's RFC 3339 time; intermediate
/// images are build steps' results, hidden from `kiln images` by default.
struct ImageRecord {
  std::string id;
  std::string manifest_digest;
  std::string parent;
  std::string created;
  bool intermediate = false;
  bool operator==(const ImageRecord&) const = default;
};
void to_json(nlohmann::json& j, const ImageRecord& v);
void from_json(const nlohmann::json& j, ImageRecord& v);

/// The `org.opencontainers.image.ref.name` of an index.json descriptor ("" when none).
std::string RefName(const Descriptor& d);
/// The tag an index.json descriptor carries, when its ref name parses as a reference.
std::optional<Reference> TagOf(const Descriptor& d);

/// oci/oci-layout as written by the store.
inline constexpr std::string_view kOciLayout = R"({"imageLayoutVersion":"1.0.0"})";

struct StoreLockState;

/// Holds the store's exclusive lock (flock on <root>/lock) while alive. Re-entrant per thread
/// within one ImageStore (and its copies): nested Lock() calls are free, the flock is released
/// when the outermost StoreLock dies. Must be destroyed on the thread that created it.
class StoreLock {
 public:
  StoreLock(StoreLock&& other) noexcept = default;
  StoreLock& operator=(StoreLock&&) = delete;
  StoreLock(const StoreLock&) = delete;
  StoreLock& operator=(const StoreLock&) = delete;
  ~StoreLock();

 private:
  friend class ImageStore;
  explicit StoreLock(std::shared_ptr<StoreLockState> state);
  std::shared_ptr<StoreLockState> state_;
};

class ImageStore {
 public:
  /// $KILN_ROOT; else /var/lib/kiln for uid 0; else ${XDG_DATA_HOME:-$HOME/.local/share}/kiln.
  static std::filesystem::path DefaultRoot();

  /// Opens the store at `root`, creating the layout (directories, oci-layout, an empty
  /// index.json) when missing. Throws ImageStoreError / std::system_error on I/O failure.
  explicit ImageStore(std::filesystem::path root);

  const std::filesystem::path& root() const { return root_; }
  /// <root>/oci, the OCI image layout directory.
  std::filesystem::path OciDir() const { return root_ / "oci"; }

  /// The store's exclusive lock; see StoreLock. Blocks until acquired.
  StoreLock Lock();

  /// <root>/tmp: temporary files, on the store's file system so that they can be renamed into
  /// place.
  std::filesystem::path TmpDir() const { return root_ / "tmp"; }

  /// The OCI layout's blobs (oci/blobs/sha256).
  const BlobStore& blobs() const { return blobs_; }

  // --- images ---------------------------------------------------------------------------------
  /// Writes the config blob (`config` serialized verbatim: compact, keys sorted), a manifest
  /// blob (OCI manifest: config + `layers`) and the image record; returns the image id (the
  /// config digest). `config.rootfs.diff_ids` must have one entry per layer and every layer blob
  /// must exist. Committing an existing image again keeps it non-intermediate if it was.
  Digest CommitImage(const nlohmann::json& config, const std::vector<Descriptor>& layers,
                     const std::string& parent, bool intermediate);
  /// As above from the typed config (Docker-style: empty fields omitted). Empty
  /// rootfs.diff_ids are filled from uncompressed layers' digests.
  Digest CommitImage(const ImageConfig& config, const std::vector<Descriptor>& layers,
                     const std::string& parent, bool intermediate);

  /// The image with exactly this id ("sha256:<hex>"): its record, or for an image present only
  /// through a tag in index.json (written by another tool), a record derived from the manifest.
  /// nullopt for an unknown id or a text that is no digest.
  std::optional<ImageRecord> GetImage(const std::string& id) const;
  /// Docker's lookup: "sha256:<hex or prefix>", a 64-hex id, a reference (tag or @digest of a
  /// manifest), then a unique id prefix of any length. nullopt when nothing matches;
  /// ImageStoreError "multiple IDs found with provided prefix: <p>" when ambiguous.
  std::optional<ImageRecord> FindImage(std::string_view query) const;
  /// Every image (records and tag-only images), sorted by id.
  std::vector<ImageRecord> ListImages() const;
  /// Marks an existing image record (not) intermediate. ImageStoreError if there is none.
  void SetIntermediate(const std::string& id, bool intermediate);
  /// The image's manifest / config (parsed JSON as stored) / typed config; ImageStoreError when
  /// the image or its blobs are missing or corrupt.
  Manifest ReadManifest(const std::string& id) const;
  nlohmann::json ReadConfig(const std::string& id) const;
  ImageConfig ReadImageConfig(const std::string& id) const;
  /// Removes the image record; returns false if there was none. Tags are left alone (Untag
  /// first); blobs stay until GarbageCollectBlobs(). A removal rewrites DeletionStamp().
  bool DeleteImage(const std::string& id);
  /// A file rewritten whenever an image is deleted, so that build directories, whose step
  /// results name images, know when to check that those images still exist. Created empty by
  /// the constructor.
  std::filesystem::path DeletionStamp() const { return root_ / "deletions"; }

  // --- tags (index.json) ----------------------------------------------------------------------
  /// Points `ref` (normalized; a tag, "latest" if none; no digest) at the image, replacing the
  /// tag's previous descriptor. ImageStoreError for an unknown image or a digest reference.
  void Tag(const std::string& image_id, const Reference& ref);
  /// Removes the tag; false if it did not exist.
  bool Untag(const Reference& ref);
  /// The id of the image `ref` (a tag) points to.
  std::optional<std::string> ImageForTag(const Reference& ref) const;
  /// A file holding the manifest digest the tag `ref` points to ("" when none), rewritten by
  /// Tag and Untag only when that changes: what a build step reading the tag depends on, so it
  /// looks again when its own tag moves and not when another one does.
  std::filesystem::path TagStamp(const Reference& ref) const;
  /// Brings TagStamp(ref) in line with index.json (creating it when missing), for tags moved by
  /// other tools; returns its path.
  std::filesystem::path SyncTagStamp(const Reference& ref);
  /// The tags pointing at the image, sorted by full name.
  std::vector<Reference> TagsOf(const std::string& image_id) const;
  /// Every tag with its image id, sorted by full name.
  std::vector<std::pair<Reference, std::string>> ListTags() const;
  /// index.json as stored.
  ImageIndex ReadIndex() const;

  // --- unpacked layers ------------------------------------------------------------------------
  /// <root>/layers/<hex> for a layer digest (blob digest or diff_id; callers use one
  /// consistently — for the store's uncompressed layers they are the same).
  std::filesystem::path LayerDir(const Digest& digest) const;
  /// LayerDir(digest), unpacking it first if missing: `unpack` fills a fresh empty directory
  /// (mode 0755) under <root>/tmp, which is then renamed into place, so a layer is unpacked
  /// once and never seen half-done. If `unpack` throws, nothing is left behind.
  ///
  /// Unpacked layers are not synced to disk (a whole-file-system sync waited for every other
  /// writer's data, often longer than the step itself): the boot id beside each one says until
  /// when it can be trusted. One written before the last crash or reboot may have lost data,
  /// so it is removed and unpacked again from its blob, which is always synced.
  std::filesystem::path EnsureUnpackedLayer(
      const Digest& digest, const std::function<void(const std::filesystem::path&)>& unpack);
  /// Makes `tree` (a directory under <root>/tmp) the unpacked layer `digest` by renaming it,
  /// when the layer is not unpacked yet; the caller guarantees that unpacking the layer would
  /// give the same tree. Saves writing the files a second time and deleting the first copy.
  /// Returns false (and leaves `tree` alone) when the layer was already there.
  bool AdoptUnpackedLayer(const Digest& digest, const std::filesystem::path& tree);
  /// True when LayerDir(digest) exists and was written in this boot or synced.
  bool HasTrustedUnpackedLayer(const Digest& digest) const;
  /// Removes the unpacked layer `digest` (for garbage collection; the caller holds the lock and
  /// knows no image uses it). False when it could not be removed.
  bool RemoveUnpackedLayer(const Digest& digest);

 private:
  std::filesystem::path RecordPath(const Digest& id) const;
  void WriteFile(const std::filesystem::path& target, std::string_view data) const;
  std::optional<ImageRecord> ReadRecord(const Digest& id) const;
  void WriteRecord(const ImageRecord& record) const;
  void WriteIndex(const ImageIndex& index) const;
  /// Points the stamp of the tag `name` (normalized) at `digest`, writing only a change.
  void WriteTagStamp(const std::string& name, const std::string& digest) const;
  /// TagStamp of the normalized tag `name`.
  std::filesystem::path TagStampOf(const std::string& name) const;
  std::filesystem::path UnsyncedMarker(const Digest& digest) const;
  /// Renames `tree` to LayerDir(digest) after marking it as written in this boot; replaces an
  /// untrusted one. False when a trusted one was there first (`tree` is left alone).
  bool PublishUnpackedLayer(const Digest& digest, const std::filesystem::path& tree);
  std::optional<ImageRecord> RecordFromManifest(const Digest& manifest_digest) const;
  std::optional<ImageRecord> FindByPrefix(std::string_view hex_prefix) const;

  std::filesystem::path root_;
  BlobStore blobs_;
  std::shared_ptr<StoreLockState> lock_state_;
};

}  // namespace kiln
