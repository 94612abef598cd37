#include "engine/context/staging_tree.h"

#include <fcntl.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "engine/base/system_error.h"

namespace kiln {
namespace {

constexpr size_t kCopyBufferSize = 128 * 1024;

struct timespec ToTimespec(int64_t ns) {
  return {static_cast<time_t>(ns / 1'000'000'000), static_cast<long>(ns % 1'000'000'000)};
}

/// Applies ownership (tolerating EPERM when not root), then mode (chown clears set-id bits),
/// then times, to `name` in `dir_fd`.
void ApplyMetadata(int dir_fd, const std::string& name, const StagedMetadata& meta,
                   bool is_symlink) {
  if (fchownat(dir_fd, name.c_str(), meta.uid, meta.gid, AT_SYMLINK_NOFOLLOW) != 0 &&
      !(errno == EPERM && geteuid() != 0)) {
    ThrowErrno("cannot change owner of", name);
  }
  if (!is_symlink && fchmodat(dir_fd, name.c_str(), meta.mode & 07777, 0) != 0) {
    ThrowErrno("cannot change mode of", name);
  }
  const struct timespec times[2] = {ToTimespec(meta.mtime_ns), ToTimespec(meta.mtime_ns)};
  if (utimensat(dir_fd, name.c_str(), times, AT_SYMLINK_NOFOLLOW) != 0) {
    ThrowErrno("cannot set times of", name);
  }
}

/// Copies the `size` bytes `in` had when it was examined to `out`: copy_file_range when the
/// kernel can, else a fixed buffer. Stops at `size` or at the end of `in`, whichever is first,
/// so the usual small file costs one system call.
void CopyBytes(int in, int out, const std::string& path, uint64_t size) {
  uint64_t copied = 0;
  while (copied < size) {
    const ssize_t n = copy_file_range(in, nullptr, out, nullptr, size - copied, 0);
    if (n == 0) return;
    if (n > 0) {
      copied += static_cast<uint64_t>(n);
      continue;
    }
    if (errno == EINTR) continue;
    if (errno == EXDEV || errno == ENOSYS || errno == EINVAL || errno == EOPNOTSUPP) break;
    ThrowErrno("cannot copy", path);
  }
  std::vector<char> buffer(kCopyBufferSize);
  while (copied < size) {
    const ssize_t n = read(in, buffer.data(), buffer.size());
    if (n == 0) return;
    if (n < 0) {
      if (errno == EINTR) continue;
      ThrowErrno("cannot read", path);
    }
    for (ssize_t done = 0; done < n;) {
      const ssize_t w = write(out, buffer.data() + done, static_cast<size_t>(n - done));
      if (w < 0) {
        if (errno == EINTR) continue;
        ThrowErrno("cannot write", path);
      }
      done += w;
    }
    copied += static_cast<uint64_t>(n);
  }
}

/// The process's file-creation mask (reading it means setting it, so it is set back).
mode_t CurrentUmask() {
  const mode_t mask = umask(0);
  umask(mask);
  return mask;
}

using Xattrs = std::vector<std::pair<std::string, std::string>>;

/// The extended attributes of `fd` that a layer carries (file capabilities, user.*); others
/// (trusted.*, security.selinux) belong to the host.
Xattrs ReadXattrs(int fd) {
  Xattrs xattrs;
  if (flistxattr(fd, nullptr, 0) <= 0) return xattrs;
  std::vector<char> names(65536);
  const ssize_t length = flistxattr(fd, names.data(), names.size());
  std::vector<char> value(65536);
  for (ssize_t at = 0; at < length; at += static_cast<ssize_t>(std::strlen(&names[at])) + 1) {
    const std::string name(&names[at]);
    if (name != "security.capability" && !name.starts_with("user.")) continue;
    const ssize_t size = fgetxattr(fd, name.c_str(), value.data(), value.size());
    if (size >= 0) xattrs.emplace_back(name, std::string(value.data(), static_cast<size_t>(size)));
  }
  return xattrs;
}

/// Moves the children of `from` into the directory `to`, merging directories on both sides.
void MergeDirectories(const std::filesystem::path& from, const std::filesystem::path& to) {
  for (const auto& child : std::filesystem::directory_iterator(from)) {
    const std::filesystem::path target = to / child.path().filename();
    const auto target_status = std::filesystem::symlink_status(target);
    if (child.is_directory() && !child.is_symlink() &&
        std::filesystem::is_directory(target_status)) {
      MergeDirectories(child.path(), target);
      continue;
    }
    if (std::filesystem::exists(target_status)) std::filesystem::remove_all(target);
    std::filesystem::rename(child.path(), target);
  }
}

}  // namespace

StagingTree::StagingTree(const std::filesystem::path& root)
    : root_(root), creator_uid_(geteuid()), creator_gid_(getegid()), umask_(CurrentUmask()) {
  std::filesystem::create_directories(root);
  root_fd_ = UniqueFd(open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!root_fd_.valid()) ThrowErrno("cannot open staging directory", root);
  // Below a set-gid directory new files take its group, not ours: chown them all then.
  struct stat st;
  if (fstat(root_fd_.get(), &st) != 0 || (st.st_mode & S_ISGID) != 0) {
    creator_gid_ = static_cast<gid_t>(-1);
  }
}

void StagingTree::MakeDirectory(const std::string& path, const StagedMetadata& meta,
                                bool overwrite) {
  if (path.empty()) return;  // the staging root: not an entry of the layer
  if (mkdirat(root_fd_.get(), path.c_str(), 0700) != 0 && errno != EEXIST) {
    ThrowErrno("cannot create directory", path);
  }
  struct stat st;
  if (fstatat(root_fd_.get(), path.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
      !S_ISDIR(st.st_mode)) {
    Clear(path);
    if (mkdirat(root_fd_.get(), path.c_str(), 0700) != 0) {
      ThrowErrno("cannot create directory", path);
    }
  }
  SetDirectoryMetadata(path, meta, overwrite);
}

void StagingTree::SetDirectoryMetadata(const std::string& path, const StagedMetadata& meta,
                                       bool overwrite) {
  auto [it, inserted] = directories_.emplace(path, meta);
  if (!inserted && overwrite) it->second = meta;
}

bool StagingTree::RemoveIfEmpty(const std::string& path) {
  if (unlinkat(root_fd_.get(), path.c_str(), AT_REMOVEDIR) != 0) return false;
  directories_.erase(path);
  return true;
}

void StagingTree::Clear(const std::string& target) {
  struct stat st;
  if (target.empty()) return;
  if (fstatat(root_fd_.get(), target.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) return;
  if (S_ISDIR(st.st_mode)) {
    std::filesystem::remove_all(root_ / target);
    // The directory's recorded metadata goes with it, and that of everything below it (the
    // keys from "target/" up to "target0": '0' follows '/').
    directories_.erase(target);
    directories_.erase(directories_.lower_bound(target + "/"),
                       directories_.lower_bound(target + "0"));
  } else if (unlinkat(root_fd_.get(), target.c_str(), 0) != 0) {
    ThrowErrno("cannot replace", target);
  }
}

void StagingTree::CopyEntry(int source_fd, const std::string& from, const std::string& target,
                            const struct stat& st, const StagedMetadata& meta) {
  const int dir = root_fd_.get();
  if (!S_ISREG(st.st_mode) || st.st_nlink > 1) Clear(target);
  if (S_ISREG(st.st_mode) && st.st_nlink > 1) {
    const auto link = hard_links_.find({st.st_dev, st.st_ino});
    if (link != hard_links_.end()) {
      if (linkat(dir, link->second.c_str(), dir, target.c_str(), 0) == 0) return;
    }
    hard_links_[{st.st_dev, st.st_ino}] = target;
  }
  if (S_ISREG(st.st_mode)) {
    CopyRegularFile(source_fd, from, target, st, meta);
    return;
  }
  if (S_ISLNK(st.st_mode)) {
    char link_target[4096];
    const ssize_t n = readlinkat(source_fd, from.c_str(), link_target, sizeof link_target - 1);
    if (n < 0) ThrowErrno("cannot read symlink", from);
    link_target[n] = '\0';
    if (symlinkat(link_target, dir, target.c_str()) != 0) {
      ThrowErrno("cannot create symlink", target);
    }
  } else if (S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
    if (mknodat(dir, target.c_str(), (st.st_mode & S_IFMT) | 0600, st.st_rdev) != 0) {
      ThrowErrno("cannot create node", target);
    }
  } else {
    return;  // sockets cannot be part of a layer
  }
  ApplyMetadata(dir, target, meta, S_ISLNK(st.st_mode));
}

/// Every change goes through the open descriptor, and ownership and mode are only set when
/// creating the file did not already give them: this runs once per copied file, so each system
/// call saved counts thousands of times.
void StagingTree::CopyRegularFile(int source_fd, const std::string& from, const std::string& target,
                                  const struct stat& st, const StagedMetadata& meta) {
  UniqueFd in(openat(source_fd, from.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (!in.valid()) ThrowErrno("cannot open", from);
  const mode_t create_mode = meta.mode & 0777;
  UniqueFd out = CreateFile(target, create_mode);
  if (st.st_size > 0) CopyBytes(in.get(), out.get(), from, static_cast<uint64_t>(st.st_size));
  const Xattrs xattrs = ReadXattrs(in.get());
  // A new file belongs to the effective ids (staged directories are not set-gid while files
  // are copied: their modes are applied at the end, and a set-gid staging root is seen by the
  // constructor); chown also clears set-id bits, so it comes before the mode.
  const bool chowned = meta.uid != creator_uid_ || meta.gid != creator_gid_;
  if (chowned && fchown(out.get(), meta.uid, meta.gid) != 0 &&
      !(errno == EPERM && creator_uid_ != 0)) {
    ThrowErrno("cannot change owner of", target);
  }
  if ((meta.mode & 07777) != (create_mode & ~umask_) && fchmod(out.get(), meta.mode & 07777) != 0) {
    ThrowErrno("cannot change mode of", target);
  }
  for (const auto& [name, value] : xattrs) {
    fsetxattr(out.get(), name.c_str(), value.data(), value.size(), 0);  // refused ones skipped
  }
  const struct timespec times[2] = {ToTimespec(meta.mtime_ns), ToTimespec(meta.mtime_ns)};
  if (futimens(out.get(), times) != 0) ThrowErrno("cannot set times of", target);
}

UniqueFd StagingTree::CreateFile(const std::string& target, mode_t mode) {
  const int flags = O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW;
  UniqueFd out(openat(root_fd_.get(), target.c_str(), flags, mode));
  if (!out.valid() && errno == EEXIST) {
    Clear(target);
    out = UniqueFd(openat(root_fd_.get(), target.c_str(), flags, mode));
  }
  if (!out.valid()) ThrowErrno("cannot create", target);
  return out;
}

void StagingTree::WriteFile(const std::string& target, std::string_view content,
                            const StagedMetadata& meta) {
  Clear(target);
  {
    UniqueFd out(
        openat(root_fd_.get(), target.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
    if (!out.valid()) ThrowErrno("cannot create", target);
    if (write(out.get(), content.data(), content.size()) != static_cast<ssize_t>(content.size())) {
      ThrowErrno("cannot write", target);
    }
  }
  ApplyMetadata(root_fd_.get(), target, meta, false);
}

void StagingTree::MoveFileIn(const std::filesystem::path& from, const std::string& target,
                             const StagedMetadata& meta) {
  Clear(target);
  std::error_code error;
  std::filesystem::rename(from, root_ / target, error);
  if (error) {
    std::filesystem::copy_file(from, root_ / target);
    std::filesystem::remove(from);
  }
  ApplyMetadata(root_fd_.get(), target, meta, false);
}

void StagingTree::MergeIn(const std::filesystem::path& from, const std::string& into) {
  MergeDirectories(from, root_ / into);
}

void StagingTree::Finish() {
  for (auto it = directories_.rbegin(); it != directories_.rend(); ++it) {
    ApplyMetadata(root_fd_.get(), it->first, it->second, false);
  }
}

}  // namespace kiln
