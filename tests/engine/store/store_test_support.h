// A store in a fresh temporary directory, and small images to fill it with, for the store's and
// the step executor's tests.
#pragma once

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

#include "engine/store/image_store.h"
#include "tests/support/temp_dir.h"

namespace kiln::testing {

/// An ImageStore at <temp>/root, removed with the directory afterwards.
class TempStore {
 public:
  TempStore() : dir_("kiln-store-test") { store_.emplace(dir_ / "root"); }
  ~TempStore() { store_.reset(); }  // closes the lock file before the directory goes

  ImageStore& operator*() { return *store_; }
  ImageStore* operator->() { return &*store_; }
  /// The temporary directory around the store's root, for the tests' own files.
  const std::filesystem::path& dir() const { return dir_.path(); }

 private:
  TempDir dir_;
  std::optional<ImageStore> store_;
};

/// The number of entries in `dir`.
inline size_t CountFiles(const std::filesystem::path& dir) {
  return static_cast<size_t>(std::distance(std::filesystem::directory_iterator(dir),
                                           std::filesystem::directory_iterator()));
}

/// Replaces a file's content, even a read-only one's (to corrupt blobs on purpose).
inline void Overwrite(const std::filesystem::path& path, const std::string& content) {
  std::filesystem::permissions(path, std::filesystem::perms::owner_write,
                               std::filesystem::perm_options::add);
  std::ofstream(path, std::ios::binary | std::ios::trunc) << content;
}

/// A one-file ustar archive, built by hand so this test depends on no layer writer.
inline std::string TarWithFile(const std::string& name, const std::string& content) {
  std::string header(512, '\0');
  auto put = [&](size_t offset, const std::string& value) {
    header.replace(offset, value.size(), value);
  };
  auto octal = [](uint64_t value, int width) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%0*llo", width - 1, static_cast<unsigned long long>(value));
    return std::string(buf);
  };
  put(0, name);
  put(100, octal(0644, 8));
  put(108, octal(0, 8));
  put(116, octal(0, 8));
  put(124, octal(content.size(), 12));
  put(136, octal(1700000000, 12));
  put(148, "        ");
  put(156, "0");
  put(257, std::string("ustar\0", 6));
  put(263, "00");
  unsigned sum = 0;
  for (unsigned char c : header) sum += c;
  put(148, octal(sum, 7) + std::string(1, '\0'));
  std::string tar = header + content;
  tar.append((512 - content.size() % 512) % 512, '\0');
  tar.append(1024, '\0');
  return tar;
}

/// Stores a one-file layer blob.
inline Descriptor PutLayer(ImageStore& store, const std::string& name, const std::string& content) {
  BlobWriter writer = store.blobs().NewBlob();
  writer.Write(TarWithFile(name, content));
  return writer.Commit(kMediaTypeLayer);
}

/// A config for `layers`, one history entry each.
inline ImageConfig ConfigFor(const std::vector<Descriptor>& layers, const std::string& created) {
  ImageConfig c;
  c.architecture = "amd64";
  c.os = "linux";
  c.created = created;
  c.config.cmd = {"/bin/sh"};
  for (const Descriptor& l : layers) {
    c.rootfs.diff_ids.push_back(l.digest.String());
    c.history.push_back({created, "COPY " + l.digest.String(), "", "", false});
  }
  return c;
}

/// Commits a one-layer image; returns its id.
inline std::string CommitSimple(ImageStore& store, const std::string& content,
                                const std::string& created = "2024-01-01T00:00:00Z") {
  std::vector<Descriptor> layers = {PutLayer(store, "hello.txt", content)};
  return store.CommitImage(ConfigFor(layers, created), layers, "", false).String();
}

}  // namespace kiln::testing
