// Crash-safe file writes: a temporary file beside the target (or in a given directory on the same
// file system), fsync, rename over the target, fsync the directory. Readers see the old or the
// new content, never a torn file.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace kiln {

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
  /// Sync(), then renames over `target` (replacing it) and fsyncs the target's directory.
  void Commit(const std::filesystem::path& target);
  /// Closes and removes the temporary file; idempotent.
  void Discard() noexcept;

 private:
  int fd_ = -1;
  std::filesystem::path temp_path_;
};

/// Replaces `target` with `data` atomically and durably. The temporary file goes to `tmp_dir`
/// (default: the target's directory), which must be on the target's file system.
void WriteFileAtomic(const std::filesystem::path& target, std::string_view data,
                     const std::filesystem::path& tmp_dir = {});

/// The whole content of `path`; throws std::system_error naming the path.
std::string ReadWholeFile(const std::filesystem::path& path);

/// fsync of a directory, so that a rename inside it survives a crash; throws std::system_error.
void SyncDirectory(const std::filesystem::path& dir);

}  // namespace kiln
