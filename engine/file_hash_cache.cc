#include "engine/file_hash_cache.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <fstream>
#include <stdexcept>

#include "engine/atomic_file.h"
#include "engine/hash.h"

namespace kiln {
namespace {

// Binary layout (host byte order; the file never leaves the machine):
//   magic[8] count:u64 { path_len:u32 dev:u64 ino:u64 size:u64 mtime:i64 ctime:i64 hash[32] path }*
constexpr char kMagic[8] = {'K', 'I', 'L', 'N', 'F', 'H', 'C', '1'};
constexpr size_t kRecordFixedSize = 4 + 5 * 8 + 32;
constexpr size_t kReadBufferSize = 256 * 1024;
// Larger than any filesystem timestamp granularity (a jiffy at worst), so a file recorded as
// unchanged cannot be rewritten later with the same ctime.
constexpr int64_t kRacyWindowNs = 20'000'000;

int64_t Nanoseconds(const struct timespec& ts) {
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

int64_t NowNs() {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return Nanoseconds(ts);
}

template <typename T>
void Put(std::string& out, T value) {
  out.append(reinterpret_cast<const char*>(&value), sizeof value);
}

template <typename T>
T Get(const char*& p) {
  T value;
  std::memcpy(&value, p, sizeof value);
  p += sizeof value;
  return value;
}

bool SameFile(const struct stat& a, const struct stat& b) {
  return a.st_dev == b.st_dev && a.st_ino == b.st_ino && a.st_size == b.st_size &&
         Nanoseconds(a.st_mtim) == Nanoseconds(b.st_mtim) &&
         Nanoseconds(a.st_ctim) == Nanoseconds(b.st_ctim);
}

}  // namespace

FileHashCache::FileHashCache(std::filesystem::path file) : file_(std::move(file)) {}

FileHashCache FileHashCache::Load(const std::filesystem::path& file) {
  FileHashCache cache(file);
  std::string data;
  try {
    data = ReadWholeFile(file);
  } catch (const std::system_error&) {
    return cache;  // none yet, or unreadable: start empty
  }
  const char* p = data.data();
  const char* const end = p + data.size();
  if (data.size() < sizeof kMagic + 8 || std::memcmp(p, kMagic, sizeof kMagic) != 0) return cache;
  p += sizeof kMagic;
  const uint64_t count = Get<uint64_t>(p);
  if (count > data.size() / kRecordFixedSize) return cache;
  for (uint64_t i = 0; i < count; ++i) {
    if (static_cast<size_t>(end - p) < kRecordFixedSize) return FileHashCache(file);
    const uint32_t path_len = Get<uint32_t>(p);
    Record& record = cache.records_.emplace_back();
    record.dev = Get<uint64_t>(p);
    record.ino = Get<uint64_t>(p);
    record.size = Get<uint64_t>(p);
    record.mtime_ns = Get<int64_t>(p);
    record.ctime_ns = Get<int64_t>(p);
    std::memcpy(record.hash.data(), p, record.hash.size());
    p += record.hash.size();
    if (static_cast<size_t>(end - p) < path_len) return FileHashCache(file);
    record.path.assign(p, path_len);
    p += path_len;
  }
  if (p != end) return FileHashCache(file);
  cache.loaded_ = cache.records_.size();
  return cache;
}

size_t FileHashCache::size() const {
  if (order_.empty()) return loaded_;
  return static_cast<size_t>(
      std::count_if(order_.begin(), order_.end(), [this](uint32_t i) { return records_[i].live; }));
}

size_t FileHashCache::Find(const std::string& path) {
  if (cursor_ < records_.size() && records_[cursor_].path == path) {
    return records_[cursor_].live ? cursor_++ : kNotFound;
  }
  changed_ = true;  // out of order: the saved order will differ
  if (index_.empty()) {
    index_.reserve(records_.size());
    for (size_t i = 0; i < records_.size(); ++i) {
      index_.emplace(records_[i].path, static_cast<uint32_t>(i));
    }
  }
  const auto it = index_.find(path);
  if (it == index_.end() || !records_[it->second].live) return kNotFound;
  cursor_ = it->second + 1;
  return it->second;
}

void FileHashCache::MarkUsed(size_t index) {
  Record& record = records_[index];
  if (record.used) return;
  record.used = true;
  order_.push_back(static_cast<uint32_t>(index));
}

std::string FileHashCache::Hash(int dir_fd, const char* name, const std::string& path,
                                const struct stat& st) {
  const size_t found = Find(path);
  if (found != kNotFound) {
    const Record& r = records_[found];
    if (r.dev == st.st_dev && r.ino == st.st_ino && r.size == static_cast<uint64_t>(st.st_size) &&
        r.mtime_ns == Nanoseconds(st.st_mtim) && r.ctime_ns == Nanoseconds(st.st_ctim)) {
      MarkUsed(found);
      return std::string(r.hash.data(), r.hash.size());
    }
  }
  const int64_t read_start = NowNs();
  bool stable = false;
  std::string hash = ReadAndHash(dir_fd, name, path, st, &stable);
  const bool racy = Nanoseconds(st.st_ctim) > read_start - kRacyWindowNs ||
                    Nanoseconds(st.st_mtim) > read_start - kRacyWindowNs;
  changed_ = true;
  if (found != kNotFound) records_[found].live = false;
  if (stable && !racy) {
    Record& record = records_.emplace_back();
    record.path = path;
    record.dev = static_cast<uint64_t>(st.st_dev);
    record.ino = static_cast<uint64_t>(st.st_ino);
    record.size = static_cast<uint64_t>(st.st_size);
    record.mtime_ns = Nanoseconds(st.st_mtim);
    record.ctime_ns = Nanoseconds(st.st_ctim);
    std::memcpy(record.hash.data(), hash.data(), record.hash.size());
    const size_t index = records_.size() - 1;
    if (!index_.empty()) index_[record.path] = static_cast<uint32_t>(index);
    MarkUsed(index);
  }
  return hash;
}

std::string FileHashCache::ReadAndHash(int dir_fd, const char* name, const std::string& path,
                                       const struct stat& st, bool* stable) {
  const int fd = openat(dir_fd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) throw std::runtime_error("cannot read " + path + ": " + std::strerror(errno));
  ++files_read_;
  if (buffer_.empty()) buffer_.resize(kReadBufferSize);
  CacheKeyHasher hasher;
  for (;;) {
    const ssize_t n = read(fd, buffer_.data(), buffer_.size());
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      const int error = errno;
      close(fd);
      throw std::runtime_error("cannot read " + path + ": " + std::strerror(error));
    }
    hasher.Update(buffer_.data(), static_cast<size_t>(n));
  }
  // The file may have changed while it was read: record only hashes of a file that looked the
  // same before and after.
  struct stat after;
  *stable = fstat(fd, &after) == 0 && SameFile(st, after);
  close(fd);
  return hasher.HexDigest();
}

void FileHashCache::Save() {
  // Unchanged: every loaded record used, in order. Nothing scanned: nothing to prune by.
  const bool same_as_loaded = !changed_ && order_.size() == loaded_;
  if (file_.empty() || same_as_loaded || (order_.empty() && !changed_)) return;
  std::string out;
  out.reserve(sizeof kMagic + 8 + order_.size() * (kRecordFixedSize + 48));
  out.append(kMagic, sizeof kMagic);
  Put<uint64_t>(out, 0);  // the count, patched below
  std::deque<Record> kept;
  for (uint32_t index : order_) {
    Record& r = records_[index];
    if (!r.live) continue;
    Put<uint32_t>(out, static_cast<uint32_t>(r.path.size()));
    Put<uint64_t>(out, r.dev);
    Put<uint64_t>(out, r.ino);
    Put<uint64_t>(out, r.size);
    Put<int64_t>(out, r.mtime_ns);
    Put<int64_t>(out, r.ctime_ns);
    out.append(r.hash.data(), r.hash.size());
    out.append(r.path);
    kept.push_back(std::move(r));
    kept.back().used = false;
  }
  const uint64_t count = kept.size();
  std::memcpy(out.data() + sizeof kMagic, &count, sizeof count);

  if (file_.has_parent_path()) std::filesystem::create_directories(file_.parent_path());
  std::filesystem::path temp = file_;
  temp += ".tmp." + std::to_string(getpid());
  {
    std::ofstream stream(temp, std::ios::binary | std::ios::trunc);
    stream.write(out.data(), static_cast<std::streamsize>(out.size()));
    stream.close();
    if (!stream) {
      std::error_code ignored;
      std::filesystem::remove(temp, ignored);
      throw std::runtime_error("cannot write hash cache " + temp.string());
    }
  }
  std::filesystem::rename(temp, file_);
  // What was saved is what a fresh Load() would see.
  index_.clear();
  records_ = std::move(kept);
  order_.clear();
  loaded_ = records_.size();
  cursor_ = 0;
  changed_ = false;
}

}  // namespace kiln
