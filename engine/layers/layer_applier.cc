#include "engine/layers/layer_applier.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "engine/base/scoped_locale.h"
#include "engine/base/system_error.h"
#include "engine/base/unique_fd.h"
#include "engine/layers/archive_ptr.h"
#include "engine/layers/libarchive_api.h"
#include "engine/layers/whiteout.h"

namespace kiln {
namespace {

constexpr int kMaxSymlinks = 40;

std::vector<std::string> SplitPath(const std::string& path) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    if (end > start) parts.push_back(path.substr(start, end - start));
    start = end + 1;
  }
  return parts;
}

std::string JoinPath(const std::string& dir, const std::string& name) {
  return dir.empty() ? name : dir + "/" + name;
}

// Lexically cleans a tar name into components; refuses absolute names and `..` above the top.
std::vector<std::string> CleanName(const std::string& entry, const std::string& name,
                                   const std::string& what) {
  if (name.starts_with('/')) throw EntryError(entry, what + " is absolute");
  std::vector<std::string> clean;
  for (std::string& part : SplitPath(name)) {
    if (part == ".") continue;
    if (part == "..") {
      if (clean.empty()) throw EntryError(entry, what + " escapes the destination");
      clean.pop_back();
      continue;
    }
    clean.push_back(std::move(part));
  }
  return clean;
}

// The names in a directory, read completely before the caller changes it.
std::vector<std::string> ListDir(int dir_fd, const std::string& entry) {
  UniqueFd fd(::openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  DIR* dir = fd.valid() ? ::fdopendir(fd.get()) : nullptr;
  if (!dir) throw EntryError(entry, ErrnoMessage("cannot list a directory"));
  fd.Release();
  std::vector<std::string> names;
  errno = 0;
  while (const dirent* d = ::readdir(dir)) {
    const std::string name = d->d_name;
    if (name != "." && name != "..") names.push_back(name);
    errno = 0;
  }
  const int read_errno = errno;
  ::closedir(dir);
  if (read_errno)
    throw EntryError(entry, "cannot list a directory: " + std::string(std::strerror(read_errno)));
  return names;
}

// Removes `name` in `dir_fd` and, for a directory, everything below it; never follows symlinks.
void RemoveAll(int dir_fd, const std::string& name, const std::string& entry) {
  struct stat st;
  if (::fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno == ENOENT) return;
    throw EntryError(entry, ErrnoMessage("cannot inspect \"" + name + "\""));
  }
  if (S_ISDIR(st.st_mode)) {
    UniqueFd fd(::openat(dir_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd.valid()) throw EntryError(entry, ErrnoMessage("cannot open \"" + name + "\""));
    for (const std::string& child : ListDir(fd.get(), entry)) RemoveAll(fd.get(), child, entry);
  }
  if (::unlinkat(dir_fd, name.c_str(), S_ISDIR(st.st_mode) ? AT_REMOVEDIR : 0) != 0 &&
      errno != ENOENT)
    throw EntryError(entry, ErrnoMessage("cannot remove \"" + name + "\""));
}

std::string ReadLinkAt(int dir_fd, const std::string& name, const std::string& entry) {
  std::string target(256, '\0');
  for (;;) {
    const ssize_t n = ::readlinkat(dir_fd, name.c_str(), target.data(), target.size());
    if (n < 0) throw EntryError(entry, ErrnoMessage("cannot read symlink \"" + name + "\""));
    if (static_cast<size_t>(n) < target.size()) {
      target.resize(static_cast<size_t>(n));
      return target;
    }
    target.resize(target.size() * 2);
  }
}

using ArchivePtr = ArchiveReader;

// A directory inside dest: an O_PATH descriptor and its symlink-free path relative to dest.
struct Dir {
  UniqueFd fd;
  std::string path;
};

class Applier {
 public:
  Applier(const std::filesystem::path& dest, WhiteoutMode mode) : mode_(mode) {
    std::error_code ec;
    std::filesystem::create_directories(dest, ec);
    root_ = UniqueFd(::open(dest.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!root_.valid())
      throw LayerError(ErrnoMessage("cannot open layer destination " + dest.string()));
  }

  void Apply(const std::filesystem::path& tar_path) {
    ArchivePtr ar(LibArchive().read_new());
    if (!ar) throw std::bad_alloc();
    LibArchive().read_support_filter_all(ar.get());
    // Layers are tars (OCI image spec); "empty" accepts a zero-byte layer.
    LibArchive().read_support_format_tar(ar.get());
    LibArchive().read_support_format_empty(ar.get());
    if (LibArchive().read_open_filename(ar.get(), tar_path.c_str(), 1 << 20) != ARCHIVE_OK)
      throw LayerError("cannot open layer " + tar_path.string() + ": " + ArchiveError(ar.get()));
    archive_entry* e = nullptr;
    int r;
    while ((r = LibArchive().read_next_header(ar.get(), &e)) == ARCHIVE_OK || r == ARCHIVE_WARN)
      ApplyEntry(ar.get(), e);
    if (r != ARCHIVE_EOF)
      throw LayerError("cannot read layer " + tar_path.string() + ": " + ArchiveError(ar.get()));
    FinishDirectories();
  }

 private:
  static std::string ArchiveError(archive* ar) {
    return LibArchive().error_string(ar) ? LibArchive().error_string(ar) : "unknown error";
  }

  void ApplyEntry(archive* ar, archive_entry* e) {
    const char* raw = LibArchive().entry_pathname(e);
    if (!raw) throw LayerError("layer entry without a name");
    entry_ = raw;
    const std::vector<std::string> comps = CleanName(entry_, entry_, "path");
    if (comps.empty()) return;  // the top directory itself: dest's own metadata is not ours
    const std::string& base = comps.back();
    if (base.starts_with(kWhiteoutPrefix)) {
      ApplyWhiteout(comps);
      return;
    }
    Dir parent = *Resolve(comps, comps.size() - 1, true);
    const std::string path = JoinPath(parent.path, base);
    if (const char* target = LibArchive().entry_hardlink(e)) {
      MakeHardLink(parent, base, target);
    } else {
      switch (LibArchive().entry_filetype(e)) {
        case AE_IFDIR:
          MakeDirectory(e, parent, base, path);
          break;
        case AE_IFREG:
          MakeFile(ar, e, parent, base);
          break;
        case AE_IFLNK:
          MakeSymlink(e, parent, base);
          break;
        case AE_IFCHR:
        case AE_IFBLK:
        case AE_IFIFO:
          MakeNode(e, parent, base);
          break;
        default:
          throw EntryError(entry_, "unsupported entry type");
      }
    }
    written_.insert(path);
  }

  // Resolves the first `count` components inside dest (dest acting as "/"), creating missing
  // directories when `create`; nullopt when one is missing and not created.
  std::optional<Dir> Resolve(const std::vector<std::string>& comps, size_t count, bool create) {
    std::vector<UniqueFd> fds;  // one per component of `canon`
    std::vector<std::string> canon;
    std::deque<std::string> todo(comps.begin(), comps.begin() + static_cast<std::ptrdiff_t>(count));
    std::string via_link;
    int links = 0;
    auto cur = [&] { return fds.empty() ? root_.get() : fds.back().get(); };
    while (!todo.empty()) {
      const std::string c = std::move(todo.front());
      todo.pop_front();
      if (c == ".") continue;
      if (c == "..") {
        if (canon.empty())
          throw EntryError(entry_,
                           "path escapes the destination through symlink \"" + via_link + "\"");
        canon.pop_back();
        fds.pop_back();
        continue;
      }
      struct stat st;
      if (::fstatat(cur(), c.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
        if (errno != ENOENT) throw EntryError(entry_, ErrnoMessage("cannot resolve \"" + c + "\""));
        if (!create) return std::nullopt;
        if (::mkdirat(cur(), c.c_str(), 0755) != 0)
          throw EntryError(entry_, ErrnoMessage("cannot create directory \"" + c + "\""));
        st.st_mode = S_IFDIR;
      }
      if (S_ISLNK(st.st_mode)) {
        if (++links > kMaxSymlinks) throw EntryError(entry_, "too many levels of symbolic links");
        const std::string target = ReadLinkAt(cur(), c, entry_);
        via_link = JoinPath(JoinPaths(canon), c);
        if (target.starts_with('/')) {
          canon.clear();
          fds.clear();
        }
        const std::vector<std::string> parts = SplitPath(target);
        todo.insert(todo.begin(), parts.begin(), parts.end());
        continue;
      }
      if (!S_ISDIR(st.st_mode))
        throw EntryError(entry_, "\"" + JoinPath(JoinPaths(canon), c) + "\" is not a directory");
      UniqueFd fd(::openat(cur(), c.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (!fd.valid())
        throw EntryError(entry_, ErrnoMessage("cannot open directory \"" + c + "\""));
      fds.push_back(std::move(fd));
      canon.push_back(c);
    }
    Dir dir{
        fds.empty() ? UniqueFd(::fcntl(root_.get(), F_DUPFD_CLOEXEC, 0)) : std::move(fds.back()),
        JoinPaths(canon)};
    if (!dir.fd.valid()) throw EntryError(entry_, ErrnoMessage("cannot duplicate a descriptor"));
    return dir;
  }

  static std::string JoinPaths(const std::vector<std::string>& parts) {
    std::string out;
    for (const std::string& p : parts) out = JoinPath(out, p);
    return out;
  }

  void ApplyWhiteout(const std::vector<std::string>& comps) {
    const std::string& base = comps.back();
    if (base == kOpaqueMarker) {
      std::optional<Dir> dir = Resolve(comps, comps.size() - 1, mode_ == WhiteoutMode::kOverlay);
      if (!dir) return;
      if (mode_ == WhiteoutMode::kOverlay) {
        SetOpaque(*dir, base);
      } else {
        for (const std::string& child : ListDir(dir->fd.get(), entry_))
          RemoveLower(dir->fd.get(), dir->path, child);
      }
      return;
    }
    if (base.starts_with(kWhiteoutMetaPrefix)) return;  // aufs bookkeeping (.wh..wh.plnk, ...)
    const std::string target = base.substr(kWhiteoutPrefix.size());
    if (target.empty() || target == "." || target == "..")
      throw EntryError(entry_, "invalid whiteout name");
    std::optional<Dir> dir = Resolve(comps, comps.size() - 1, mode_ == WhiteoutMode::kOverlay);
    if (!dir) return;
    if (mode_ == WhiteoutMode::kApply) {
      RemoveLower(dir->fd.get(), dir->path, target);
      return;
    }
    // kOverlay: an entry this layer wrote stays; a directory it wrote hides the lower one.
    struct stat st;
    if (::fstatat(dir->fd.get(), target.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
      if (written_.contains(JoinPath(dir->path, target))) {
        if (S_ISDIR(st.st_mode)) {
          UniqueFd sub(::openat(dir->fd.get(), target.c_str(),
                                O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
          SetOpaque(Dir{std::move(sub), JoinPath(dir->path, target)}, target);
        }
        return;
      }
      RemoveAll(dir->fd.get(), target, entry_);
    }
    if (::mknodat(dir->fd.get(), target.c_str(), S_IFCHR, makedev(0, 0)) != 0)
      throw EntryError(entry_, ErrnoMessage("cannot create the overlay whiteout"));
  }

  // Removes `name` unless this layer wrote it; in a directory this layer wrote, removes what it
  // did not write (OCI: whiteouts only hide entries of lower layers).
  void RemoveLower(int dir_fd, const std::string& dir_path, const std::string& name) {
    const std::string path = JoinPath(dir_path, name);
    if (!written_.contains(path)) {
      RemoveAll(dir_fd, name, entry_);
      return;
    }
    struct stat st;
    if (::fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISDIR(st.st_mode))
      return;
    UniqueFd fd(::openat(dir_fd, name.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd.valid()) throw EntryError(entry_, ErrnoMessage("cannot open \"" + path + "\""));
    for (const std::string& child : ListDir(fd.get(), entry_)) RemoveLower(fd.get(), path, child);
  }

  void SetOpaque(const Dir& dir, const std::string& what) {
    UniqueFd fd(::openat(dir.fd.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fd.valid()) throw EntryError(entry_, ErrnoMessage("cannot open \"" + what + "\""));
    if (::fsetxattr(fd.get(), "trusted.overlay.opaque", "y", 1, 0) == 0) return;
    if (errno == EPERM && ::fsetxattr(fd.get(), "user.overlay.opaque", "y", 1, 0) == 0) return;
    throw EntryError(entry_, ErrnoMessage("cannot mark the directory opaque"));
  }

  // Makes room for a new `name`: removes whatever is there, except a directory when `keep_dir`.
  // Returns what was there.
  std::optional<struct stat> Clear(const Dir& parent, const std::string& name, bool keep_dir) {
    struct stat st;
    if (::fstatat(parent.fd.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno == ENOENT) return std::nullopt;
      throw EntryError(entry_, ErrnoMessage("cannot inspect the existing entry"));
    }
    if (!(keep_dir && S_ISDIR(st.st_mode))) RemoveAll(parent.fd.get(), name, entry_);
    return st;
  }

  void MakeDirectory(archive_entry* e, const Dir& parent, const std::string& base,
                     const std::string& path) {
    const std::optional<struct stat> old = Clear(parent, base, true);
    if (!old || !S_ISDIR(old->st_mode)) {
      if (::mkdirat(parent.fd.get(), base.c_str(), 0700) != 0)
        throw EntryError(entry_, ErrnoMessage("cannot create directory"));
    }
    UniqueFd fd(
        ::openat(parent.fd.get(), base.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd.valid()) throw EntryError(entry_, ErrnoMessage("cannot open directory"));
    Chown(e, fd.get(), "", AT_EMPTY_PATH);
    SetXattrs(e, fd.get(), "");
    // A directory replacing this layer's whiteout of the same name must not show the lower one.
    if (mode_ == WhiteoutMode::kOverlay && old && IsWhiteoutDevice(*old))
      SetOpaque(Dir{UniqueFd(::dup(fd.get())), path}, base);
    // Mode and mtime last: writing the children would change the mtime, and a read-only mode
    // would stop them from being written.
    directories_.push_back({path, LibArchive().entry_perm(e), Times(e)});
  }

  void MakeFile(archive* ar, archive_entry* e, const Dir& parent, const std::string& base) {
    Clear(parent, base, false);
    UniqueFd fd(::openat(parent.fd.get(), base.c_str(),
                         O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!fd.valid()) throw EntryError(entry_, ErrnoMessage("cannot create file"));
    const void* buf = nullptr;
    size_t size = 0;
    la_int64_t offset = 0;
    int r;
    while ((r = LibArchive().read_data_block(ar, &buf, &size, &offset)) == ARCHIVE_OK ||
           r == ARCHIVE_WARN) {
      const char* p = static_cast<const char*>(buf);
      while (size > 0) {
        const ssize_t w = ::pwrite(fd.get(), p, size, offset);
        if (w < 0) {
          if (errno == EINTR) continue;
          throw EntryError(entry_, ErrnoMessage("cannot write file"));
        }
        p += w;
        size -= static_cast<size_t>(w);
        offset += w;
      }
    }
    if (r != ARCHIVE_EOF) throw EntryError(entry_, "cannot read data: " + ArchiveError(ar));
    // A sparse file may end in a hole that no data block covers.
    if (LibArchive().entry_size_is_set(e) && ::ftruncate(fd.get(), LibArchive().entry_size(e)) != 0)
      throw EntryError(entry_, ErrnoMessage("cannot size file"));
    Chown(e, fd.get(), "", AT_EMPTY_PATH);
    if (::fchmod(fd.get(), LibArchive().entry_perm(e)) != 0)
      throw EntryError(entry_, ErrnoMessage("cannot set mode"));
    SetXattrs(e, fd.get(), "");  // after chown, which drops security.capability
    const auto times = Times(e);
    if (::futimens(fd.get(), times.data()) != 0)
      throw EntryError(entry_, ErrnoMessage("cannot set times"));
  }

  void MakeSymlink(archive_entry* e, const Dir& parent, const std::string& base) {
    const char* target = LibArchive().entry_symlink(e);
    if (!target) throw EntryError(entry_, "symlink without a target");
    Clear(parent, base, false);
    if (::symlinkat(target, parent.fd.get(), base.c_str()) != 0)
      throw EntryError(entry_, ErrnoMessage("cannot create symlink"));
    FinishNode(e, parent, base, false);
  }

  void MakeNode(archive_entry* e, const Dir& parent, const std::string& base) {
    Clear(parent, base, false);
    const mode_t type = LibArchive().entry_filetype(e);
    const dev_t dev = type == AE_IFIFO ? 0
                                       : makedev(LibArchive().entry_rdevmajor(e),
                                                 LibArchive().entry_rdevminor(e));
    if (::mknodat(parent.fd.get(), base.c_str(), type | LibArchive().entry_perm(e), dev) != 0) {
      // Without privileges devices cannot be created; rootless unpacking skips them like others do.
      if (errno == EPERM && ::geteuid() != 0) return;
      throw EntryError(entry_, ErrnoMessage("cannot create device node"));
    }
    FinishNode(e, parent, base, true);
  }

  // Owner, mode (umask-free), xattrs and times of a symlink or node, never following it.
  void FinishNode(archive_entry* e, const Dir& parent, const std::string& base, bool set_mode) {
    Chown(e, parent.fd.get(), base.c_str(), AT_SYMLINK_NOFOLLOW);
    if (set_mode && ::fchmodat(parent.fd.get(), base.c_str(), LibArchive().entry_perm(e), 0) != 0)
      throw EntryError(entry_, ErrnoMessage("cannot set mode"));
    if (LibArchive().entry_xattr_count(e) > 0) {
      const std::string proc = "/proc/self/fd/" + std::to_string(parent.fd.get()) + "/" + base;
      SetXattrs(e, -1, proc);
    }
    const auto times = Times(e);
    if (::utimensat(parent.fd.get(), base.c_str(), times.data(), AT_SYMLINK_NOFOLLOW) != 0)
      throw EntryError(entry_, ErrnoMessage("cannot set times"));
  }

  void MakeHardLink(const Dir& parent, const std::string& base, const std::string& target) {
    const std::string what = "hard link target \"" + target + "\"";
    const std::vector<std::string> comps = CleanName(entry_, target, what);
    if (comps.empty()) throw EntryError(entry_, what + " is the top directory");
    std::optional<Dir> target_dir = Resolve(comps, comps.size() - 1, false);
    struct stat target_st;
    if (!target_dir ||
        ::fstatat(target_dir->fd.get(), comps.back().c_str(), &target_st, AT_SYMLINK_NOFOLLOW) != 0)
      throw EntryError(entry_, what + " does not exist");
    if (S_ISDIR(target_st.st_mode)) throw EntryError(entry_, what + " is a directory");
    struct stat old;
    if (::fstatat(parent.fd.get(), base.c_str(), &old, AT_SYMLINK_NOFOLLOW) == 0 &&
        old.st_dev == target_st.st_dev && old.st_ino == target_st.st_ino)
      return;  // already that file
    Clear(parent, base, false);
    if (::linkat(target_dir->fd.get(), comps.back().c_str(), parent.fd.get(), base.c_str(), 0) != 0)
      throw EntryError(entry_, ErrnoMessage("cannot create hard link"));
  }

  void Chown(archive_entry* e, int fd, const char* name, int flags) {
    if (::geteuid() != 0) return;  // only root can give files away
    if (::fchownat(fd, name, static_cast<uid_t>(LibArchive().entry_uid(e)),
                   static_cast<gid_t>(LibArchive().entry_gid(e)), flags) != 0)
      throw EntryError(entry_, ErrnoMessage("cannot set owner"));
  }

  // Sets the entry's xattrs on `fd`, or on `path` (not followed) when fd < 0. Overlay xattrs from
  // the tar are dropped: only whiteout entries may steer overlayfs.
  void SetXattrs(archive_entry* e, int fd, const std::string& path) {
    LibArchive().entry_xattr_reset(e);
    const char* name = nullptr;
    const void* value = nullptr;
    size_t size = 0;
    while (LibArchive().entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK) {
      if (std::string_view(name).starts_with("trusted.overlay.")) continue;
      const int r = fd >= 0 ? ::fsetxattr(fd, name, value, size, 0)
                            : ::lsetxattr(path.c_str(), name, value, size, 0);
      if (r == 0) continue;
      if (::geteuid() != 0 && (errno == EPERM || errno == ENOTSUP)) continue;
      throw EntryError(entry_, ErrnoMessage(std::string("cannot set xattr ") + name));
    }
  }

  static std::array<timespec, 2> Times(archive_entry* e) {
    const timespec mtime{LibArchive().entry_mtime(e), LibArchive().entry_mtime_nsec(e)};
    const timespec atime =
        LibArchive().entry_atime_is_set(e)
            ? timespec{LibArchive().entry_atime(e), LibArchive().entry_atime_nsec(e)}
            : mtime;
    return {atime, mtime};
  }

  void FinishDirectories() {
    for (auto it = directories_.rbegin(); it != directories_.rend(); ++it) {
      entry_ = it->path;
      const std::vector<std::string> comps = SplitPath(it->path);
      std::optional<Dir> parent = Resolve(comps, comps.size() - 1, false);
      if (!parent) continue;  // removed later in the layer
      UniqueFd fd(::openat(parent->fd.get(), comps.back().c_str(),
                           O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (!fd.valid()) continue;  // replaced by a non-directory later in the layer
      if (::fchmod(fd.get(), it->mode) != 0)
        throw EntryError(entry_, ErrnoMessage("cannot set mode"));
      if (::futimens(fd.get(), it->times.data()) != 0)
        throw EntryError(entry_, ErrnoMessage("cannot set times"));
    }
  }

  struct PendingDirectory {
    std::string path;
    mode_t mode;
    std::array<timespec, 2> times;
  };

  WhiteoutMode mode_;
  UniqueFd root_;
  std::string entry_;                        // the entry being applied, for messages
  std::unordered_set<std::string> written_;  // paths (relative to dest) this layer wrote
  std::vector<PendingDirectory> directories_;
};

}  // namespace

void ApplyLayer(const std::filesystem::path& tar_path, const std::filesystem::path& dest,
                WhiteoutMode mode) {
  ScopedUtf8Locale locale;
  Applier(dest, mode).Apply(tar_path);
}

}  // namespace kiln
