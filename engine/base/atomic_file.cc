#include "engine/base/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>
#include <utility>

namespace kiln {
namespace fs = std::filesystem;
namespace {

[[noreturn]] void ThrowErrno(const std::string& what) {
  throw std::system_error(errno, std::generic_category(), what);
}

}  // namespace

AtomicFileWriter::AtomicFileWriter(const fs::path& tmp_dir) {
  std::string pattern = (tmp_dir / ".tmp-XXXXXX").string();
  fd_ = ::mkostemp(pattern.data(), O_CLOEXEC);
  if (fd_ < 0) ThrowErrno("cannot create a temporary file in " + tmp_dir.string());
  temp_path_ = pattern;
  // mkstemp creates 0600; stored files are world-readable like the rest of the store.
  if (::fchmod(fd_, 0644) != 0) {
    int saved = errno;
    Discard();
    errno = saved;
    ThrowErrno("cannot chmod " + temp_path_.string());
  }
}

AtomicFileWriter::~AtomicFileWriter() {
  Discard();
}

AtomicFileWriter::AtomicFileWriter(AtomicFileWriter&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), temp_path_(std::exchange(other.temp_path_, {})) {}

AtomicFileWriter& AtomicFileWriter::operator=(AtomicFileWriter&& other) noexcept {
  if (this != &other) {
    Discard();
    fd_ = std::exchange(other.fd_, -1);
    temp_path_ = std::exchange(other.temp_path_, {});
  }
  return *this;
}

void AtomicFileWriter::Write(const void* data, size_t size) {
  const char* p = static_cast<const char*>(data);
  while (size > 0) {
    ssize_t n = ::write(fd_, p, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      ThrowErrno("cannot write " + temp_path_.string());
    }
    p += n;
    size -= static_cast<size_t>(n);
  }
}

void AtomicFileWriter::Sync() {
  if (fd_ < 0) return;
  if (::fsync(fd_) != 0) ThrowErrno("cannot fsync " + temp_path_.string());
  if (::close(std::exchange(fd_, -1)) != 0) ThrowErrno("cannot close " + temp_path_.string());
}

void AtomicFileWriter::Commit(const fs::path& target) {
  Sync();
  if (::rename(temp_path_.c_str(), target.c_str()) != 0) {
    ThrowErrno("cannot rename " + temp_path_.string() + " to " + target.string());
  }
  temp_path_.clear();
  SyncDirectory(target.parent_path().empty() ? fs::path(".") : target.parent_path());
}

void AtomicFileWriter::Discard() noexcept {
  if (fd_ >= 0) ::close(std::exchange(fd_, -1));
  if (!temp_path_.empty()) {
    ::unlink(temp_path_.c_str());
    temp_path_.clear();
  }
}

void WriteFileAtomic(const fs::path& target, std::string_view data, const fs::path& tmp_dir) {
  fs::path dir = !tmp_dir.empty() ? tmp_dir : target.parent_path();
  AtomicFileWriter writer(dir.empty() ? fs::path(".") : dir);
  writer.Write(data);
  writer.Commit(target);
}

std::string ReadWholeFile(const fs::path& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) ThrowErrno("cannot open " + path.string());
  std::string out;
  struct stat st;
  if (::fstat(fd, &st) == 0 && st.st_size > 0) out.reserve(static_cast<size_t>(st.st_size));
  char buffer[1 << 16];
  while (true) {
    ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0) {
      if (errno == EINTR) continue;
      int saved = errno;
      ::close(fd);
      errno = saved;
      ThrowErrno("cannot read " + path.string());
    }
    if (n == 0) break;
    out.append(buffer, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

void SyncDirectory(const fs::path& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) ThrowErrno("cannot open directory " + dir.string());
  int rc = ::fsync(fd);
  int saved = errno;
  ::close(fd);
  errno = saved;
  if (rc != 0) ThrowErrno("cannot fsync directory " + dir.string());
}

}  // namespace kiln
