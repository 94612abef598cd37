// Deterministic layer tars: sorted, PAX, xattrs, hard links, devices, overlay whiteouts.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "engine/layers/layer_error.h"

namespace kiln {

struct LayerOptions {
  /// Clamps every entry's mtime to min(mtime, epoch); atime/ctime are never written.
  std::optional<int64_t> source_date_epoch;
  /// The tree is an overlayfs upper dir: a char device 0/0 becomes the whiteout `.wh.NAME`, and a
  /// directory with xattr trusted.overlay.opaque=y (or user.overlay.opaque=y) is followed by
  /// `DIR/.wh..wh..opq`.
  bool overlay_upper = false;
  /// Ownership and permission-bit overrides applied to every entry read from disk (COPY
  /// --chown/--chmod). The mode override applies to files and directories, not symlinks.
  std::optional<uint32_t> uid, gid;
  std::optional<uint32_t> mode_override;
};

/// A finished layer: digest and size of the uncompressed tar.
struct LayerBlob {
  std::string diff_id;  // "sha256:<hex>"
  uint64_t size = 0;
};

/// Metadata of an entry that does not come from disk (e.g. a parent directory of a COPY
/// destination). The mtime is still clamped to source_date_epoch.
struct EntryMetadata {
  uint32_t mode = 0755;  // permission bits
  uint32_t uid = 0;
  uint32_t gid = 0;
  int64_t mtime = 0;  // seconds since the epoch
};

/// Streams a tar to a file descriptor while hashing it; nothing but one read buffer is held.
/// Entries are written in the order they are added; AddTreeFromDisk orders a tree depth-first with
/// each directory's children in byte order of their names (like GNU tar --sort=name), a directory
/// before its contents. Names are relative ("a/b", no leading "./"); directories get a trailing
/// "/". uname/gname stay empty and atime/ctime are not written, so the same tree gives the same
/// bytes.
class LayerWriter {
 public:
  /// Writes to `out_fd` (not closed by the writer).
  LayerWriter(int out_fd, LayerOptions opts);
  ~LayerWriter();
  LayerWriter(const LayerWriter&) = delete;
  LayerWriter& operator=(const LayerWriter&) = delete;

  /// Adds one entry for `disk_path` (a symlink is stored as a symlink, never followed). A second
  /// path to an inode already written becomes a hard link to the first name. Sockets are skipped.
  /// With overlay_upper, a char device 0/0 becomes the whiteout of `name_in_tar`.
  void AddEntryFromDisk(const std::string& name_in_tar, const std::filesystem::path& disk_path);
  /// Adds `disk_path` as `name_in_tar` (unless `name_in_tar` is empty: then only the contents) and,
  /// when it is a directory, everything below it, sorted as described above.
  void AddTreeFromDisk(const std::string& name_in_tar, const std::filesystem::path& disk_path);
  /// Adds the whiteout `DIR/.wh.BASE` for `name` = "DIR/BASE".
  void AddWhiteout(const std::string& name, const EntryMetadata& meta = {0600, 0, 0, 0});
  /// Adds the opaque marker `dir/.wh..wh..opq`.
  void AddOpaque(const std::string& dir, const EntryMetadata& meta = {0600, 0, 0, 0});
  /// Adds a directory entry with the given metadata.
  void AddDirectory(const std::string& name, const EntryMetadata& meta);
  /// Writes the end-of-archive marker and returns the digest; call once, no Add* afterwards.
  LayerBlob Finish();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Writes a deterministic uncompressed tar of everything under `root` (root itself excluded) to
/// `out_fd`, hashing it as it goes.
LayerBlob WriteLayer(const std::filesystem::path& root, int out_fd, const LayerOptions& opts);

}  // namespace kiln
