#include "engine/layers/layer_writer.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <memory>
#include <thread>
#include <utility>
#include <vector>

#include "engine/base/hash.h"
#include "engine/base/scoped_locale.h"
#include "engine/base/system_error.h"
#include "engine/base/unique_fd.h"
#include "engine/layers/archive_ptr.h"
#include "engine/layers/libarchive_api.h"
#include "engine/layers/whiteout.h"

namespace kiln {
namespace {

/// File data is read in pieces of this size.
constexpr size_t kReadBufferSize = 1 << 20;
/// The tar is written out in pieces of this size: large enough that writes are few, small
/// enough that a layer of small files does not fault in a megabyte of buffer.
constexpr size_t kOutBufferSize = 256 << 10;
/// Files from this size on are worth a read-ahead hint; for smaller ones it is one more call.
constexpr off_t kSequentialHintSize = 1 << 20;
/// Regular files up to this size are read ahead of their turn, in parallel with the rest of
/// their directory, when the directory has at least kReadAheadMinEntries entries; a chunk of
/// kReadAheadChunk entries is read ahead at a time, which bounds the memory held.
constexpr off_t kReadAheadMaxSize = 64 << 10;
constexpr size_t kReadAheadMinEntries = 32;
constexpr size_t kReadAheadChunk = 256;

using EntryPtr = ArchiveEntryPtr;

EntryPtr NewEntry() {
  EntryPtr entry(LibArchive().entry_new());
  if (!entry) throw std::bad_alloc();
  return entry;
}

// "DIR/BASE" -> {"DIR/", "BASE"}; "BASE" -> {"", "BASE"}.
std::pair<std::string, std::string> SplitName(const std::string& name) {
  const auto slash = name.rfind('/');
  if (slash == std::string::npos) return {"", name};
  return {name.substr(0, slash + 1), name.substr(slash + 1)};
}

struct Xattr {
  std::string name;
  std::string value;
};

/// Where an entry's extended attributes are read: its open descriptor when there is one (no
/// path walk), else its path, not followed.
struct XattrSource {
  int fd = -1;
  const std::string& path;

  ssize_t List(char* buffer, size_t size) const {
    return fd >= 0 ? ::flistxattr(fd, buffer, size) : ::llistxattr(path.c_str(), buffer, size);
  }
  ssize_t Get(const char* name, void* buffer, size_t size) const {
    return fd >= 0 ? ::fgetxattr(fd, name, buffer, size)
                   : ::lgetxattr(path.c_str(), name, buffer, size);
  }
};

// Extended attributes of an entry, sorted by name, minus the ones that describe the machine
// rather than the file (overlayfs internals, SELinux labels).
std::vector<Xattr> ReadXattrs(const std::string& entry, const XattrSource& source,
                              bool overlay_upper, bool* opaque) {
  *opaque = false;
  std::vector<Xattr> out;
  const std::string& path = source.path;
  ssize_t size = source.List(nullptr, 0);
  if (size < 0) {
    if (errno == ENOTSUP) return out;
    throw EntryError(entry, ErrnoMessage("cannot list xattrs of " + path));
  }
  if (size == 0) return out;  // the usual case: one system call
  std::string names(static_cast<size_t>(size), '\0');
  size = source.List(names.data(), names.size());
  if (size < 0) throw EntryError(entry, ErrnoMessage("cannot list xattrs of " + path));
  names.resize(static_cast<size_t>(size));
  for (size_t pos = 0; pos < names.size();) {
    std::string name(names.c_str() + pos);
    pos += name.size() + 1;
    if (name.empty()) continue;
    const bool overlay_attr = name.starts_with("trusted.overlay.") ||
                              (overlay_upper && name.starts_with("user.overlay."));
    std::string value;
    ssize_t n = source.Get(name.c_str(), nullptr, 0);
    if (n < 0 && errno == ENODATA) continue;
    if (n >= 0) {
      value.resize(static_cast<size_t>(n));
      n = source.Get(name.c_str(), value.data(), value.size());
    }
    if (n < 0) throw EntryError(entry, ErrnoMessage("cannot read xattr " + name + " of " + path));
    value.resize(static_cast<size_t>(n));
    if (overlay_attr) {
      if (overlay_upper && name.ends_with(".overlay.opaque") && value == "y") *opaque = true;
      continue;
    }
    if (name == "security.selinux") continue;
    out.push_back({std::move(name), std::move(value)});
  }
  std::sort(out.begin(), out.end(), [](const Xattr& a, const Xattr& b) { return a.name < b.name; });
  return out;
}

/// An entry on disk: `name` inside the directory `dir_fd` (AT_FDCWD with a whole path), and its
/// full `path` for messages and the few calls that need a path.
struct DiskEntry {
  int dir_fd;
  const char* name;
  const std::string& path;
};

/// A small regular file read ahead of its turn: everything its tar entry needs.
struct ReadAhead {
  bool ready = false;  ///< false: not read ahead (not a small single-link file, or an error)
  struct stat st;
  std::vector<Xattr> xattrs;
  std::string data;
};

/// Reads `at` ahead when it is a regular file of at most kReadAheadMaxSize bytes with a single
/// link. Anything unexpected (an error included) leaves it not ready: the entry is then added
/// the usual way, which reports the error in its turn.
ReadAhead ReadFileAhead(const DiskEntry& at, bool overlay_upper) {
  ReadAhead ahead;
  if (::fstatat(at.dir_fd, at.name, &ahead.st, AT_SYMLINK_NOFOLLOW) != 0 ||
      !S_ISREG(ahead.st.st_mode) || ahead.st.st_size > kReadAheadMaxSize || ahead.st.st_nlink != 1)
    return ahead;
  UniqueFd fd(::openat(at.dir_fd, at.name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd.valid()) return ahead;
  try {
    bool opaque = false;
    ahead.xattrs = ReadXattrs(at.path, {fd.get(), at.path}, overlay_upper, &opaque);
  } catch (const std::exception&) {
    return ahead;
  }
  ahead.data.resize(static_cast<size_t>(ahead.st.st_size));
  size_t done = 0;
  while (done < ahead.data.size()) {
    const ssize_t n = ::read(fd.get(), ahead.data.data() + done, ahead.data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return ahead;
    done += static_cast<size_t>(n);
  }
  ahead.ready = true;
  return ahead;
}

}  // namespace

struct LayerWriter::Impl {
  int out_fd;
  LayerOptions opts;
  Sha256 sha;
  uint64_t size = 0;
  std::vector<char> out_buf;
  /// Not value-initialized: a fresh page costs a fault, and small files touch only the first.
  std::unique_ptr<char[]> read_buf = std::make_unique_for_overwrite<char[]>(kReadBufferSize);
  archive* ar = nullptr;
  std::map<std::pair<dev_t, ino_t>, std::string> first_names;  // inodes with more than one link
  int write_errno = 0;
  bool finished = false;

  Impl(int fd, LayerOptions o) : out_fd(fd), opts(std::move(o)) {
    ScopedUtf8Locale locale;
    out_buf.reserve(kOutBufferSize);
    ar = LibArchive().write_new();
    if (!ar) throw std::bad_alloc();
    // No blocking by libarchive: the callback buffers, and the archive ends right after its two
    // zero blocks instead of being padded to 10 KiB.
    if (LibArchive().write_set_format_pax_restricted(ar) != ARCHIVE_OK ||
        LibArchive().write_set_bytes_per_block(ar, 0) != ARCHIVE_OK ||
        LibArchive().write_open(ar, this, nullptr, &Impl::WriteCallback, nullptr) != ARCHIVE_OK) {
      const std::string message =
          LibArchive().error_string(ar) ? LibArchive().error_string(ar) : "unknown";
      LibArchive().write_free(ar);
      throw LayerError("cannot start layer tar: " + message);
    }
  }
  ~Impl() {
    if (ar) LibArchive().write_free(ar);
  }

  static la_ssize_t WriteCallback(archive*, void* self, const void* data, size_t n) {
    auto* impl = static_cast<Impl*>(self);
    try {  // nothing may unwind through libarchive's C frames
      return impl->Buffer(static_cast<const char*>(data), n) ? static_cast<la_ssize_t>(n) : -1;
    } catch (const std::exception&) {
      return -1;
    }
  }

  bool Buffer(const char* data, size_t n) {
    sha.Update(data, n);
    size += n;
    if (out_buf.size() + n > kOutBufferSize && !Flush()) return false;
    if (n >= kOutBufferSize) return WriteAll(data, n);
    out_buf.insert(out_buf.end(), data, data + n);
    return true;
  }

  bool Flush() {
    const bool ok = WriteAll(out_buf.data(), out_buf.size());
    out_buf.clear();
    return ok;
  }

  bool WriteAll(const char* data, size_t n) {
    while (n > 0) {
      const ssize_t w = ::write(out_fd, data, n);
      if (w < 0) {
        if (errno == EINTR) continue;
        write_errno = errno;
        return false;
      }
      data += w;
      n -= static_cast<size_t>(w);
    }
    return true;
  }

  [[noreturn]] void ThrowArchive(const std::string& entry, const char* what) {
    std::string reason = std::string(what) + ": ";
    if (write_errno)
      reason += std::string("cannot write the layer: ") + std::strerror(write_errno);
    else
      reason += LibArchive().error_string(ar) ? LibArchive().error_string(ar) : "unknown error";
    if (entry.empty()) throw LayerError(reason);
    throw EntryError(entry, reason);
  }

  void CheckOpen(const std::string& entry) const {
    if (finished) throw LayerError("cannot add \"" + entry + "\": the layer is already finished");
  }

  int64_t Clamp(int64_t t) const {
    return opts.source_date_epoch && t > *opts.source_date_epoch ? *opts.source_date_epoch : t;
  }

  void WriteHeader(const std::string& entry, archive_entry* e) {
    // Warnings (e.g. a name libarchive cannot translate) still produce a deterministic header.
    if (LibArchive().write_header(ar, e) < ARCHIVE_WARN) ThrowArchive(entry, "cannot write header");
  }

  void SetMetadata(archive_entry* e, const EntryMetadata& meta, mode_t type) {
    LibArchive().entry_set_filetype(e, type);
    LibArchive().entry_set_perm(e, meta.mode & 07777);
    LibArchive().entry_set_uid(e, meta.uid);
    LibArchive().entry_set_gid(e, meta.gid);
    LibArchive().entry_set_mtime(e, Clamp(meta.mtime), 0);
  }

  void AddEmptyFile(const std::string& name, const EntryMetadata& meta) {
    CheckOpen(name);
    EntryPtr e = NewEntry();
    LibArchive().entry_copy_pathname(e.get(), name.c_str());
    SetMetadata(e.get(), meta, AE_IFREG);
    LibArchive().entry_set_size(e.get(), 0);
    WriteHeader(name, e.get());
  }

  void AddWhiteout(const std::string& name, const EntryMetadata& meta) {
    auto [dir, base] = SplitName(name);
    AddEmptyFile(std::string(dir).append(kWhiteoutPrefix).append(base), meta);
  }

  void AddOpaque(const std::string& dir, const EntryMetadata& meta) {
    std::string prefix = dir;
    if (!prefix.empty() && prefix.back() != '/') prefix += '/';
    AddEmptyFile(prefix.append(kOpaqueMarker), meta);
  }

  void AddDirectory(const std::string& name, const EntryMetadata& meta) {
    CheckOpen(name);
    EntryPtr e = NewEntry();
    LibArchive().entry_copy_pathname(e.get(), (name.ends_with('/') ? name : name + "/").c_str());
    SetMetadata(e.get(), meta, AE_IFDIR);
    WriteHeader(name, e.get());
  }

  /// The metadata the disk entry `st` gets in the tar: its own, with the options' overrides.
  EntryMetadata TarMetadata(const struct stat& st) const {
    EntryMetadata meta{static_cast<uint32_t>(st.st_mode & 07777), st.st_uid, st.st_gid,
                       static_cast<int64_t>(st.st_mtime)};
    if (opts.uid) meta.uid = *opts.uid;
    if (opts.gid) meta.gid = *opts.gid;
    if (opts.mode_override && !S_ISLNK(st.st_mode)) meta.mode = *opts.mode_override & 07777;
    return meta;
  }

  /// A new entry named `name` (directories get their trailing slash) with `meta`.
  EntryPtr StartEntry(const std::string& name, const struct stat& st, const EntryMetadata& meta) {
    EntryPtr e = NewEntry();
    LibArchive().entry_copy_pathname(
        e.get(), (S_ISDIR(st.st_mode) && !name.ends_with('/') ? name + "/" : name).c_str());
    SetMetadata(e.get(), meta, st.st_mode & S_IFMT);
    return e;
  }

  /// Adds a regular file read ahead as `name`: what AddFromDisk writes for it.
  void AddReadAhead(const std::string& name, const ReadAhead& ahead) {
    CheckOpen(name);
    EntryPtr e = StartEntry(name, ahead.st, TarMetadata(ahead.st));
    for (const Xattr& x : ahead.xattrs)
      LibArchive().entry_xattr_add_entry(e.get(), x.name.c_str(), x.value.data(), x.value.size());
    LibArchive().entry_set_size(e.get(), static_cast<int64_t>(ahead.data.size()));
    WriteHeader(name, e.get());
    if (!ahead.data.empty() &&
        LibArchive().write_data(ar, ahead.data.data(), ahead.data.size()) < 0)
      ThrowArchive(name, "cannot write data");
  }

  /// Adds the entry `at` as `name`. Returns an open descriptor of it when it is a directory
  /// (not a symlink to one) whose contents may follow, else an invalid one.
  UniqueFd AddFromDisk(const std::string& name, const DiskEntry& at) {
    CheckOpen(name);
    const std::string& path = at.path;
    struct stat st;
    if (::fstatat(at.dir_fd, at.name, &st, AT_SYMLINK_NOFOLLOW) != 0)
      throw EntryError(name, ErrnoMessage("cannot stat " + path));
    if (S_ISSOCK(st.st_mode)) return {};  // tar cannot hold sockets; they are runtime artefacts
    if (opts.overlay_upper && IsWhiteoutDevice(st)) {  // keeps its own owner: no overrides
      AddWhiteout(name, {0600, st.st_uid, st.st_gid, static_cast<int64_t>(st.st_mtime)});
      return {};
    }
    const EntryMetadata meta = TarMetadata(st);
    EntryPtr e = StartEntry(name, st, meta);

    if (!S_ISDIR(st.st_mode) && st.st_nlink > 1) {
      auto [it, inserted] = first_names.try_emplace({st.st_dev, st.st_ino}, name);
      if (!inserted) {
        LibArchive().entry_set_filetype(e.get(), AE_IFREG);
        LibArchive().entry_copy_hardlink(e.get(), it->second.c_str());
        LibArchive().entry_set_size(e.get(), 0);
        WriteHeader(name, e.get());
        return {};
      }
    }

    // Files and directories are opened (before any header, so an unreadable one fails without a
    // torn entry) and their xattrs read through the descriptor.
    UniqueFd fd;
    if (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)) {
      const int flags = O_RDONLY | O_NOFOLLOW | O_CLOEXEC | (S_ISDIR(st.st_mode) ? O_DIRECTORY : 0);
      fd = UniqueFd(::openat(at.dir_fd, at.name, flags));
      if (!fd.valid()) throw EntryError(name, ErrnoMessage("cannot open " + path));
    }
    bool opaque = false;
    for (const Xattr& x : ReadXattrs(name, {fd.get(), path}, opts.overlay_upper, &opaque))
      LibArchive().entry_xattr_add_entry(e.get(), x.name.c_str(), x.value.data(), x.value.size());

    if (S_ISLNK(st.st_mode)) {
      LibArchive().entry_copy_symlink(e.get(), ReadLink(name, at, st).c_str());
    } else if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
      LibArchive().entry_set_rdevmajor(e.get(), major(st.st_rdev));
      LibArchive().entry_set_rdevminor(e.get(), minor(st.st_rdev));
    } else if (S_ISREG(st.st_mode)) {
      LibArchive().entry_set_size(e.get(), st.st_size);
    }
    WriteHeader(name, e.get());
    if (S_ISREG(st.st_mode)) {
      if (st.st_size >= kSequentialHintSize) ::posix_fadvise(fd.get(), 0, 0, POSIX_FADV_SEQUENTIAL);
      CopyData(name, path, fd.get(), static_cast<uint64_t>(st.st_size));
      return {};
    }
    if (S_ISDIR(st.st_mode) && opaque) AddOpaque(name, {meta.mode, meta.uid, meta.gid, meta.mtime});
    return S_ISDIR(st.st_mode) ? std::move(fd) : UniqueFd();
  }

  std::string ReadLink(const std::string& name, const DiskEntry& at, const struct stat& st) {
    std::string target(static_cast<size_t>(st.st_size > 0 ? st.st_size : 4096), '\0');
    for (;;) {
      const ssize_t n = ::readlinkat(at.dir_fd, at.name, target.data(), target.size());
      if (n < 0) throw EntryError(name, ErrnoMessage("cannot read symlink " + at.path));
      if (static_cast<size_t>(n) < target.size()) {
        target.resize(static_cast<size_t>(n));
        return target;
      }
      target.resize(target.size() * 2);
    }
  }

  void CopyData(const std::string& name, const std::string& path, int fd, uint64_t remaining) {
    while (remaining > 0) {
      const size_t want = static_cast<size_t>(std::min<uint64_t>(remaining, kReadBufferSize));
      const ssize_t n = ::read(fd, read_buf.get(), want);
      if (n < 0) {
        if (errno == EINTR) continue;
        throw EntryError(name, ErrnoMessage("cannot read " + path));
      }
      if (n == 0) throw EntryError(name, path + " shrank while it was being written to the layer");
      if (LibArchive().write_data(ar, read_buf.get(), static_cast<size_t>(n)) < 0)
        ThrowArchive(name, "cannot write data");
      remaining -= static_cast<uint64_t>(n);
    }
  }

  // The name a child gets in the tar, which decides its place in the sorted order.
  std::string OutputName(int dir_fd, const std::string& child) const {
    if (opts.overlay_upper) {
      struct stat st;
      if (::fstatat(dir_fd, child.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && IsWhiteoutDevice(st))
        return std::string(kWhiteoutPrefix).append(child);
    }
    return child;
  }

  /// Adds `at` as `name` (unless `name` is empty: then only its contents) and, when it is a
  /// directory, everything below it. Each directory stays open while its children are added, so
  /// every child is reached by its own name rather than a walk of its whole path.
  void AddTree(const std::string& name, const DiskEntry& at) {
    UniqueFd dir;
    if (!name.empty()) {
      dir = AddFromDisk(name, at);
      if (!dir.valid()) return;
    } else {
      dir = UniqueFd(::openat(at.dir_fd, at.name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (!dir.valid()) {
        if (errno == ENOTDIR || errno == ELOOP) throw LayerError(at.path + " is not a directory");
        throw LayerError(ErrnoMessage("cannot open " + at.path));
      }
    }
    std::vector<std::pair<std::string, std::string>> children;  // output name, disk name
    {
      DIR* listing = ::fdopendir(::fcntl(dir.get(), F_DUPFD_CLOEXEC, 0));
      if (!listing) throw EntryError(name, ErrnoMessage("cannot list " + at.path));
      errno = 0;
      while (const dirent* d = ::readdir(listing)) {
        const std::string child = d->d_name;
        if (child != "." && child != "..")
          children.emplace_back(OutputName(dir.get(), child), child);
        errno = 0;
      }
      const int read_errno = errno;
      ::closedir(listing);
      if (read_errno)
        throw EntryError(name, "cannot list " + at.path + ": " + std::strerror(read_errno));
    }
    std::sort(children.begin(), children.end());
    const std::string prefix = name.empty() || name.ends_with('/') ? name : name + "/";
    const std::string dir_path = at.path.ends_with('/') ? at.path : at.path + "/";
    std::vector<ReadAhead> ahead;
    for (size_t first = 0; first < children.size(); first += kReadAheadChunk) {
      const size_t count = std::min(kReadAheadChunk, children.size() - first);
      if (children.size() >= kReadAheadMinEntries)
        ahead = ReadChunkAhead(dir.get(), dir_path, children, first, count);
      for (size_t i = 0; i < count; ++i) {
        const std::string& disk_name = children[first + i].second;
        if (!ahead.empty() && ahead[i].ready) {
          AddReadAhead(prefix + disk_name, ahead[i]);
          continue;
        }
        const std::string child_path = dir_path + disk_name;
        AddTree(prefix + disk_name, {dir.get(), disk_name.c_str(), child_path});
      }
    }
  }

  /// Reads the small files among `count` children from `first` ahead, half of them on a helper
  /// thread: their system calls (stat, open, xattrs, read, close) are most of a layer's time.
  std::vector<ReadAhead> ReadChunkAhead(
      int dir_fd, const std::string& dir_path,
      const std::vector<std::pair<std::string, std::string>>& children, size_t first,
      size_t count) const {
    std::vector<ReadAhead> ahead(count);
    auto read_range = [&](size_t begin, size_t end) {
      for (size_t i = begin; i < end; ++i) {
        const std::string& disk_name = children[first + i].second;
        const std::string path = dir_path + disk_name;
        try {  // nothing may escape a thread; a file not read ahead is added the usual way
          ahead[i] = ReadFileAhead({dir_fd, disk_name.c_str(), path}, opts.overlay_upper);
        } catch (const std::exception&) {
          ahead[i].ready = false;
        }
      }
    };
    std::thread helper(read_range, count / 2, count);
    read_range(0, count / 2);
    helper.join();
    return ahead;
  }

  LayerBlob Finish() {
    if (finished) throw LayerError("the layer is already finished");
    finished = true;
    if (LibArchive().write_close(ar) != ARCHIVE_OK) ThrowArchive("", "cannot finish the layer");
    if (!Flush()) ThrowArchive("", "cannot finish the layer");
    return {sha.Digest(), size};
  }
};

LayerWriter::LayerWriter(int out_fd, LayerOptions opts)
    : impl_(std::make_unique<Impl>(out_fd, std::move(opts))) {}
LayerWriter::~LayerWriter() = default;

void LayerWriter::AddEntryFromDisk(const std::string& name_in_tar,
                                   const std::filesystem::path& disk_path) {
  ScopedUtf8Locale locale;
  const std::string path = disk_path.string();
  impl_->AddFromDisk(name_in_tar, {AT_FDCWD, path.c_str(), path});
}

void LayerWriter::AddTreeFromDisk(const std::string& name_in_tar,
                                  const std::filesystem::path& disk_path) {
  ScopedUtf8Locale locale;
  const std::string path = disk_path.string();
  impl_->AddTree(name_in_tar, {AT_FDCWD, path.c_str(), path});
}

void LayerWriter::AddWhiteout(const std::string& name, const EntryMetadata& meta) {
  ScopedUtf8Locale locale;
  impl_->AddWhiteout(name, meta);
}

void LayerWriter::AddOpaque(const std::string& dir, const EntryMetadata& meta) {
  ScopedUtf8Locale locale;
  impl_->AddOpaque(dir, meta);
}

void LayerWriter::AddDirectory(const std::string& name, const EntryMetadata& meta) {
  ScopedUtf8Locale locale;
  impl_->AddDirectory(name, meta);
}

LayerBlob LayerWriter::Finish() {
  ScopedUtf8Locale locale;
  return impl_->Finish();
}

LayerBlob WriteLayer(const std::filesystem::path& root, int out_fd, const LayerOptions& opts) {
  LayerWriter writer(out_fd, opts);
  writer.AddTreeFromDisk("", root);
  return writer.Finish();
}

}  // namespace kiln
