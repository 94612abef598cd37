// The store's blobs: oci/blobs/sha256/<hex>, content-addressed, each written once, atomically
// (temporary file in the store's tmp directory, fsync, rename).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "engine/base/atomic_file.h"
#include "engine/base/digest.h"
#include "engine/base/hash.h"
#include "engine/store/oci_types.h"

namespace kiln {

/// A blob being written: a temporary file, hashed (SHA-256) as it is written. Commit() moves it
/// to blobs/sha256/<hex>; destroying an uncommitted writer removes the temporary file. Movable,
/// not copyable. Needs no store lock: blobs are content-addressed.
class BlobWriter {
 public:
  BlobWriter(BlobWriter&&) noexcept = default;
  BlobWriter& operator=(BlobWriter&&) noexcept = default;
  ~BlobWriter() = default;

  /// Appends bytes (hashed as they go).
  void Write(const void* data, size_t size);
  void Write(std::string_view data) { Write(data.data(), data.size()); }
  /// The raw descriptor for streaming writers (e.g. WriteLayer). Once used, Commit() takes the
  /// digest from `expected_digest` when given (the writer's own hash of the same bytes) or else
  /// re-reads the file to hash it.
  int fd();
  /// fsyncs, renames into blobs/sha256/<hex> (or drops the copy when the blob already exists)
  /// and returns {media_type, digest, size}. If only Write() was used and `expected_digest` is
  /// given, a different content digest throws ImageStoreError and nothing is stored.
  Descriptor Commit(std::string_view media_type,
                    const std::optional<Digest>& expected_digest = std::nullopt);

 private:
  friend class BlobStore;
  BlobWriter(const std::filesystem::path& tmp_dir, std::filesystem::path blobs_dir);

  AtomicFileWriter file_;
  std::filesystem::path blobs_dir_;
  std::unique_ptr<Sha256> hash_;
  int64_t size_ = 0;
  bool raw_fd_used_ = false;
};

/// The blobs directory of an OCI image layout. Reading and writing need no lock.
class BlobStore {
 public:
  /// Blobs in `dir` (…/blobs/sha256), written through temporary files in `tmp_dir`, which must
  /// be on the same file system.
  BlobStore(std::filesystem::path dir, std::filesystem::path tmp_dir);

  const std::filesystem::path& dir() const { return dir_; }

  BlobWriter NewBlob() const;
  /// Stores `bytes` (deduplicated) and returns their digest.
  Digest Put(std::string_view bytes) const;
  /// blobs/sha256/<hex>; throws DigestError for a digest of another algorithm.
  std::filesystem::path Path(const Digest& digest) const;
  /// False for an empty or non-sha256 digest, which names no blob of the store.
  bool Has(const Digest& digest) const;
  /// The blob's bytes, verified against `digest`; ImageStoreError when missing or corrupt.
  std::string Read(const Digest& digest) const;
  /// True when the blob exists and its content hashes to `digest` (streams; for big layers).
  bool Verify(const Digest& digest) const;

 private:
  std::filesystem::path dir_;
  std::filesystem::path tmp_dir_;
};

}  // namespace kiln
