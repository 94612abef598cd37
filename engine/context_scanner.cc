#include "engine/context_scanner.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "engine/file_hash_cache.h"
#include "engine/hash.h"

namespace kiln {
namespace {

[[noreturn]] void ThrowErrno(const std::string& what, const std::string& path) {
  throw std::runtime_error(what + " " + path + ": " + std::strerror(errno));
}

/// Owns a directory stream opened relative to a parent descriptor, without following symlinks.
class DirStream {
 public:
  DirStream(int parent_fd, const char* name, const std::string& path) {
    const int fd = openat(parent_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) ThrowErrno("cannot open directory", path);
    dir_ = fdopendir(fd);
    if (!dir_) {
      close(fd);
      ThrowErrno("cannot read directory", path);
    }
  }
  ~DirStream() { closedir(dir_); }
  DirStream(const DirStream&) = delete;
  DirStream& operator=(const DirStream&) = delete;

  int fd() const { return dirfd(dir_); }
  /// The next name other than "." and "..", or nullptr at the end.
  const char* Next() {
    while (const dirent* e = readdir(dir_)) {
      if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0) return e->d_name;
    }
    return nullptr;
  }

 private:
  DIR* dir_ = nullptr;
};

class Scanner {
 public:
  Scanner(const PathMatcher& matcher, FileHashCache& cache, std::vector<ContextEntry>& out)
      : matcher_(matcher), cache_(cache), out_(out) {}

  /// Appends the entries below the directory `name` of `parent_fd`; `path_` holds its path.
  void ScanDirectory(int parent_fd, const char* name) {
    DirStream dir(parent_fd, name, path_.empty() ? std::string(".") : path_);
    const size_t base_length = path_.size();
    while (const char* child = dir.Next()) {
      if (base_length != 0) path_ += '/';
      path_ += child;
      ScanEntry(dir.fd(), child);
      path_.resize(base_length);
    }
  }

 private:
  void ScanEntry(int dir_fd, const char* name) {
    struct stat st;
    if (fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) ThrowErrno("cannot stat", path_);
    const bool is_dir = S_ISDIR(st.st_mode);
    if (matcher_.Excludes(path_)) {
      if (!is_dir || !matcher_.MayIncludeUnder(path_)) return;
      const size_t before = out_.size();
      ScanDirectory(dir_fd, name);
      if (out_.size() != before) out_.push_back(MakeEntry(dir_fd, name, st));
      return;
    }
    out_.push_back(MakeEntry(dir_fd, name, st));
    if (is_dir) ScanDirectory(dir_fd, name);
  }

  ContextEntry MakeEntry(int dir_fd, const char* name, const struct stat& st) {
    ContextEntry entry;
    entry.path = path_;
    entry.type = EntryTypeFromMode(st.st_mode);
    entry.mode = st.st_mode & 07777;
    entry.uid = st.st_uid;
    entry.gid = st.st_gid;
    if (entry.type == EntryType::kRegular) {
      entry.size = static_cast<uint64_t>(st.st_size);
      entry.content_hash = cache_.Hash(dir_fd, name, path_, st);
    } else if (entry.type == EntryType::kSymlink) {
      entry.link_target.resize(static_cast<size_t>(st.st_size) + 1);
      const ssize_t n =
          readlinkat(dir_fd, name, entry.link_target.data(), entry.link_target.size());
      if (n < 0) ThrowErrno("cannot read symlink", path_);
      entry.link_target.resize(static_cast<size_t>(n));
    }
    return entry;
  }

  const PathMatcher& matcher_;
  FileHashCache& cache_;
  std::vector<ContextEntry>& out_;
  std::string path_;
};

bool ByPath(const ContextEntry& a, const ContextEntry& b) {
  return a.path < b.path;
}

/// Entry lookups over a sorted entry list.
class EntryIndex {
 public:
  explicit EntryIndex(const std::vector<ContextEntry>& entries) : entries_(entries) {}

  const ContextEntry* Find(std::string_view path) const {
    auto it =
        std::lower_bound(entries_.begin(), entries_.end(), path,
                         [](const ContextEntry& e, std::string_view p) { return e.path < p; });
    return it != entries_.end() && it->path == path ? &*it : nullptr;
  }

  /// [first, last) of the entries strictly below `dir` ("" = the root).
  std::pair<size_t, size_t> Below(const std::string& dir) const {
    if (dir.empty()) return {0, entries_.size()};
    return {LowerBound(dir + '/'), LowerBound(dir + static_cast<char>('/' + 1))};
  }

  const ContextEntry& operator[](size_t i) const { return entries_[i]; }

  std::optional<std::string> ReadLink(const std::string& path) const {
    const ContextEntry* entry = Find(path);
    if (!entry || entry->type != EntryType::kSymlink) return std::nullopt;
    return entry->link_target;
  }

 private:
  size_t LowerBound(const std::string& path) const {
    return static_cast<size_t>(
        std::lower_bound(entries_.begin(), entries_.end(), path,
                         [](const ContextEntry& e, const std::string& p) { return e.path < p; }) -
        entries_.begin());
  }
  const std::vector<ContextEntry>& entries_;
};

class Selector {
 public:
  Selector(const std::vector<ContextEntry>& entries, const std::vector<std::string>& excludes,
           const PathMatcher& matcher)
      : index_(entries), excludes_(excludes), matcher_(matcher) {}

  /// Adds the entries of one source; false when it matches nothing.
  bool AddSource(const std::string& source) {
    const std::string cleaned = SplitParentsPivot(source).Joined();
    if (cleaned.empty()) {
      AddBelow("");
      return true;
    }
    if (!HasWildcard(cleaned)) return AddMatched(cleaned);
    // Resolve the literal directory before the first wildcard, then match below it.
    const size_t wildcard = cleaned.find_first_of("*?[\\");
    const size_t slash = cleaned.rfind('/', wildcard);
    std::string prefix;
    std::string pattern = cleaned;
    if (slash != std::string::npos) {
      prefix = Resolve(cleaned.substr(0, slash), true);
      pattern = prefix.empty() ? cleaned.substr(slash + 1) : prefix + cleaned.substr(slash);
    }
    bool found = false;
    auto [first, last] = index_.Below(prefix);
    std::vector<std::string> matched;
    for (size_t i = first; i < last; ++i) {
      if (matcher_.Matches(pattern, index_[i].path)) matched.push_back(index_[i].path);
    }
    for (const std::string& path : matched) found = AddMatched(path) || found;
    return found || !matched.empty();
  }

  std::vector<ContextEntry> Take() {
    // The index is sorted by path with unique paths, so address order is path order: sorting
    // and deduplicating pointers is cheap, and each entry is copied once.
    std::sort(selected_.begin(), selected_.end());
    selected_.erase(std::unique(selected_.begin(), selected_.end()), selected_.end());
    std::vector<ContextEntry> entries;
    entries.reserve(selected_.size());
    for (const ContextEntry* entry : selected_) entries.push_back(*entry);
    return entries;
  }

 private:
  std::string Resolve(const std::string& path, bool follow_last) const {
    return ResolveInRoot(path, follow_last,
                         [this](const std::string& p) { return index_.ReadLink(p); });
  }

  /// Adds the source at `path` (following symlinks to it); false when it does not exist.
  bool AddMatched(const std::string& path) {
    if (MatchesAnyOrParent(matcher_, excludes_, path)) return true;
    const std::string resolved = Resolve(path, true);
    const ContextEntry* entry = resolved.empty() ? nullptr : index_.Find(resolved);
    if (resolved.empty()) {
      AddBelow("");
      return true;
    }
    if (!entry) return false;
    selected_.push_back(entry);
    if (entry->type == EntryType::kDirectory) AddBelow(resolved);
    return true;
  }

  void AddBelow(const std::string& dir) {
    auto [first, last] = index_.Below(dir);
    const size_t skip = dir.empty() ? 0 : dir.size() + 1;
    for (size_t i = first; i < last; ++i) {
      const std::string_view relative = std::string_view(index_[i].path).substr(skip);
      if (!MatchesAnyOrParent(matcher_, excludes_, relative)) selected_.push_back(&index_[i]);
    }
  }

  EntryIndex index_;
  const std::vector<std::string>& excludes_;
  const PathMatcher& matcher_;
  std::vector<const ContextEntry*> selected_;  ///< into the index's entries
};

}  // namespace

char EntryTypeCode(EntryType type) {
  switch (type) {
    case EntryType::kRegular:
      return 'f';
    case EntryType::kDirectory:
      return 'd';
    case EntryType::kSymlink:
      return 'l';
    case EntryType::kFifo:
      return 'p';
    case EntryType::kCharDevice:
      return 'c';
    case EntryType::kBlockDevice:
      return 'b';
    case EntryType::kSocket:
      return 's';
  }
  return '?';
}

EntryType EntryTypeFromMode(uint32_t st_mode) {
  if (S_ISDIR(st_mode)) return EntryType::kDirectory;
  if (S_ISLNK(st_mode)) return EntryType::kSymlink;
  if (S_ISFIFO(st_mode)) return EntryType::kFifo;
  if (S_ISCHR(st_mode)) return EntryType::kCharDevice;
  if (S_ISBLK(st_mode)) return EntryType::kBlockDevice;
  if (S_ISSOCK(st_mode)) return EntryType::kSocket;
  return EntryType::kRegular;
}

std::vector<ContextEntry> ScanContext(const std::filesystem::path& root, const PathMatcher& matcher,
                                      FileHashCache* cache) {
  FileHashCache memory_only;
  std::vector<ContextEntry> entries;
  if (cache) entries.reserve(cache->size() + cache->size() / 8);
  Scanner scanner(matcher, cache ? *cache : memory_only, entries);
  // Opening the root itself follows a symlink: the context may be given through one.
  const int root_fd = open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (root_fd < 0) ThrowErrno("cannot open build context", root.string());
  try {
    scanner.ScanDirectory(root_fd, ".");
  } catch (...) {
    close(root_fd);
    throw;
  }
  close(root_fd);
  std::sort(entries.begin(), entries.end(), ByPath);
  return entries;
}

std::vector<ContextEntry> SelectEntries(const std::vector<ContextEntry>& entries,
                                        const std::vector<std::string>& sources,
                                        const std::vector<std::string>& excludes,
                                        const PathMatcher& matcher, std::string_view instruction) {
  Selector selector(entries, excludes, matcher);
  for (const std::string& source : sources) {
    if (!selector.AddSource(source)) {
      ThrowSourceNotFound(instruction, SplitParentsPivot(source).Joined(), true);
    }
  }
  return selector.Take();
}

std::string InputsDigest(const std::vector<ContextEntry>& entries) {
  std::vector<const ContextEntry*> sorted;
  sorted.reserve(entries.size());
  for (const ContextEntry& entry : entries) sorted.push_back(&entry);
  std::sort(sorted.begin(), sorted.end(),
            [](const ContextEntry* a, const ContextEntry* b) { return a->path < b->path; });
  CacheKeyHasher hasher;
  for (const ContextEntry* entry : sorted) {
    const char type = EntryTypeCode(entry->type);
    const uint32_t numbers[3] = {entry->mode, entry->uid, entry->gid};
    hasher.AddField(entry->path);
    hasher.Update(&type, 1);
    hasher.Update(numbers, sizeof numbers);
    hasher.AddField(entry->link_target);
    hasher.AddField(entry->content_hash);
  }
  return hasher.HexDigest();
}

}  // namespace kiln
