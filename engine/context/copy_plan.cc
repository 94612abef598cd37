#include "engine/context/copy_plan.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>

#include "engine/base/system_error.h"
#include "engine/base/unique_fd.h"
#include "engine/context/staging_tree.h"
#include "engine/context/url_fetch.h"
#include "engine/layers/archive_detect.h"

#if __has_include("engine/layers/layer_applier.h")
#include "engine/layers/layer_applier.h"
#define KILN_HAVE_LAYER_APPLIER 1
#endif

namespace kiln {
namespace {

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
      : request_(request), scratch_dir_(scratch_dir), tree_(staging_root) {
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
    tree_.Finish();
    return outcome;
  }

 private:
  static int64_t NowNs() {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return TimespecNs(ts);
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

  StagedMetadata SourceMetadata(const struct stat& st) const {
    StagedMetadata meta;
    const bool owned_by_source = !request_.from_context;
    meta.uid = request_.uid.value_or(owned_by_source ? st.st_uid : 0);
    meta.gid = request_.gid.value_or(owned_by_source ? st.st_gid : 0);
    meta.mode = S_ISLNK(st.st_mode) ? 0777 : request_.chmod.value_or(st.st_mode & 07777);
    meta.mtime_ns = TimespecNs(st.st_mtim);
    return meta;
  }

  StagedMetadata CreatedMetadata(uint32_t mode) const {
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
          tree_.SetDirectoryMetadata(Join(destination_, kept), SourceMetadata(st), false);
        }
        real_parent = Parent(real_parent);
      }
    }
    EnsureParents(target);
    if (S_ISDIR(source.st.st_mode)) {
      // A directory the image already has keeps its metadata; a new one takes the source's.
      const std::optional<ExistingPath> existing = Existing(target);
      if (existing && existing->type == EntryType::kDirectory) {
        tree_.MakeDirectory(
            target, {existing->mode, existing->uid, existing->gid, existing->mtime_ns}, false);
      } else {
        tree_.MakeDirectory(target, SourceMetadata(source.st), true);
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
    tree_.CopyEntry(SourceRoot().get(), source.real, target, source.st, SourceMetadata(source.st));
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
        tree_.MakeDirectory(to, SourceMetadata(st), true);
        CopyTree(from, to, relative);
        // An ignored directory entered for its exceptions stays only if something was copied.
        if (ignored) tree_.RemoveIfEmpty(to);
      } else if (!ignored) {
        tree_.CopyEntry(SourceRoot().get(), from, to, st, SourceMetadata(st));
      }
    }
    from.resize(from_length);
    to.resize(to_length);
    relative.resize(rel_length);
  }

  /// Stages every parent of `target` (not `target`): the image's own metadata for directories
  /// it has, 0755 root:root (created now) for new ones.
  void EnsureParents(const std::string& target) {
    std::vector<std::string> parents;
    for (std::string p = Parent(target); !p.empty(); p = Parent(p)) parents.push_back(p);
    for (auto it = parents.rbegin(); it != parents.rend(); ++it) {
      const std::optional<ExistingPath> existing = Existing(*it);
      // As BuildKit's MkdirAll: a created parent belongs to the --chown owner (mode 0755).
      StagedMetadata meta{0755, request_.uid.value_or(0), request_.gid.value_or(0), created_ns_};
      if (existing && existing->type == EntryType::kDirectory) {
        meta = {existing->mode, existing->uid, existing->gid, existing->mtime_ns};
      }
      tree_.MakeDirectory(*it, meta, false);
    }
  }

  void StageInline(const InlineFile& file) {
    const std::string target = dest_is_dir_ ? Join(destination_, file.name) : destination_;
    EnsureParents(target);
    tree_.WriteFile(target, file.content, CreatedMetadata(0644));
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
    StagedMetadata meta = CreatedMetadata(0600);
    if (fetched.last_modified) meta.mtime_ns = *fetched.last_modified * 1'000'000'000;
    tree_.MoveFileIn(download, target, meta);
    return url + " " + fetched.digest;
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
      tree_.MergeIn(unpacked, into);
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

  const CopyRequest& request_;
  std::filesystem::path scratch_dir_;
  StagingTree tree_;
  UniqueFd source_fd_;
  int64_t created_ns_ = 0;
  std::string destination_;  ///< relative to the staging root
  bool dest_is_dir_ = false;
  int extracts_ = 0;
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
    existing.mtime_ns = TimespecNs(st.st_mtim);
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
