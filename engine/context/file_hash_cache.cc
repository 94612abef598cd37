#include "engine/context/file_hash_cache.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <fstream>
#include <stdexcept>

#include "engine/base/hash.h"
#include "engine/base/system_error.h"

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

// Field offsets in a saved record.
constexpr size_t kDevAt = 4, kInoAt = 12, kSizeAt = 20, kMtimeAt = 28, kCtimeAt = 36, kHashAt = 44;
constexpr size_t kHashSize = 32;
static_assert(kHashAt + kHashSize == kRecordFixedSize);

template <typename T>
T Field(const char* record, size_t at) {
  T value;
  std::memcpy(&value, record + at, sizeof value);
  return value;
}

std::string_view PathOf(const char* record) {
  return {record + kRecordFixedSize, Field<uint32_t>(record, 0)};
}

size_t RecordSize(const char* record) {
  return kRecordFixedSize + Field<uint32_t>(record, 0);
}

/// `path` and the identity of the file `st` describes, as a saved record.
std::string SavedRecord(const std::string& path, const struct stat& st, const std::string& hash) {
  std::string record;
  record.reserve(kRecordFixedSize + path.size());
  Put<uint32_t>(record, static_cast<uint32_t>(path.size()));
  Put<uint64_t>(record, static_cast<uint64_t>(st.st_dev));
  Put<uint64_t>(record, static_cast<uint64_t>(st.st_ino));
  Put<uint64_t>(record, static_cast<uint64_t>(st.st_size));
  Put<int64_t>(record, Nanoseconds(st.st_mtim));
  Put<int64_t>(record, Nanoseconds(st.st_ctim));
  record.append(hash, 0, kHashSize);
  record.append(path);
  return record;
}

/// The file at `file` mapped read-only (nullptr when missing, empty or unmappable), with its size.
std::shared_ptr<const char> MapFile(const std::filesystem::path& file, size_t* size) {
  const int fd = open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return nullptr;
  struct stat st;
  void* data = MAP_FAILED;
  // Populated at once: one call instead of a page fault per 4 KiB of a file read end to end.
  if (fstat(fd, &st) == 0 && st.st_size > 0)
    data = mmap(nullptr, static_cast<size_t>(st.st_size), PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd,
                0);
  close(fd);
  if (data == MAP_FAILED) return nullptr;
  *size = static_cast<size_t>(st.st_size);
  const size_t length = *size;
  return std::shared_ptr<const char>(static_cast<const char*>(data), [length](const char* p) {
    munmap(const_cast<char*>(p), length);
  });
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
  size_t size = 0;
  std::shared_ptr<const char> mapping = MapFile(file, &size);
  if (!mapping) return cache;  // none yet, or unreadable: start empty
  const char* p = mapping.get();
  const char* const end = p + size;
  if (size < sizeof kMagic + 8 || std::memcmp(p, kMagic, sizeof kMagic) != 0) return cache;
  p += sizeof kMagic;
  const uint64_t count = Field<uint64_t>(p, 0);
  p += sizeof count;
  if (count > size / kRecordFixedSize) return cache;
  cache.slots_.reserve(count);
  for (uint64_t i = 0; i < count; ++i) {
    if (static_cast<size_t>(end - p) < kRecordFixedSize ||
        static_cast<size_t>(end - p) < RecordSize(p))
      return FileHashCache(file);
    cache.slots_.push_back({p});
    p += RecordSize(p);
  }
  if (p != end) return FileHashCache(file);
  cache.mapping_ = std::move(mapping);
  cache.loaded_ = cache.slots_.size();
  return cache;
}

size_t FileHashCache::size() const {
  if (order_.empty()) return loaded_;
  return static_cast<size_t>(
      std::count_if(order_.begin(), order_.end(), [this](uint32_t i) { return slots_[i].live; }));
}

size_t FileHashCache::Find(const std::string& path) {
  if (cursor_ < slots_.size() && PathOf(slots_[cursor_].bytes) == path) {
    return slots_[cursor_].live ? cursor_++ : kNotFound;
  }
  changed_ = true;  // out of order: the saved order will differ
  if (index_.empty()) {
    index_.reserve(slots_.size());
    for (size_t i = 0; i < slots_.size(); ++i) {
      index_.emplace(PathOf(slots_[i].bytes), static_cast<uint32_t>(i));
    }
  }
  const auto it = index_.find(path);
  if (it == index_.end() || !slots_[it->second].live) return kNotFound;
  cursor_ = it->second + 1;
  return it->second;
}

void FileHashCache::MarkUsed(size_t index) {
  Slot& slot = slots_[index];
  if (slot.used) return;
  slot.used = true;
  order_.push_back(static_cast<uint32_t>(index));
}

std::string FileHashCache::Hash(int dir_fd, const char* name, const std::string& path,
                                const struct stat& st) {
  const size_t found = Find(path);
  if (found != kNotFound) {
    const char* r = slots_[found].bytes;
    if (Field<uint64_t>(r, kDevAt) == st.st_dev && Field<uint64_t>(r, kInoAt) == st.st_ino &&
        Field<uint64_t>(r, kSizeAt) == static_cast<uint64_t>(st.st_size) &&
        Field<int64_t>(r, kMtimeAt) == Nanoseconds(st.st_mtim) &&
        Field<int64_t>(r, kCtimeAt) == Nanoseconds(st.st_ctim)) {
      MarkUsed(found);
      return std::string(r + kHashAt, kHashSize);
    }
  }
  const int64_t read_start = NowNs();
  bool stable = false;
  std::string hash = ReadAndHash(dir_fd, name, path, st, &stable);
  const bool racy = Nanoseconds(st.st_ctim) > read_start - kRacyWindowNs ||
                    Nanoseconds(st.st_mtim) > read_start - kRacyWindowNs;
  changed_ = true;
  if (found != kNotFound) slots_[found].live = false;
  if (stable && !racy) {
    const char* record = added_.emplace_back(SavedRecord(path, st, hash)).data();
    slots_.push_back({record});
    const size_t index = slots_.size() - 1;
    if (!index_.empty()) index_[PathOf(record)] = static_cast<uint32_t>(index);
    MarkUsed(index);
  }
  return hash;
}

std::string FileHashCache::ReadAndHash(int dir_fd, const char* name, const std::string& path,
                                       const struct stat& st, bool* stable) {
  const int fd = openat(dir_fd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) ThrowErrno("cannot read", path);
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
  std::vector<Slot> kept;
  for (uint32_t index : order_) {
    const Slot& slot = slots_[index];
    if (!slot.live) continue;
    out.append(slot.bytes, RecordSize(slot.bytes));
    kept.push_back({slot.bytes});
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
  slots_ = std::move(kept);
  order_.clear();
  loaded_ = slots_.size();
  cursor_ = 0;
  changed_ = false;
}

}  // namespace kiln
