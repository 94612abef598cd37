#include "engine/run/overlay_mount.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <map>
#include <set>
#include <thread>
#include <utility>

#include "engine/base/system_error.h"

namespace kiln {
namespace fs = std::filesystem;

namespace {

constexpr const char* kOpaqueXattr = "trusted.overlay.opaque";
constexpr const char* kOverlayXattrPrefix = "trusted.overlay.";
// mount(2) copies at most one page of options; keep a margin for the kernel's own additions.
constexpr size_t kMaxMountOptions = 4000;

std::optional<struct stat> TryLstat(const fs::path& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0) return st;
  if (errno == ENOENT || errno == ENOTDIR) return std::nullopt;
  ThrowErrno<OverlayError>("lstat", path);
}

struct stat Lstat(const fs::path& path) {
  auto st = TryLstat(path);
  if (!st) ThrowErrno<OverlayError>("lstat", path, ENOENT);
  return *st;
}

bool IsWhiteout(const struct stat& st) {
  return S_ISCHR(st.st_mode) && st.st_rdev == 0;
}

bool IsOpaque(const fs::path& dir) {
  char value[2] = {};
  ssize_t size = ::lgetxattr(dir.c_str(), kOpaqueXattr, value, sizeof(value));
  return size == 1 && value[0] == 'y';
}

using Xattrs = std::map<std::string, std::string>;

/// All xattrs except overlayfs' own bookkeeping.
Xattrs ReadXattrs(const fs::path& path) {
  Xattrs xattrs;
  ssize_t size = ::llistxattr(path.c_str(), nullptr, 0);
  if (size < 0) {
    if (errno == ENOTSUP) return xattrs;
    ThrowErrno<OverlayError>("listing xattrs of", path);
  }
  std::string names(static_cast<size_t>(size), '\0');
  size = ::llistxattr(path.c_str(), names.data(), names.size());
  if (size < 0) ThrowErrno<OverlayError>("listing xattrs of", path);
  names.resize(static_cast<size_t>(size));
  for (size_t start = 0; start < names.size();) {
    std::string name = names.c_str() + start;
    start += name.size() + 1;
    if (name.empty() || name.rfind(kOverlayXattrPrefix, 0) == 0) continue;
    ssize_t value_size = ::lgetxattr(path.c_str(), name.c_str(), nullptr, 0);
    if (value_size < 0) continue;  // vanished or unreadable (e.g. security.* under LSMs)
    std::string value(static_cast<size_t>(value_size), '\0');
    value_size = ::lgetxattr(path.c_str(), name.c_str(), value.data(), value.size());
    if (value_size < 0) continue;
    value.resize(static_cast<size_t>(value_size));
    xattrs.emplace(std::move(name), std::move(value));
  }
  return xattrs;
}

/// Owner, mode, xattrs, then times: chown clears set-id bits and file capabilities, and every
/// later change would bump the times.
void CopyMetadata(const fs::path& source, const struct stat& st, const fs::path& dest) {
  if (::lchown(dest.c_str(), st.st_uid, st.st_gid) != 0) ThrowErrno<OverlayError>("chown", dest);
  if (!S_ISLNK(st.st_mode) && ::chmod(dest.c_str(), st.st_mode & 07777) != 0) {
    ThrowErrno<OverlayError>("chmod", dest);
  }
  for (const auto& [name, value] : ReadXattrs(source)) {
    if (::lsetxattr(dest.c_str(), name.c_str(), value.data(), value.size(), 0) != 0 &&
        name.rfind("security.selinux", 0) != 0) {
      ThrowErrno<OverlayError>("setting xattr " + name + " on", dest);
    }
  }
  const struct timespec times[2] = {st.st_atim, st.st_mtim};
  if (::utimensat(AT_FDCWD, dest.c_str(), times, AT_SYMLINK_NOFOLLOW) != 0) {
    ThrowErrno<OverlayError>("setting times of", dest);
  }
}

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

void CopyFileContent(const fs::path& source, const fs::path& dest) {
  Fd in(::open(source.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (in.get() < 0) ThrowErrno<OverlayError>("opening", source);
  Fd out(::open(dest.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (out.get() < 0) ThrowErrno<OverlayError>("creating", dest);
  bool use_copy_range = true;
  char buffer[1 << 16];
  while (true) {
    ssize_t n;
    if (use_copy_range) {
      n = ::copy_file_range(in.get(), nullptr, out.get(), nullptr, 1 << 30, 0);
      if (n < 0 && (errno == EXDEV || errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP)) {
        use_copy_range = false;
        continue;
      }
    } else {
      n = ::read(in.get(), buffer, sizeof(buffer));
      for (ssize_t written = 0; n > 0 && written < n;) {
        ssize_t w = ::write(out.get(), buffer + written, static_cast<size_t>(n - written));
        if (w < 0 && errno != EINTR) ThrowErrno<OverlayError>("writing", dest);
        if (w > 0) written += w;
      }
    }
    if (n == 0) return;
    if (n < 0 && errno != EINTR) ThrowErrno<OverlayError>("copying", source);
  }
}

std::vector<std::string> ListDir(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) {
    names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

/// Copies entries keeping hard links linked (by source inode) and metadata intact.
class TreeCopier {
 public:
  /// `skip_whiteouts`: leave overlay whiteouts out (merging a layer into a fresh directory,
  /// where they have nothing to hide).
  explicit TreeCopier(bool skip_whiteouts) : skip_whiteouts_(skip_whiteouts) {}

  /// Copies `source` (described by `st`) to `dest`, which must not exist.
  void Copy(const fs::path& source, const struct stat& st, const fs::path& dest) {
    if (S_ISDIR(st.st_mode)) {
      if (::mkdir(dest.c_str(), 0700) != 0) ThrowErrno<OverlayError>("mkdir", dest);
      for (const auto& name : ListDir(source)) {
        fs::path child = source / name;
        struct stat child_st = Lstat(child);
        if (skip_whiteouts_ && IsWhiteout(child_st)) continue;
        Copy(child, child_st, dest / name);
      }
    } else if (S_ISREG(st.st_mode)) {
      auto key = std::make_pair(st.st_dev, st.st_ino);
      if (st.st_nlink > 1) {
        auto it = links_.find(key);
        if (it != links_.end() && ::link(it->second.c_str(), dest.c_str()) == 0) return;
        links_[key] = dest;
      }
      CopyFileContent(source, dest);
    } else if (S_ISLNK(st.st_mode)) {
      std::error_code ec;
      fs::path target = fs::read_symlink(source, ec);
      if (ec) ThrowErrno<OverlayError>("readlink", source, ec.value());
      if (::symlink(target.c_str(), dest.c_str()) != 0) ThrowErrno<OverlayError>("symlink", dest);
    } else if (::mknod(dest.c_str(), st.st_mode, st.st_rdev) != 0) {
      ThrowErrno<OverlayError>("mknod", dest);
    }
    CopyMetadata(source, st, dest);
  }

 private:
  bool skip_whiteouts_;
  std::map<std::pair<dev_t, ino_t>, fs::path> links_;
};

void MakeDir(const fs::path& dir, mode_t mode) {
  if (::mkdir(dir.c_str(), mode) != 0 && errno != EEXIST) ThrowErrno<OverlayError>("mkdir", dir);
  if (::chmod(dir.c_str(), mode) != 0) ThrowErrno<OverlayError>("chmod", dir);
}

/// Applies one layer (overlay whiteout form) onto the merged tree `dest`.
void MergeLayerInto(const fs::path& layer_dir, const fs::path& dest_dir, TreeCopier& copier) {
  for (const auto& name : ListDir(layer_dir)) {
    fs::path source = layer_dir / name;
    fs::path dest = dest_dir / name;
    struct stat st = Lstat(source);
    auto dest_st = TryLstat(dest);
    if (IsWhiteout(st)) {
      if (dest_st) fs::remove_all(dest);
      continue;
    }
    bool keep_dest_dir =
        S_ISDIR(st.st_mode) && dest_st && S_ISDIR(dest_st->st_mode) && !IsOpaque(source);
    if (!keep_dest_dir) {
      if (dest_st) fs::remove_all(dest);
      copier.Copy(source, st, dest);
      continue;
    }
    MergeLayerInto(source, dest, copier);
    CopyMetadata(source, st, dest);
  }
}

bool SameTime(const struct timespec& a, const struct timespec& b) {
  return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec;
}

bool MetadataDiffers(const fs::path& a_path, const struct stat& a, const fs::path& b_path,
                     const struct stat& b) {
  return a.st_mode != b.st_mode || a.st_uid != b.st_uid || a.st_gid != b.st_gid ||
         !SameTime(a.st_mtim, b.st_mtim) || ReadXattrs(a_path) != ReadXattrs(b_path);
}

bool NonDirectoryDiffers(const fs::path& a_path, const struct stat& a, const fs::path& b_path,
                         const struct stat& b) {
  if (MetadataDiffers(a_path, a, b_path, b) || a.st_size != b.st_size) return true;
  if (S_ISCHR(a.st_mode) || S_ISBLK(a.st_mode)) return a.st_rdev != b.st_rdev;
  if (S_ISLNK(a.st_mode)) return fs::read_symlink(a_path) != fs::read_symlink(b_path);
  return false;
}

/// Builds an overlay-style upper directory from two trees.
class TreeDiffer {
 public:
  TreeDiffer(fs::path base, fs::path changed, fs::path out)
      : base_(std::move(base)), changed_(std::move(changed)), out_(std::move(out)) {}

  void Run() {
    MakeDir(out_, 0755);
    CompareDirs("");
    // Directory times last: writing their entries moved them.
    for (auto it = created_dirs_.rbegin(); it != created_dirs_.rend(); ++it) {
      CopyMetadata(changed_ / *it, Lstat(changed_ / *it), out_ / *it);
    }
  }

 private:
  void CompareDirs(const fs::path& rel) {
    auto changed_names = ListDir(changed_ / rel);
    for (const auto& name : changed_names) {
      fs::path child = rel / name;
      struct stat now = Lstat(changed_ / child);
      auto before = TryLstat(base_ / child);
      if (before && S_ISDIR(now.st_mode) && S_ISDIR(before->st_mode)) {
        if (MetadataDiffers(base_ / child, *before, changed_ / child, now)) EnsureDir(child);
        CompareDirs(child);
        continue;
      }
      if (before && (S_ISDIR(now.st_mode) == S_ISDIR(before->st_mode)) &&
          !NonDirectoryDiffers(base_ / child, *before, changed_ / child, now)) {
        continue;
      }
      EnsureDir(rel);
      copier_.Copy(changed_ / child, now, out_ / child);
      if (before && S_ISDIR(now.st_mode)) SetOpaque(out_ / child);
    }
    for (const auto& name : ListDir(base_ / rel)) {
      if (std::binary_search(changed_names.begin(), changed_names.end(), name)) continue;
      EnsureDir(rel);
      if (::mknod((out_ / rel / name).c_str(), S_IFCHR | 0, makedev(0, 0)) != 0) {
        ThrowErrno<OverlayError>("creating whiteout", out_ / rel / name);
      }
    }
  }

  void EnsureDir(const fs::path& rel) {
    if (rel.empty() || created_set_.count(rel)) return;
    EnsureDir(rel.parent_path());
    if (::mkdir((out_ / rel).c_str(), 0700) != 0) ThrowErrno<OverlayError>("mkdir", out_ / rel);
    created_set_.insert(rel);
    created_dirs_.push_back(rel);
  }

  static void SetOpaque(const fs::path& dir) {
    if (::lsetxattr(dir.c_str(), kOpaqueXattr, "y", 1, 0) != 0)
      ThrowErrno<OverlayError>("marking opaque", dir);
  }

  fs::path base_, changed_, out_;
  TreeCopier copier_{false};
  std::set<fs::path> created_set_;
  std::vector<fs::path> created_dirs_;
};

/// Escapes the characters overlayfs' option parser treats specially.
std::string EscapeOption(const std::string& path) {
  std::string escaped;
  for (char c : path) {
    if (c == '\\' || c == ':' || c == ',') escaped += '\\';
    escaped += c;
  }
  return escaped;
}

std::string OverlayOptions(const std::vector<std::string>& lowers, const fs::path& upper,
                           const fs::path& work) {
  std::string options = "lowerdir=";
  for (size_t i = 0; i < lowers.size(); ++i) {
    if (i > 0) options += ':';
    options += EscapeOption(lowers[i]);
  }
  return options + ",upperdir=" + EscapeOption(upper.string()) +
         ",workdir=" + EscapeOption(work.string());
}

int MountOverlay(const fs::path& target, const std::string& options) {
  return ::mount("overlay", target.c_str(), "overlay", 0, options.c_str()) == 0 ? 0 : errno;
}

/// mount(2) of an overlay from `cwd` (relative option paths resolve against the caller's working
/// directory). A thread of its own, unshared from the process's working directory, changes it:
/// the other threads keep theirs. Returns errno or 0.
int MountOverlayFrom(const fs::path& cwd, const fs::path& target, const std::string& options) {
  int error = 0;
  std::thread([&] {
    if (::unshare(CLONE_FS) != 0 || ::chdir(cwd.c_str()) != 0) {
      error = errno;
      return;
    }
    error = MountOverlay(target, options);
  }).join();
  return error;
}

}  // namespace

std::optional<fs::path> FindInLayers(const std::vector<fs::path>& layers,
                                     const fs::path& relative) {
  std::vector<fs::path> components(relative.begin(), relative.end());
  for (const auto& layer : layers) {
    fs::path current = layer;
    bool hidden_below = false;
    for (size_t i = 0; i < components.size(); ++i) {
      current /= components[i];
      auto st = TryLstat(current);
      if (!st) break;
      if (IsWhiteout(*st)) return std::nullopt;
      if (i + 1 == components.size()) return current;
      if (!S_ISDIR(st->st_mode)) return std::nullopt;
      if (IsOpaque(current)) hidden_below = true;
    }
    if (hidden_below) return std::nullopt;
  }
  return std::nullopt;
}

OverlayMount::OverlayMount(const std::vector<fs::path>& lowers, const fs::path& upper,
                           const fs::path& work, const fs::path& target, const fs::path& link_dir,
                           UpperSync sync)
    : target_(target) {
  if (lowers.empty()) throw OverlayError("an overlay mount needs at least one lower directory");
  if (lowers.size() > kMaxOverlayLowers) {
    throw OverlayError("cannot stack " + std::to_string(lowers.size()) +
                       " layers in one overlay mount (the limit is " +
                       std::to_string(kMaxOverlayLowers) + ")");
  }
  MakeDir(upper, 0755);
  MakeDir(work, 0700);
  MakeDir(target, 0755);
  std::vector<std::string> lower_strings;
  for (const auto& lower : lowers) lower_strings.push_back(lower.string());
  std::string options = OverlayOptions(lower_strings, upper, work);
  fs::path cwd;
  if (options.size() > kMaxMountOptions) {
    // Docker's overlay2 trick: short symlinks to the layers, named relative to their parent.
    MakeDir(link_dir, 0700);
    for (size_t i = 0; i < lowers.size(); ++i) {
      fs::path link = link_dir / std::to_string(i);
      fs::remove(link);
      fs::create_symlink(fs::absolute(lowers[i]), link);
      lower_strings[i] = (link_dir.filename() / std::to_string(i)).string();
    }
    cwd = link_dir.parent_path();
    options = OverlayOptions(lower_strings, upper, work);
    if (options.size() > kMaxMountOptions) {
      throw OverlayError("overlay mount options for " + std::to_string(lowers.size()) +
                         " layers exceed a page even with short names");
    }
  }
  auto mount_with = [&](const std::string& opts) {
    return cwd.empty() ? MountOverlay(target, opts) : MountOverlayFrom(cwd, target, opts);
  };
  // Redirects and metacopy would leave changes the layer writer cannot read; turn them off
  // explicitly, falling back to the kernel's defaults on kernels without these options.
  const std::string strict = options + ",index=off,redirect_dir=off,metacopy=off";
  int error = EINVAL;
  if (sync == UpperSync::kNever) {
    // A volatile mount leaves work/work/incompat/volatile behind, and the kernel refuses to mount
    // that work directory again while it is there.
    fs::remove_all(work / "work" / "incompat");
    error = mount_with(strict + ",volatile");
  }
  if (error == EINVAL) error = mount_with(strict);
  if (error == EINVAL) error = mount_with(options);
  if (error != 0) {
    throw OverlayError("mounting overlayfs at " + target.string() + ": " + std::strerror(error) +
                       " (options " + options + ")");
  }
  mounted_ = true;
}

OverlayMount::OverlayMount(OverlayMount&& other) noexcept
    : target_(std::move(other.target_)), mounted_(std::exchange(other.mounted_, false)) {}

OverlayMount::~OverlayMount() {
  try {
    Unmount();
  } catch (...) {  // NOLINT(bugprone-empty-catch): destructors must not throw
  }
}

void OverlayMount::Unmount() {
  if (!mounted_) return;
  for (int attempt = 0; attempt < 20; ++attempt) {
    if (::umount2(target_.c_str(), 0) == 0 || errno == EINVAL || errno == ENOENT) {
      mounted_ = false;
      return;
    }
    if (errno != EBUSY) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  if (::umount2(target_.c_str(), MNT_DETACH) != 0) ThrowErrno<OverlayError>("unmounting", target_);
  mounted_ = false;
}

void MergeLayers(const std::vector<fs::path>& layers, const fs::path& dest) {
  MakeDir(dest, 0755);
  TreeCopier copier(/*skip_whiteouts=*/true);
  for (auto it = layers.rbegin(); it != layers.rend(); ++it) MergeLayerInto(*it, dest, copier);
}

void CopyTree(const fs::path& source, const fs::path& dest) {
  TreeCopier copier(/*skip_whiteouts=*/false);
  copier.Copy(source, Lstat(source), dest);
}

void DiffTrees(const fs::path& lower_merged, const fs::path& rootfs, const fs::path& out_upper) {
  TreeDiffer(lower_merged, rootfs, out_upper).Run();
}

WritableRootfs::WritableRootfs(const std::vector<fs::path>& lowers, const fs::path& scratch,
                               UpperSync sync)
    : scratch_(scratch), root_(scratch / "rootfs"), upper_(scratch / "upper") {
  fs::create_directories(scratch_);
  const char* no_overlay = std::getenv("KILN_NO_OVERLAY");
  if (no_overlay != nullptr && std::string(no_overlay) == "1") {
    fallback_reason_ = "KILN_NO_OVERLAY=1";
  } else {
    try {
      std::vector<fs::path> effective = lowers;
      if (effective.empty()) {
        MakeDir(scratch_ / "empty", 0755);
        effective.push_back(scratch_ / "empty");
      }
      mount_.emplace(effective, upper_, scratch_ / "work", root_, scratch_ / "l", sync);
      return;
    } catch (const OverlayError& error) {
      fallback_reason_ = error.what();
    }
  }
  MergeLayers(lowers, scratch_ / "base");
  std::error_code ec;
  fs::remove(root_, ec);  // the empty mount point, if the overlay attempt made one
  CopyTree(scratch_ / "base", root_);
}

fs::path WritableRootfs::Finish() {
  if (mount_) {
    mount_->Unmount();
    return upper_;
  }
  DiffTrees(scratch_ / "base", root_, upper_);
  return upper_;
}

}  // namespace kiln
