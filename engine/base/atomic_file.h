// Atomic file writes: a temporary file beside the target (or in a given directory on the same
// file system), renamed over the target. Readers see the old or the new content, never a torn
// file. Durable by default (fsync of the file, then of the directory after the rename), so that
// a crash cannot leave an empty or partial file behind either.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace kiln {

/// Whether a replaced file must survive a crash. kUnsynced is for files that are cheap to write
/// again and written often (the build directory): a crash may then leave the old content, or an
/// empty file, but never a torn one while the system is up.
enum class Durability { kSynced, kUnsynced };

/// A temporary file being written; Commit() moves it into place atomically. Destroying an
/// uncommitted writer removes the temporary file. Movable, not copyable; not thread-safe.
class AtomicFileWriter {
 public:
  /// Creates an empty temporary file (mode 0644, O_CLOEXEC) in `tmp_dir`, which must be on the
  /// same file system as the eventual target. Throws std::system_error naming the directory.
  explicit AtomicFileWriter(const std::filesystem::path& tmp_dir);
  ~AtomicFileWriter();
  AtomicFileWriter(AtomicFileWriter&& other) noexcept;
  AtomicFileWriter& operator=(AtomicFileWriter&& other) noexcept;
  AtomicFileWriter(const AtomicFileWriter&) = delete;
  AtomicFileWriter& operator=(const AtomicFileWriter&) = delete;

  /// The open descriptor, for writers that stream straight to it. -1 after Commit/Discard.
  int fd() const { return fd_; }
  const std::filesystem::path& temp_path() const { return temp_path_; }
  /// Writes all of `data` at the current offset; throws std::system_error on failure.
  void Write(const void* data, size_t size);
  void Write(std::string_view data) { Write(data.data(), data.size()); }
  /// Flushes the data to disk (fsync) and closes the descriptor; idempotent.
  void Sync();
  /// Renames the file over `target` (replacing it). kSynced: Sync() first and an fsync of the
  /// target's directory after; kUnsynced: only closes the descriptor.
  void Commit(const std::filesystem::path& target, Durability durability = Durability::kSynced);
  /// Closes and removes the temporary file; idempotent.
  void Discard() noexcept;

 private:
  void Close();

  int fd_ = -1;
  std::filesystem::path temp_path_;
};

/// Replaces `target` with `data` atomically (mode 0644). The temporary file goes to `tmp_dir`
/// (default: the target's directory), which must be on the target's file system.
void WriteFileAtomic(const std::filesystem::path& target, std::string_view data,
                     const std::filesystem::path& tmp_dir = {},
                     Durability durability = Durability::kSynced);

/// The whole content of `path`; throws std::system_error naming the path.
std::string ReadWholeFile(const std::filesystem::path& path);

/// The whole content of `path` when it is a regular file; nullopt when it is missing, a symlink
/// (not followed: e.g. /etc/passwd of an image root must not lead out of it) or not a regular
/// file. Throws std::system_error naming the path when it exists but cannot be read.
std::optional<std::string> ReadRegularFileIfPresent(const std::filesystem::path& path);

/// fsync of a directory, so that a rename inside it survives a crash; throws std::system_error.
void SyncDirectory(const std::filesystem::path& dir);

}  // namespace kiln
