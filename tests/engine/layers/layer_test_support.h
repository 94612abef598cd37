// Helpers shared by the layer writer and applier tests: temp dirs, reading and crafting tars.
#pragma once

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "engine/base/unique_fd.h"
#include "engine/layers/layer_writer.h"
#include "tests/support/temp_dir.h"

namespace kiln::testing {

namespace fs = std::filesystem;

inline bool IsRoot() {
  return ::geteuid() == 0;
}

inline void WriteFile(const fs::path& path, const std::string& data) {
  fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << data;
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

inline std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

inline void SetXattr(const fs::path& path, const std::string& name, const std::string& value) {
  if (::lsetxattr(path.c_str(), name.c_str(), value.data(), value.size(), 0) != 0)
    throw std::runtime_error("setxattr " + name + " on " + path.string() + " failed");
}

/// The value of xattr `name` on `path` (not followed), or "<none>".
inline std::string GetXattr(const fs::path& path, const std::string& name) {
  char buf[4096];
  const ssize_t n = ::lgetxattr(path.c_str(), name.c_str(), buf, sizeof buf);
  return n < 0 ? "<none>" : std::string(buf, static_cast<size_t>(n));
}

/// Sets a path's mtime (not followed).
inline void SetMtime(const fs::path& path, int64_t seconds) {
  const timespec times[2] = {{seconds, 0}, {seconds, 0}};
  if (::utimensat(AT_FDCWD, path.c_str(), times, AT_SYMLINK_NOFOLLOW) != 0)
    throw std::runtime_error("utimensat failed on " + path.string());
}

/// A file's bytes plus the writer's result.
struct WrittenLayer {
  LayerBlob blob;
  std::string bytes;
};

inline WrittenLayer WriteLayerToFile(const fs::path& root, const fs::path& tar,
                                     const LayerOptions& opts = {}) {
  UniqueFd fd(::open(tar.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (!fd.valid()) throw std::runtime_error("cannot create " + tar.string());
  LayerBlob blob = WriteLayer(root, fd.get(), opts);
  fd.Reset();
  return {blob, ReadFile(tar)};
}

/// One entry as libarchive reads it back.
struct TarEntry {
  std::string name;
  mode_t type = 0;
  uint32_t perm = 0;
  int64_t uid = 0, gid = 0;
  int64_t mtime = 0;
  bool atime_set = false, ctime_set = false;
  std::string uname, gname;
  std::string symlink, hardlink;
  std::string data;
  unsigned rdev_major = 0, rdev_minor = 0;
  std::map<std::string, std::string> xattrs;
};

inline std::vector<TarEntry> ReadTar(const fs::path& tar) {
  std::unique_ptr<archive, decltype(&archive_read_free)> ar(archive_read_new(), &archive_read_free);
  archive_read_support_filter_all(ar.get());
  archive_read_support_format_tar(ar.get());
  if (archive_read_open_filename(ar.get(), tar.c_str(), 65536) != ARCHIVE_OK)
    throw std::runtime_error("cannot open " + tar.string());
  std::vector<TarEntry> out;
  archive_entry* e = nullptr;
  int r;
  while ((r = archive_read_next_header(ar.get(), &e)) == ARCHIVE_OK || r == ARCHIVE_WARN) {
    TarEntry t;
    t.name = archive_entry_pathname(e);
    t.type = archive_entry_filetype(e);
    t.perm = archive_entry_perm(e);
    t.uid = archive_entry_uid(e);
    t.gid = archive_entry_gid(e);
    t.mtime = archive_entry_mtime(e);
    t.atime_set = archive_entry_atime_is_set(e);
    t.ctime_set = archive_entry_ctime_is_set(e);
    if (const char* s = archive_entry_uname(e)) t.uname = s;
    if (const char* s = archive_entry_gname(e)) t.gname = s;
    if (const char* s = archive_entry_symlink(e)) t.symlink = s;
    if (const char* s = archive_entry_hardlink(e)) t.hardlink = s;
    t.rdev_major = archive_entry_rdevmajor(e);
    t.rdev_minor = archive_entry_rdevminor(e);
    archive_entry_xattr_reset(e);
    const char* name;
    const void* value;
    size_t size;
    while (archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK)
      t.xattrs[name] = std::string(static_cast<const char*>(value), size);
    char buf[65536];
    la_ssize_t n;
    while ((n = archive_read_data(ar.get(), buf, sizeof buf)) > 0)
      t.data.append(buf, static_cast<size_t>(n));
    out.push_back(std::move(t));
  }
  if (r != ARCHIVE_EOF) throw std::runtime_error("cannot read " + tar.string());
  return out;
}

inline std::vector<std::string> Names(const std::vector<TarEntry>& entries) {
  std::vector<std::string> names;
  for (const TarEntry& e : entries) names.push_back(e.name);
  return names;
}

/// An entry to craft: type 'f' file (text = data), 'd' dir, 'l' symlink and 'h' hard link (text =
/// target), 'c' char device 0/0.
struct TarSpec {
  std::string name;
  char type = 'f';
  std::string text;
  uint32_t perm = 0;  // 0: 0755 for directories, 0644 otherwise
  int64_t mtime = 1600000000;
  std::map<std::string, std::string> xattrs;
};

/// Writes a pax tar of `specs` to `tar`, compressed with libarchive filter `filter` ("none",
/// "gzip", "bzip2", "xz", "zstd").
inline void WriteTar(const fs::path& tar, const std::vector<TarSpec>& specs,
                     const std::string& filter = "none") {
  std::unique_ptr<archive, decltype(&archive_write_free)> ar(archive_write_new(),
                                                             &archive_write_free);
  archive_write_set_format_pax_restricted(ar.get());
  if (filter != "none" && archive_write_add_filter_by_name(ar.get(), filter.c_str()) != ARCHIVE_OK)
    throw std::runtime_error("no libarchive filter " + filter);
  if (archive_write_open_filename(ar.get(), tar.c_str()) != ARCHIVE_OK)
    throw std::runtime_error("cannot create " + tar.string());
  for (const TarSpec& s : specs) {
    std::unique_ptr<archive_entry, decltype(&archive_entry_free)> e(archive_entry_new(),
                                                                    &archive_entry_free);
    archive_entry_copy_pathname(e.get(), s.name.c_str());
    archive_entry_set_perm(e.get(), s.perm ? s.perm : s.type == 'd' ? 0755 : 0644);
    archive_entry_set_mtime(e.get(), s.mtime, 0);
    switch (s.type) {
      case 'd':
        archive_entry_set_filetype(e.get(), AE_IFDIR);
        break;
      case 'l':
        archive_entry_set_filetype(e.get(), AE_IFLNK);
        archive_entry_copy_symlink(e.get(), s.text.c_str());
        break;
      case 'h':
        archive_entry_set_filetype(e.get(), AE_IFREG);
        archive_entry_copy_hardlink(e.get(), s.text.c_str());
        break;
      case 'c':
        archive_entry_set_filetype(e.get(), AE_IFCHR);
        break;
      default:
        archive_entry_set_filetype(e.get(), AE_IFREG);
        archive_entry_set_size(e.get(), static_cast<la_int64_t>(s.text.size()));
    }
    for (const auto& [name, value] : s.xattrs)
      archive_entry_xattr_add_entry(e.get(), name.c_str(), value.data(), value.size());
    if (archive_write_header(ar.get(), e.get()) != ARCHIVE_OK)
      throw std::runtime_error("cannot write header " + s.name);
    if (s.type == 'f' && !s.text.empty())
      archive_write_data(ar.get(), s.text.data(), s.text.size());
  }
  if (archive_write_close(ar.get()) != ARCHIVE_OK) throw std::runtime_error("cannot close tar");
}

}  // namespace kiln::testing
