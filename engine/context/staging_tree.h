// The directory tree a COPY/ADD stages for its layer: entries made through one directory
// descriptor with their final owners, modes, times and extended attributes, hard links within
// the copy kept, and directory metadata applied last (writing into a directory changes it).
// Which source goes where is the copy plan's business (engine/context/copy_plan.h).
#pragma once

#include <sys/stat.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <utility>

#include "engine/base/unique_fd.h"

namespace kiln {

/// Owner, mode (permission bits) and mtime that a staged path must end up with.
struct StagedMetadata {
  uint32_t mode = 0755;
  uint32_t uid = 0;
  uint32_t gid = 0;
  int64_t mtime_ns = 0;
};

/// Nanoseconds since the epoch.
inline int64_t TimespecNs(const struct timespec& ts) {
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

/// Staged paths are relative to the root ("" is the root itself) and already cleaned by the
/// caller. When not running as root, ownership changes the kernel refuses are ignored. Throws
/// std::system_error naming the path on failures.
class StagingTree {
 public:
  /// Opens `root`, creating it if missing (it should be empty).
  explicit StagingTree(const std::filesystem::path& root);

  const std::filesystem::path& root() const { return root_; }

  /// Creates the directory `path` if needed and records the metadata it ends with (applied by
  /// Finish); `overwrite` lets it replace metadata recorded earlier. Whatever else is staged
  /// there is replaced. The root itself is not an entry: nothing happens for "".
  void MakeDirectory(const std::string& path, const StagedMetadata& meta, bool overwrite);
  /// Records the metadata the directory `path` ends with, as MakeDirectory does, without
  /// creating it.
  void SetDirectoryMetadata(const std::string& path, const StagedMetadata& meta, bool overwrite);
  /// Removes the directory `path` when it is empty (and its recorded metadata); false otherwise.
  bool RemoveIfEmpty(const std::string& path);

  /// Copies the non-directory entry `from` of the tree open at `source_fd` (examined as `st`)
  /// to `target` with `meta`: a regular file's bytes and layer-worthy xattrs (file
  /// capabilities, user.*), a symlink's target, a device or FIFO node; sockets are skipped. A
  /// file with several links becomes a hard link to its first copy in this tree.
  void CopyEntry(int source_fd, const std::string& from, const std::string& target,
                 const struct stat& st, const StagedMetadata& meta);
  /// Writes `content` as the new file `target` with `meta`.
  void WriteFile(const std::string& target, std::string_view content, const StagedMetadata& meta);
  /// Moves the file `from` (ideally on the same file system) to `target` with `meta`.
  void MoveFileIn(const std::filesystem::path& from, const std::string& target,
                  const StagedMetadata& meta);
  /// Moves the children of the directory `from` into the staged directory `into`: directories
  /// present on both sides are merged, anything else is replaced. Their metadata stays theirs.
  void MergeIn(const std::filesystem::path& from, const std::string& into);
  /// Replaces whatever is staged at `target` so that a new entry can be made there.
  void Clear(const std::string& target);

  /// Applies the recorded directory metadata, deepest first. Call once everything is staged.
  void Finish();

 private:
  void CopyRegularFile(int source_fd, const std::string& from, const std::string& target,
                       const struct stat& st, const StagedMetadata& meta);
  UniqueFd CreateFile(const std::string& target, mode_t mode);

  std::filesystem::path root_;
  UniqueFd root_fd_;
  std::map<std::string, StagedMetadata> directories_;  ///< sorted: parents before children
  std::map<std::pair<dev_t, ino_t>, std::string> hard_links_;
  const uid_t creator_uid_;
  gid_t creator_gid_;  ///< -1 when new files may get another group
  const mode_t umask_;
};

}  // namespace kiln
