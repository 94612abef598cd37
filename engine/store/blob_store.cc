#include "engine/store/blob_store.h"

#include <sys/stat.h>

#include "engine/base/system_error.h"
#include "engine/store/image_store.h"

namespace kiln {
namespace fs = std::filesystem;

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

Descriptor BlobWriter::Commit(std::string_view media_type,
                              const std::optional<Digest>& expected_digest) {
  if (file_.fd() < 0) throw ImageStoreError("blob writer already committed");
  Descriptor d;
  d.media_type = media_type;
  if (raw_fd_used_) {
    struct stat st {};
    if (::fstat(file_.fd(), &st) != 0)
      ThrowErrno("cannot stat the blob being written", file_.temp_path());
    d.size = st.st_size;
    file_.Sync();
    d.digest = expected_digest ? *expected_digest : Digest::OfFile(file_.temp_path());
  } else {
    d.size = size_;
    d.digest = Digest::Of(*hash_);
    if (expected_digest && d.digest != *expected_digest) {
      throw ImageStoreError("blob digest mismatch: expected " + expected_digest->String() +
                            ", content is " + d.digest.String());
    }
  }
  if (!d.digest.IsSha256()) {
    throw ImageStoreError("the store keeps sha256 blobs only, not " + d.digest.String());
  }
  const fs::path target = blobs_dir_ / d.digest.Hex();
  if (fs::exists(target)) {
    file_.Discard();  // same content already stored
  } else {
    file_.Commit(target);
  }
  return d;
}

// --- BlobStore ---------------------------------------------------------------------------------

BlobStore::BlobStore(fs::path dir, fs::path tmp_dir)
    : dir_(std::move(dir)), tmp_dir_(std::move(tmp_dir)) {}

BlobWriter BlobStore::NewBlob() const {
  return BlobWriter(tmp_dir_, dir_);
}

Digest BlobStore::Put(std::string_view bytes) const {
  const Digest digest = Digest::Of(bytes);
  if (Has(digest)) return digest;
  BlobWriter writer = NewBlob();
  writer.Write(bytes);
  return writer.Commit("", digest).digest;
}

fs::path BlobStore::Path(const Digest& digest) const {
  if (!digest.IsSha256()) {
    throw DigestError("the store keeps sha256 blobs only, not \"" + digest.String() + "\"");
  }
  return dir_ / digest.Hex();
}

bool BlobStore::Has(const Digest& digest) const {
  return digest.IsSha256() && fs::is_regular_file(Path(digest));
}

std::string BlobStore::Read(const Digest& digest) const {
  if (!Has(digest)) {
    throw ImageStoreError("blob " + digest.String() + " is missing from the store");
  }
  std::string bytes = ReadWholeFile(Path(digest));
  if (const Digest actual = Digest::Of(bytes); actual != digest) {
    throw ImageStoreError("blob " + digest.String() + " is corrupt: its content hashes to " +
                          actual.String());
  }
  return bytes;
}

bool BlobStore::Verify(const Digest& digest) const {
  return Has(digest) && Digest::OfFile(Path(digest)) == digest;
}

}  // namespace kiln
