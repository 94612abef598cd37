#include "engine/base/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

#include "engine/base/system_error.h"
#include "engine/base/unique_fd.h"

namespace kiln {
namespace fs = std::filesystem;
namespace {

/// Everything left to read from `fd` (`path` names it in errors).
std::string ReadAll(int fd, const fs::path& path) {
  std::string out;
  struct stat st;
  if (::fstat(fd, &st) == 0 && st.st_size > 0) out.reserve(static_cast<size_t>(st.st_size));
  char buffer[1 << 16];
  while (true) {
    ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0) {
      if (errno == EINTR) continue;
      ThrowErrno("cannot read", path);
    }
    if (n == 0) return out;
    out.append(buffer, static_cast<size_t>(n));
  }
}

}  // namespace

AtomicFileWriter::AtomicFileWriter(const fs::path& tmp_dir) {
  std::string pattern = (tmp_dir / ".tmp-XXXXXX").string();
  fd_ = ::mkostemp(pattern.data(), O_CLOEXEC);
  if (fd_ < 0) ThrowErrno("cannot create a temporary file in", tmp_dir);
  temp_path_ = pattern;
  // mkstemp creates 0600; stored files are world-readable like the rest of the store.
  if (::fchmod(fd_, 0644) != 0) {
    const int error = errno;
    const fs::path temp_path = temp_path_;
    Discard();
    ThrowErrno("cannot chmod", temp_path, error);
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
      ThrowErrno("cannot write", temp_path_);
    }
    p += n;
    size -= static_cast<size_t>(n);
  }
}

void AtomicFileWriter::Sync() {
  if (fd_ < 0) return;
  if (::fsync(fd_) != 0) ThrowErrno("cannot fsync", temp_path_);
  Close();
}

void AtomicFileWriter::Close() {
  if (fd_ >= 0 && ::close(std::exchange(fd_, -1)) != 0) ThrowErrno("cannot close", temp_path_);
}

void AtomicFileWriter::Commit(const fs::path& target, Durability durability) {
  if (durability == Durability::kSynced) Sync();
  Close();
  if (::rename(temp_path_.c_str(), target.c_str()) != 0) {
    ThrowErrno("cannot rename " + temp_path_.string() + " to", target);
  }
  temp_path_.clear();
  if (durability == Durability::kSynced) {
    SyncDirectory(target.parent_path().empty() ? fs::path(".") : target.parent_path());
  }
}

void AtomicFileWriter::Discard() noexcept {
  if (fd_ >= 0) ::close(std::exchange(fd_, -1));
  if (!temp_path_.empty()) {
    ::unlink(temp_path_.c_str());
    temp_path_.clear();
  }
}

void WriteFileAtomic(const fs::path& target, std::string_view data, const fs::path& tmp_dir,
                     Durability durability) {
  fs::path dir = !tmp_dir.empty() ? tmp_dir : target.parent_path();
  AtomicFileWriter writer(dir.empty() ? fs::path(".") : dir);
  writer.Write(data);
  writer.Commit(target, durability);
}

std::string ReadWholeFile(const fs::path& path) {
  const UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) ThrowErrno("cannot open", path);
  return ReadAll(fd.get(), path);
}

std::optional<std::string> ReadRegularFileIfPresent(const fs::path& path) {
  // O_NONBLOCK: opening a FIFO must not wait for a writer; it is then refused below.
  const UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK));
  if (!fd.valid()) {
    if (errno == ENOENT || errno == ENOTDIR || errno == ELOOP) return std::nullopt;
    ThrowErrno("cannot open", path);
  }
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) ThrowErrno("cannot stat", path);
  if (!S_ISREG(st.st_mode)) return std::nullopt;
  return ReadAll(fd.get(), path);
}

void SyncDirectory(const fs::path& dir) {
  const UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid()) ThrowErrno("cannot open directory", dir);
  if (::fsync(fd.get()) != 0) ThrowErrno("cannot fsync directory", dir);
}

}  // namespace kiln
