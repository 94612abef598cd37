// Per-file content-hash cache: (path, device, inode, size, mtime ns, ctime ns) -> xxHash3-128 of
// the contents, persisted in the build directory so unchanged files are not read again.
#pragma once

#include <sys/stat.h>

#include <cstdint>
#include <deque>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace kiln {

class FileHashCache {
 public:
  /// An empty cache; `file` ("" = memory only) is where Save() writes it.
  explicit FileHashCache(std::filesystem::path file = {});

  /// Loads `file`; a missing, truncated or foreign file gives an empty cache (it is only an
  /// optimization, so it never fails a build).
  static FileHashCache Load(const std::filesystem::path& file);

  /// The content hash (32 hex chars, kiln::CacheKeyHasher) of the regular file `name` in the
  /// directory `dir_fd`, known as `path` (relative to the scanned root), whose lstat is `st`.
  /// Reads the file only when no record matches (path, st_dev, st_ino, size, mtime, ctime).
  /// Files changed in the last moments (ctime within the filesystem clock's granularity of
  /// the read) are hashed but not recorded, so a same-size rewrite in the same clock tick can
  /// never be mistaken for unchanged. Throws std::runtime_error when the file cannot be read.
  std::string Hash(int dir_fd, const char* name, const std::string& path, const struct stat& st);

  /// Writes the records used since Load (others are dropped; nothing happens when no file was
  /// hashed since) to the cache file atomically
  /// (temporary file + rename) when anything changed. No-op for a memory-only cache.
  void Save();

  /// How many files Hash() actually read (cache misses); for tests and --explain.
  size_t files_read() const { return files_read_; }
  /// Records that would be saved (used by this scan) or, before any scan, that were loaded.
  size_t size() const;

 private:
  /// A record in its saved form (the fixed fields, then the path): inside the loaded file, which
  /// stays mapped, or inside `added_`. Loading thus neither copies nor allocates per record.
  struct Slot {
    const char* bytes = nullptr;
    bool used = false;  ///< seen by this scan; only used records are saved
    bool live = true;   ///< false once dropped (the file was changed while read)
  };

  static constexpr size_t kNotFound = static_cast<size_t>(-1);
  /// The index of the live record for `path`, or kNotFound. Records are saved in scan order, so the
  /// next record is almost always the one asked for; a hash index is built only when it is not.
  size_t Find(const std::string& path);
  void MarkUsed(size_t index);
  std::string ReadAndHash(int dir_fd, const char* name, const std::string& path,
                          const struct stat& st, bool* stable);

  std::filesystem::path file_;
  std::shared_ptr<const char> mapping_;  ///< the loaded file, unmapped with the last owner
  std::deque<std::string> added_;        ///< records hashed since; deque: stable addresses
  std::vector<Slot> slots_;
  std::vector<uint32_t> order_;  ///< records used by this scan, in use order
  std::unordered_map<std::string_view, uint32_t> index_;
  size_t cursor_ = 0;
  size_t loaded_ = 0;
  std::vector<char> buffer_;
  size_t files_read_ = 0;
  bool changed_ = false;  ///< a record was added, replaced or dropped, or the order changed
};

}  // namespace kiln
