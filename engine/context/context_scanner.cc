#include "engine/context/context_scanner.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <exception>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>

#include "engine/base/hash.h"
#include "engine/base/system_error.h"
#include "engine/context/file_hash_cache.h"

namespace kiln {
namespace {

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

/// What hashing a regular file needs from its lstat: the scan stats in parallel, and hashes
/// afterwards in path order (the order the hash cache is saved in, so its lookups stay cheap).
struct FileStat {
  dev_t dev;
  ino_t ino;
  off_t size;
  struct timespec mtime, ctime;

  explicit FileStat(const struct stat& st)
      : dev(st.st_dev), ino(st.st_ino), size(st.st_size), mtime(st.st_mtim), ctime(st.st_ctim) {}
  struct stat ToStat() const {
    struct stat st {};
    st.st_mode = S_IFREG;
    st.st_dev = dev;
    st.st_ino = ino;
    st.st_size = size;
    st.st_mtim = mtime;
    st.st_ctim = ctime;
    return st;
  }
};

/// Entries found by one scanning thread; `stats[i]` belongs to `entries[i]` (regular files only).
struct ScanOutput {
  std::deque<ContextEntry> entries;  // a deque: growing moves nothing
  std::deque<std::optional<FileStat>> stats;
};

/// Walks a context with a few threads sharing a queue of directories. Each directory is listed
/// and its entries stat'ed by one thread; the system calls, most of a scan's cost, spread over
/// the cores. An excluded directory entered for its ignore exceptions is walked whole by the
/// thread that found it, which alone can tell whether anything below it was kept.
class ParallelScanner {
 public:
  ParallelScanner(int root_fd, const PathMatcher& matcher) : root_fd_(root_fd), matcher_(matcher) {}

  /// Scans everything below the root with `threads` threads (the caller's among them).
  std::vector<ScanOutput> Run(unsigned threads) {
    queue_.emplace_back();  // the root
    std::vector<ScanOutput> outputs(threads);
    std::vector<std::thread> helpers;
    for (unsigned i = 1; i < threads; ++i) {
      helpers.emplace_back([&, i] { Work(outputs[i]); });
    }
    Work(outputs[0]);
    for (std::thread& t : helpers) t.join();
    if (error_) std::rethrow_exception(error_);
    return outputs;
  }

 private:
  void Work(ScanOutput& out) {
    for (;;) {
      std::string dir;
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [&] { return !queue_.empty() || busy_ == 0 || error_; });
        if (error_ || queue_.empty()) return;
        dir = std::move(queue_.front());
        queue_.pop_front();
        ++busy_;
      }
      try {
        std::string path = dir;
        ScanDirectory(root_fd_, dir.empty() ? "." : dir.c_str(), path, out, true);
      } catch (...) {
        std::lock_guard<std::mutex> lock(mu_);
        if (!error_) error_ = std::current_exception();
      }
      {
        std::lock_guard<std::mutex> lock(mu_);
        --busy_;
      }
      cv_.notify_all();
    }
  }

  /// Appends the entries below the directory `name` of `parent_fd`, whose path is `path`. Its
  /// subdirectories go to the queue when `share` is set, else are walked here.
  void ScanDirectory(int parent_fd, const char* name, std::string& path, ScanOutput& out,
                     bool share) {
    DirStream dir(parent_fd, name, path.empty() ? std::string(".") : path);
    const size_t base_length = path.size();
    while (const char* child = dir.Next()) {
      if (base_length != 0) path += '/';
      path += child;
      ScanEntry(dir.fd(), child, path, out, share);
      path.resize(base_length);
    }
  }

  void ScanEntry(int dir_fd, const char* name, std::string& path, ScanOutput& out, bool share) {
    struct stat st;
    if (fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) ThrowErrno("cannot stat", path);
    const bool is_dir = S_ISDIR(st.st_mode);
    if (matcher_.Excludes(path)) {
      if (!is_dir || !matcher_.MayIncludeUnder(path)) return;
      const size_t before = out.entries.size();
      ScanDirectory(dir_fd, name, path, out, false);
      if (out.entries.size() != before) AddEntry(dir_fd, name, path, st, out);
      return;
    }
    AddEntry(dir_fd, name, path, st, out);
    if (!is_dir) return;
    if (!share) {
      ScanDirectory(dir_fd, name, path, out, false);
      return;
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      queue_.push_back(path);
    }
    cv_.notify_one();
  }

  void AddEntry(int dir_fd, const char* name, const std::string& path, const struct stat& st,
                ScanOutput& out) {
    ContextEntry& entry = out.entries.emplace_back();
    entry.path = path;
    entry.type = EntryTypeFromMode(st.st_mode);
    entry.mode = st.st_mode & 07777;
    entry.uid = st.st_uid;
    entry.gid = st.st_gid;
    if (entry.type == EntryType::kRegular) {
      entry.size = static_cast<uint64_t>(st.st_size);
      out.stats.emplace_back(st);
      return;
    }
    out.stats.emplace_back();
    if (entry.type == EntryType::kSymlink) {
      entry.link_target.resize(static_cast<size_t>(st.st_size) + 1);
      const ssize_t n =
          readlinkat(dir_fd, name, entry.link_target.data(), entry.link_target.size());
      if (n < 0) ThrowErrno("cannot read symlink", path);
      entry.link_target.resize(static_cast<size_t>(n));
    }
  }

  const int root_fd_;
  const PathMatcher& matcher_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> queue_;  ///< directories to list, relative to the root
  int busy_ = 0;                   ///< threads listing a directory
  std::exception_ptr error_;
};

/// How many threads scan: the cores, up to a few (past that the file system is the limit).
unsigned ScanThreads() {
  return std::clamp(std::thread::hardware_concurrency(), 1u, 4u);
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

  /// The selected entries, sorted by path, each once.
  std::vector<const ContextEntry*> Take() {
    // The index is sorted by path with unique paths, so address order is path order.
    std::sort(selected_.begin(), selected_.end());
    selected_.erase(std::unique(selected_.begin(), selected_.end()), selected_.end());
    return std::move(selected_);
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
  FileHashCache& hashes = cache ? *cache : memory_only;
  // Opening the root itself follows a symlink: the context may be given through one.
  const int root_fd = open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (root_fd < 0) ThrowErrno("cannot open build context", root);
  struct RootCloser {
    int fd;
    ~RootCloser() { close(fd); }
  } closer{root_fd};
  std::vector<ScanOutput> outputs = ParallelScanner(root_fd, matcher).Run(ScanThreads());

  struct Found {
    std::string_view path;  // the sort key, next to the pointers: fewer cache misses
    ContextEntry* entry;
    const std::optional<FileStat>* stat;
  };
  const auto by_path = [](const Found& a, const Found& b) { return a.path < b.path; };
  // Each scanning thread's entries are sorted on a thread of their own, then merged.
  std::vector<std::vector<Found>> runs(outputs.size());
  auto sort_run = [&](size_t i) {
    ScanOutput& out = outputs[i];
    runs[i].reserve(out.entries.size());
    for (size_t j = 0; j < out.entries.size(); ++j)
      runs[i].push_back({out.entries[j].path, &out.entries[j], &out.stats[j]});
    std::sort(runs[i].begin(), runs[i].end(), by_path);
  };
  std::vector<std::thread> sorters;
  for (size_t i = 1; i < runs.size(); ++i) sorters.emplace_back(sort_run, i);
  sort_run(0);
  for (std::thread& t : sorters) t.join();
  std::vector<Found> found = std::move(runs[0]);
  for (size_t i = 1; i < runs.size(); ++i) {
    std::vector<Found> merged(found.size() + runs[i].size());
    std::merge(found.begin(), found.end(), runs[i].begin(), runs[i].end(), merged.begin(), by_path);
    found = std::move(merged);
  }
  std::vector<ContextEntry> entries;
  entries.reserve(found.size());
  for (const Found& f : found) {
    if (*f.stat) {
      const struct stat st = (*f.stat)->ToStat();
      f.entry->content_hash = hashes.Hash(root_fd, f.entry->path.c_str(), f.entry->path, st);
    }
    entries.push_back(std::move(*f.entry));
  }
  return entries;
}

std::vector<const ContextEntry*> SelectEntryRefs(const std::vector<ContextEntry>& entries,
                                                 const std::vector<std::string>& sources,
                                                 const std::vector<std::string>& excludes,
                                                 const PathMatcher& matcher,
                                                 std::string_view instruction) {
  Selector selector(entries, excludes, matcher);
  for (const std::string& source : sources) {
    if (!selector.AddSource(source)) {
      ThrowSourceNotFound(instruction, SplitParentsPivot(source).Joined(), true);
    }
  }
  return selector.Take();
}

std::vector<ContextEntry> SelectEntries(const std::vector<ContextEntry>& entries,
                                        const std::vector<std::string>& sources,
                                        const std::vector<std::string>& excludes,
                                        const PathMatcher& matcher, std::string_view instruction) {
  std::vector<ContextEntry> copies;
  for (const ContextEntry* entry :
       SelectEntryRefs(entries, sources, excludes, matcher, instruction))
    copies.push_back(*entry);
  return copies;
}

std::string InputsDigest(const std::vector<const ContextEntry*>& entries) {
  auto by_path = [](const ContextEntry* a, const ContextEntry* b) { return a->path < b->path; };
  std::vector<const ContextEntry*> sorted;
  const std::vector<const ContextEntry*>* in_order = &entries;
  if (!std::is_sorted(entries.begin(), entries.end(), by_path)) {  // selections come sorted
    sorted = entries;
    std::sort(sorted.begin(), sorted.end(), by_path);
    in_order = &sorted;
  }
  CacheKeyHasher hasher;
  for (const ContextEntry* entry : *in_order) {
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

std::string InputsDigest(const std::vector<ContextEntry>& entries) {
  std::vector<const ContextEntry*> refs;
  refs.reserve(entries.size());
  for (const ContextEntry& entry : entries) refs.push_back(&entry);
  return InputsDigest(refs);
}

}  // namespace kiln
