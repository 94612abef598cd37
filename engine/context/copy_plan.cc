#include "engine/context/copy_plan.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <map>
#include <set>

#include "engine/base/system_error.h"
#include "engine/base/unique_fd.h"
#include "engine/context/url_fetch.h"
#include "engine/layers/archive_detect.h"

#if __has_include("engine/layers/layer_applier.h")
#include "engine/layers/layer_applier.h"
#define KILN_HAVE_LAYER_APPLIER 1
#endif

namespace kiln {
namespace {

constexpr size_t kCopyBufferSize = 128 * 1024;

std::string Join(std::string_view a, std::string_view b) {
  if (a.empty()) return std::string(b);
  if (b.empty()) return std::string(a);
  std::string out(a);
  out += '/';
  out += b;
  return out;
}

std::string Parent(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? std::string() : path.substr(0, slash);
}

struct timespec ToTimespec(int64_t ns) {
  return {static_cast<time_t>(ns / 1'000'000'000), static_cast<long>(ns % 1'000'000'000)};
}

int64_t ToNs(const struct timespec& ts) {
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

/// Owner, mode and mtime that a staged path must end up with.
struct Metadata {
  uint32_t mode = 0755;
  uint32_t uid = 0;
  uint32_t gid = 0;
  int64_t mtime_ns = 0;
};

/// Applies ownership (tolerating EPERM when not root), then mode (chown clears set-id bits),
/// then times, to `name` in `dir_fd`.
void ApplyMetadata(int dir_fd, const char* name, const std::string& path, const Metadata& meta,
                   bool is_symlink) {
  if (fchownat(dir_fd, name, meta.uid, meta.gid, AT_SYMLINK_NOFOLLOW) != 0 &&
      !(errno == EPERM && geteuid() != 0)) {
    ThrowErrno("cannot change owner of", path);
  }
  if (!is_symlink && fchmodat(dir_fd, name, meta.mode & 07777, 0) != 0) {
    ThrowErrno("cannot change mode of", path);
  }
  const struct timespec times[2] = {ToTimespec(meta.mtime_ns), ToTimespec(meta.mtime_ns)};
  if (utimensat(dir_fd, name, times, AT_SYMLINK_NOFOLLOW) != 0) {
    ThrowErrno("cannot set times of", path);
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

/// One resolved source: where it is read (`real`, symlinks resolved) and the name it was
/// matched under (`matched`, for base names and --parents).
struct ResolvedSource {
  std::string matched;
  std::string real;
  std::string kept;  ///< --parents: the path recreated under the destination
  struct stat st;
};

/// Stages one COPY/ADD. Paths without a leading '/' are relative to the source root or to the
/// staging root ("" is the root).
class Stager {
 public:
  Stager(const CopyRequest& request, const std::filesystem::path& staging_root,
         const std::filesystem::path& scratch_dir)
      : request_(request), scratch_dir_(scratch_dir) {
    std::filesystem::create_directories(staging_root);
    staging_fd_ = UniqueFd(open(staging_root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!staging_fd_.valid()) ThrowErrno("cannot open staging directory", staging_root.string());
    staging_root_ = staging_root;
    // Below a set-gid directory new files take its group, not ours: chown them all then.
    struct stat root;
    if (fstat(staging_fd_.get(), &root) != 0 || (root.st_mode & S_ISGID) != 0)
      creator_gid_ = static_cast<gid_t>(-1);
    created_ns_ = request.created_time ? *request.created_time * 1'000'000'000 : NowNs();
  }

  CopyOutcome Run() {
    if (request_.instruction != "ADD" && !request_.checksum.empty()) {
      throw CopyError("--checksum is only supported by ADD");
    }
    const bool dir_hint = DestinationHintsDirectory(request_.destination);
    destination_ = ResolveDestination();
    std::vector<std::string> urls;
    std::vector<ResolvedSource> local;
    size_t patterns = request_.inline_files.size();
    for (const std::string& source : request_.sources) {
      ++patterns;
      if (IsGitUrl(source)) {
        throw CopyError(request_.instruction + " of git repositories is not supported: " + source);
      }
      if (IsUrlSource(source)) {
        if (request_.instruction != "ADD") {
          throw CopyError("source can't be a URL for COPY: " + source);
        }
        urls.push_back(source);
        continue;
      }
      if (!request_.checksum.empty()) {
        throw CopyError("checksum can't be specified for non-HTTP(S) sources: " + source);
      }
      ResolveLocal(source, local);
    }
    const size_t items = urls.size() + local.size() + request_.inline_files.size();
    if ((patterns > 1 || items > 1) && !dir_hint) {
      throw CopyError("When using " + request_.instruction +
                      " with more than one source file, the destination must be a directory "
                      "and end with a /");
    }
    dest_is_dir_ =
        dir_hint || request_.parents || destination_.empty() || ExistingIsDirectory(destination_);

    for (const ResolvedSource& source : local) StageLocal(source);
    for (const InlineFile& file : request_.inline_files) StageInline(file);
    CopyOutcome outcome;
    outcome.destination = "/" + destination_;
    for (const std::string& url : urls) outcome.downloads.push_back(StageUrl(url));
    FinishDirectories();
    return outcome;
  }

 private:
  static int64_t NowNs() {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return ToNs(ts);
  }

  static bool DestinationHintsDirectory(const std::string& dest) {
    return dest.empty() || dest == "." || dest.back() == '/';
  }

  // ---- destination -------------------------------------------------------------------------

  std::optional<ExistingPath> Existing(const std::string& relative) const {
    if (!request_.existing) return std::nullopt;
    return request_.existing("/" + relative);
  }

  bool ExistingIsDirectory(const std::string& relative) const {
    const std::optional<ExistingPath> existing = Existing(relative);
    return existing && existing->type == EntryType::kDirectory;
  }

  /// The destination, absolute after WORKDIR, cleaned, with the image's symlinks resolved.
  std::string ResolveDestination() const {
    std::string dest = request_.destination;
    if (dest.empty() || dest.front() != '/') dest = request_.workdir + "/" + dest;
    return ResolveInRoot(CleanRelativePath(dest), true,
                         [this](const std::string& path) -> std::optional<std::string> {
                           const std::optional<ExistingPath> existing = Existing(path);
                           if (!existing || existing->type != EntryType::kSymlink) {
                             return std::nullopt;
                           }
                           return existing->link_target;
                         });
  }

  // ---- sources -----------------------------------------------------------------------------

  const UniqueFd& SourceRoot() {
    if (!source_fd_.valid()) {
      source_fd_ = UniqueFd(open(request_.source_root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
      if (!source_fd_.valid()) ThrowErrno("cannot open", request_.source_root.string());
    }
    return source_fd_;
  }

  std::optional<std::string> ReadSourceLink(const std::string& path) {
    char target[4096];
    const ssize_t n = readlinkat(SourceRoot().get(), path.c_str(), target, sizeof target);
    if (n < 0) return std::nullopt;
    return std::string(target, static_cast<size_t>(n));
  }

  std::string ResolveSource(const std::string& path, bool follow_last) {
    return ResolveInRoot(path, follow_last,
                         [this](const std::string& p) { return ReadSourceLink(p); });
  }

  bool Ignored(const std::string& path) const {
    return request_.from_context && !path.empty() && request_.matcher.Excludes(path);
  }

  /// Looks `matched` up (following symlinks, inside the source root); false when missing.
  bool AddIfPresent(const std::string& matched, const PivotedSource& pivot,
                    std::vector<ResolvedSource>& out) {
    ResolvedSource source;
    source.matched = matched;
    source.real = ResolveSource(matched, true);
    const char* name = source.real.empty() ? "." : source.real.c_str();
    if (fstatat(SourceRoot().get(), name, &source.st, AT_SYMLINK_NOFOLLOW) != 0) return false;
    // An ignored directory still counts when an ignore exception re-includes something in it.
    if (Ignored(source.real) &&
        !(S_ISDIR(source.st.st_mode) && request_.matcher.MayIncludeUnder(source.real))) {
      return false;
    }
    if (MatchesAnyOrParent(request_.matcher, request_.excludes, matched)) return true;
    // --parents keeps the part of the matched path after the pivot.
    source.kept = matched.substr(
        std::min(matched.size(), pivot.base.empty() ? size_t{0} : pivot.base.size() + 1));
    out.push_back(std::move(source));
    return true;
  }

  /// Expands the wildcard `pattern` component by component, like Go's filepath.Glob.
  std::vector<std::string> Glob(const std::string& pattern) {
    std::vector<std::string> current = {""};
    size_t start = 0;
    while (start <= pattern.size() && !current.empty()) {
      size_t end = pattern.find('/', start);
      if (end == std::string::npos) end = pattern.size();
      const std::string component = pattern.substr(start, end - start);
      std::vector<std::string> next;
      for (const std::string& dir : current) {
        if (!HasWildcard(component)) {
          next.push_back(Join(dir, component));
          continue;
        }
        const std::string real = ResolveSource(dir, true);
        for (const std::string& name : ListDirectory(real.empty() ? "." : real)) {
          if (request_.matcher.Matches(component, name)) next.push_back(Join(dir, name));
        }
      }
      current = std::move(next);
      start = end + 1;
    }
    return current;
  }

  std::vector<std::string> ListDirectory(const std::string& path) {
    std::vector<std::string> names;
    const int fd = openat(SourceRoot().get(), path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return names;
    DIR* dir = fdopendir(fd);
    if (!dir) {
      close(fd);
      return names;
    }
    while (const dirent* e = readdir(dir)) {
      if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0) {
        names.emplace_back(e->d_name);
      }
    }
    closedir(dir);
    std::sort(names.begin(), names.end());
    return names;
  }

  void ResolveLocal(const std::string& source, std::vector<ResolvedSource>& out) {
    const PivotedSource pivot = SplitParentsPivot(source);
    const std::string cleaned = pivot.Joined();
    bool found = false;
    if (HasWildcard(cleaned)) {
      for (const std::string& matched : Glob(cleaned)) {
        found = AddIfPresent(matched, pivot, out) || found;
      }
    } else {
      found = AddIfPresent(cleaned, pivot, out);
    }
    if (!found) {
      ThrowSourceNotFound(request_.instruction, cleaned.empty() ? "." : cleaned,
                          request_.from_context);
    }
  }

  Metadata SourceMetadata(const struct stat& st) const {
    Metadata meta;
    const bool owned_by_source = !request_.from_context;
    meta.uid = request_.uid.value_or(owned_by_source ? st.st_uid : 0);
    meta.gid = request_.gid.value_or(owned_by_source ? st.st_gid : 0);
    meta.mode = S_ISLNK(st.st_mode) ? 0777 : request_.chmod.value_or(st.st_mode & 07777);
    meta.mtime_ns = ToNs(st.st_mtim);
    return meta;
  }

  Metadata CreatedMetadata(uint32_t mode) const {
    return {request_.chmod.value_or(mode), request_.uid.value_or(0), request_.gid.value_or(0),
            created_ns_};
  }

  // ---- staging -----------------------------------------------------------------------------

  /// Where a source lands: for a directory source, the directory receiving its contents.
  std::string TargetOf(const ResolvedSource& source) const {
    if (request_.parents) return Join(destination_, source.kept);
    if (S_ISDIR(source.st.st_mode) || !dest_is_dir_) return destination_;
    return Join(destination_, BaseName(source.matched.empty() ? "." : source.matched));
  }

  void StageLocal(const ResolvedSource& source) {
    const std::string target = TargetOf(source);
    if (request_.parents) {
      // Recreate the kept parents with the metadata of the source's own parent directories.
      std::string real_parent = Parent(source.real);
      for (std::string kept = Parent(source.kept); !kept.empty(); kept = Parent(kept)) {
        struct stat st;
        if (fstatat(SourceRoot().get(), real_parent.empty() ? "." : real_parent.c_str(), &st,
                    AT_SYMLINK_NOFOLLOW) == 0) {
          SetDirectoryMetadata(Join(destination_, kept), SourceMetadata(st), false);
        }
        real_parent = Parent(real_parent);
      }
    }
    EnsureParents(target);
    if (S_ISDIR(source.st.st_mode)) {
      // A directory the image already has keeps its metadata; a new one takes the source's.
      const std::optional<ExistingPath> existing = Existing(target);
      if (existing && existing->type == EntryType::kDirectory) {
        MakeDirectory(target, {existing->mode, existing->uid, existing->gid, existing->mtime_ns},
                      false);
      } else {
        MakeDirectory(target, SourceMetadata(source.st), true);
      }
      std::string from = source.real;
      std::string to = target;
      std::string relative;
      CopyTree(from, to, relative);
      return;
    }
    if (request_.instruction == "ADD" && request_.from_context && S_ISREG(source.st.st_mode) &&
        IsTarArchive(request_.source_root / source.real)) {
      Extract(source.real, request_.parents ? Parent(target) : destination_);
      return;
    }
    CopyEntry(source.real, target, source.st);
  }

  /// Copies the contents of the source directory `from` into the staged directory `to`.
  /// `relative` is the path below the copied source (for --exclude).
  void CopyTree(std::string& from, std::string& to, std::string& relative) {
    const size_t from_length = from.size(), to_length = to.size(), rel_length = relative.size();
    for (const std::string& name : ListDirectory(from.empty() ? "." : from)) {
      from = Join(from.substr(0, from_length), name);
      to = Join(to.substr(0, to_length), name);
      relative = Join(relative.substr(0, rel_length), name);
      struct stat st;
      if (fstatat(SourceRoot().get(), from.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
        ThrowErrno("cannot stat", from);
      }
      const bool ignored = Ignored(from);
      if (MatchesAnyOrParent(request_.matcher, request_.excludes, relative) ||
          (ignored && !(S_ISDIR(st.st_mode) && request_.matcher.MayIncludeUnder(from)))) {
        continue;
      }
      if (S_ISDIR(st.st_mode)) {
        MakeDirectory(to, SourceMetadata(st), true);
        CopyTree(from, to, relative);
        // An ignored directory entered for its exceptions stays only if something was copied.
        if (ignored && unlinkat(staging_fd_.get(), to.c_str(), AT_REMOVEDIR) == 0) {
          directories_.erase(to);
        }
      } else if (!ignored) {
        CopyEntry(from, to, st);
      }
    }
    from.resize(from_length);
    to.resize(to_length);
    relative.resize(rel_length);
  }

  /// Replaces whatever is staged at `target` (not a directory) so a new entry can be made.
  void ClearTarget(const std::string& target) {
    struct stat st;
    if (target.empty()) return;
    if (fstatat(staging_fd_.get(), target.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) return;
    if (S_ISDIR(st.st_mode)) {
      std::filesystem::remove_all(staging_root_ / target);
      directories_.erase(target);
    } else if (unlinkat(staging_fd_.get(), target.c_str(), 0) != 0) {
      ThrowErrno("cannot replace", target);
    }
  }

  /// Copies one non-directory entry of the source root to the staged path `target`.
  void CopyEntry(const std::string& from, const std::string& target, const struct stat& st) {
    const int dir = staging_fd_.get();
    if (!S_ISREG(st.st_mode) || st.st_nlink > 1) ClearTarget(target);
    if (S_ISREG(st.st_mode) && st.st_nlink > 1) {
      const auto link = hard_links_.find({st.st_dev, st.st_ino});
      if (link != hard_links_.end()) {
        if (linkat(dir, link->second.c_str(), dir, target.c_str(), 0) == 0) return;
      }
      hard_links_[{st.st_dev, st.st_ino}] = target;
    }
    const Metadata meta = SourceMetadata(st);
    if (S_ISREG(st.st_mode)) {
      CopyRegularFile(from, target, st, meta);
      return;
    }
    if (S_ISLNK(st.st_mode)) {
      const std::optional<std::string> link_target = ReadSourceLink(from);
      if (!link_target) ThrowErrno("cannot read symlink", from);
      if (symlinkat(link_target->c_str(), dir, target.c_str()) != 0) {
        ThrowErrno("cannot create symlink", target);
      }
    } else if (S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
      if (mknodat(dir, target.c_str(), (st.st_mode & S_IFMT) | 0600, st.st_rdev) != 0) {
        ThrowErrno("cannot create node", target);
      }
    } else {
      return;  // sockets cannot be part of a layer
    }
    ApplyMetadata(dir, target.c_str(), target, meta, S_ISLNK(st.st_mode));
  }

  /// Copies the regular file `from` to the staged path `target` with `meta`, its bytes and its
  /// layer-worthy xattrs. Every change goes through the open descriptor, and ownership and mode
  /// are only set when creating the file did not already give them: this runs once per copied
  /// file, so each system call saved counts thousands of times.
  void CopyRegularFile(const std::string& from, const std::string& target, const struct stat& st,
                       const Metadata& meta) {
    UniqueFd in(openat(SourceRoot().get(), from.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
    if (!in.valid()) ThrowErrno("cannot open", from);
    const mode_t create_mode = meta.mode & 0777;
    UniqueFd out = CreateStagedFile(target, create_mode);
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
    if ((meta.mode & 07777) != (create_mode & ~umask_) &&
        fchmod(out.get(), meta.mode & 07777) != 0) {
      ThrowErrno("cannot change mode of", target);
    }
    for (const auto& [name, value] : xattrs) {
      fsetxattr(out.get(), name.c_str(), value.data(), value.size(), 0);  // refused ones skipped
    }
    const struct timespec times[2] = {ToTimespec(meta.mtime_ns), ToTimespec(meta.mtime_ns)};
    if (futimens(out.get(), times) != 0) ThrowErrno("cannot set times of", target);
  }

  /// Creates the staged file `target` for writing, replacing whatever is staged there.
  UniqueFd CreateStagedFile(const std::string& target, mode_t mode) {
    const int flags = O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW;
    UniqueFd out(openat(staging_fd_.get(), target.c_str(), flags, mode));
    if (!out.valid() && errno == EEXIST) {
      ClearTarget(target);
      out = UniqueFd(openat(staging_fd_.get(), target.c_str(), flags, mode));
    }
    if (!out.valid()) ThrowErrno("cannot create", target);
    return out;
  }

  /// Creates the staged directory `path` if needed, recording the metadata it ends with;
  /// `overwrite` lets it replace metadata recorded earlier (not an existing image directory's).
  void MakeDirectory(const std::string& path, const Metadata& meta, bool overwrite) {
    if (path.empty()) return;  // the staging root: not an entry of the layer
    if (mkdirat(staging_fd_.get(), path.c_str(), 0700) != 0 && errno != EEXIST) {
      ThrowErrno("cannot create directory", path);
    }
    struct stat st;
    if (fstatat(staging_fd_.get(), path.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
        !S_ISDIR(st.st_mode)) {
      ClearTarget(path);
      if (mkdirat(staging_fd_.get(), path.c_str(), 0700) != 0) {
        ThrowErrno("cannot create directory", path);
      }
    }
    SetDirectoryMetadata(path, meta, overwrite);
  }

  void SetDirectoryMetadata(const std::string& path, const Metadata& meta, bool overwrite) {
    auto [it, inserted] = directories_.emplace(path, meta);
    if (!inserted && overwrite) it->second = meta;
  }

  /// Stages every parent of `target` (not `target`): the image's own metadata for directories
  /// it has, 0755 root:root (created now) for new ones.
  void EnsureParents(const std::string& target) {
    std::vector<std::string> parents;
    for (std::string p = Parent(target); !p.empty(); p = Parent(p)) parents.push_back(p);
    for (auto it = parents.rbegin(); it != parents.rend(); ++it) {
      const std::optional<ExistingPath> existing = Existing(*it);
      // As BuildKit's MkdirAll: a created parent belongs to the --chown owner (mode 0755).
      Metadata meta{0755, request_.uid.value_or(0), request_.gid.value_or(0), created_ns_};
      if (existing && existing->type == EntryType::kDirectory) {
        meta = {existing->mode, existing->uid, existing->gid, existing->mtime_ns};
      }
      MakeDirectory(*it, meta, false);
    }
  }

  void StageInline(const InlineFile& file) {
    const std::string target = dest_is_dir_ ? Join(destination_, file.name) : destination_;
    EnsureParents(target);
    ClearTarget(target);
    const int dir = staging_fd_.get();
    {
      UniqueFd out(openat(dir, target.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
      if (!out.valid()) ThrowErrno("cannot create", target);
      if (write(out.get(), file.content.data(), file.content.size()) !=
          static_cast<ssize_t>(file.content.size())) {
        ThrowErrno("cannot write", target);
      }
    }
    ApplyMetadata(dir, target.c_str(), target, CreatedMetadata(0644), false);
  }

  std::string StageUrl(const std::string& url) {
    std::string target = destination_;
    if (dest_is_dir_) {
      const std::string name = UrlFileName(url);
      if (name.empty()) {
        throw CopyError("cannot determine a file name for " + url +
                        ": give the destination as a file path");
      }
      target = Join(destination_, name);
    }
    const std::filesystem::path download = scratch_dir_ / ("download-" + std::to_string(getpid()));
    FetchOptions options;
    options.expected_digest = request_.checksum;
    const FetchResult fetched = FetchUrl(url, download, options);
    EnsureParents(target);
    ClearTarget(target);
    MoveIntoStaging(download, target);
    Metadata meta = CreatedMetadata(0600);
    if (fetched.last_modified) meta.mtime_ns = *fetched.last_modified * 1'000'000'000;
    ApplyMetadata(staging_fd_.get(), target.c_str(), target, meta, false);
    return url + " " + fetched.digest;
  }

  void MoveIntoStaging(const std::filesystem::path& from, const std::string& target) {
    std::error_code error;
    std::filesystem::rename(from, staging_root_ / target, error);
    if (!error) return;
    std::filesystem::copy_file(from, staging_root_ / target);
    std::filesystem::remove(from);
  }

  /// Extracts the archive `archive` (relative to the source root) into the staged directory
  /// `into`: unpacked in the scratch dir by ApplyLayer (which refuses escaping entries), then
  /// merged into the staging tree.
  void Extract(const std::string& archive, const std::string& into) {
#ifdef KILN_HAVE_LAYER_APPLIER
    EnsureParents(Join(into, "x"));  // `into` and its parents
    const std::filesystem::path unpacked =
        scratch_dir_ / ("extract-" + std::to_string(getpid()) + "-" + std::to_string(++extracts_));
    std::filesystem::remove_all(unpacked);
    try {
      ApplyLayer(request_.source_root / archive, unpacked, WhiteoutMode::kApply);
      if (request_.uid || request_.gid) ChownTree(unpacked);
      MergeInto(unpacked, staging_root_ / into);
    } catch (...) {
      std::filesystem::remove_all(unpacked);
      throw;
    }
    std::filesystem::remove_all(unpacked);
#else
    (void)into;
    throw CopyError("cannot extract " + archive + ": this kiln was built without a layer applier");
#endif
  }

  void ChownTree(const std::filesystem::path& root) {
    for (auto it = std::filesystem::recursive_directory_iterator(root);
         it != std::filesystem::recursive_directory_iterator(); ++it) {
      struct stat st;
      if (lstat(it->path().c_str(), &st) != 0) continue;
      if (lchown(it->path().c_str(), request_.uid.value_or(st.st_uid),
                 request_.gid.value_or(st.st_gid)) != 0 &&
          geteuid() == 0) {
        ThrowErrno("cannot change owner of", it->path().string());
      }
    }
  }

  /// Moves the children of `from` into the directory `to`; directories present on both sides
  /// are merged, anything else is replaced.
  static void MergeInto(const std::filesystem::path& from, const std::filesystem::path& to) {
    for (const auto& child : std::filesystem::directory_iterator(from)) {
      const std::filesystem::path target = to / child.path().filename();
      const auto target_status = std::filesystem::symlink_status(target);
      if (child.is_directory() && !child.is_symlink() &&
          std::filesystem::is_directory(target_status)) {
        MergeInto(child.path(), target);
        continue;
      }
      if (std::filesystem::exists(target_status)) std::filesystem::remove_all(target);
      std::filesystem::rename(child.path(), target);
    }
  }

  /// Applies directory metadata last, deepest first, as writing into them changes mtimes.
  void FinishDirectories() {
    for (auto it = directories_.rbegin(); it != directories_.rend(); ++it) {
      ApplyMetadata(staging_fd_.get(), it->first.c_str(), it->first, it->second, false);
    }
  }

  const CopyRequest& request_;
  std::filesystem::path staging_root_;
  std::filesystem::path scratch_dir_;
  UniqueFd staging_fd_;
  UniqueFd source_fd_;
  int64_t created_ns_ = 0;
  std::string destination_;  ///< relative to the staging root
  bool dest_is_dir_ = false;
  std::map<std::string, Metadata> directories_;  ///< sorted, so parents come before children
  std::map<std::pair<dev_t, ino_t>, std::string> hard_links_;
  int extracts_ = 0;
  const uid_t creator_uid_ = geteuid();
  gid_t creator_gid_ = getegid();  ///< -1 when new files may get another group
  const mode_t umask_ = CurrentUmask();
};

}  // namespace

uint32_t ParseChmod(std::string_view text) {
  uint32_t mode = 0;
  const bool valid =
      !text.empty() && text.size() <= 5 &&
      std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '7'; });
  if (valid) {
    for (char c : text) mode = mode * 8 + static_cast<uint32_t>(c - '0');
  }
  if (!valid || mode > 07777) {
    throw CopyError("invalid --chmod value \"" + std::string(text) +
                    "\": expected an octal mode such as 755 or 0644");
  }
  return mode;
}

DestinationLookup LookupInRootfs(const std::filesystem::path& rootfs) {
  return [rootfs](const std::string& absolute) -> std::optional<ExistingPath> {
    const std::string relative = CleanRelativePath(absolute);
    const std::filesystem::path path = relative.empty() ? rootfs : rootfs / relative;
    struct stat st;
    if (lstat(path.c_str(), &st) != 0) return std::nullopt;
    ExistingPath existing;
    existing.type = EntryTypeFromMode(st.st_mode);
    existing.mode = st.st_mode & 07777;
    existing.uid = st.st_uid;
    existing.gid = st.st_gid;
    existing.mtime_ns = ToNs(st.st_mtim);
    if (existing.type == EntryType::kSymlink) {
      existing.link_target = std::filesystem::read_symlink(path).string();
    }
    return existing;
  };
}

CopyOutcome StageCopy(const CopyRequest& request, const std::filesystem::path& staging_root,
                      const std::filesystem::path& scratch_dir) {
  return Stager(request, staging_root, scratch_dir).Run();
}

}  // namespace kiln
