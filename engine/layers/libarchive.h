// libarchive, loaded when first used: include this instead of <archive.h> / <archive_entry.h>.
//
// Most kiln processes (config-only steps, image edges, `kiln build` itself) never touch a tar,
// and loading libarchive with its dependencies (compression libraries, libxml2, ICU) at program
// start cost about as much as all of such a process's own work. Every libarchive function used
// through this header is resolved with dlsym the first time a call site runs.
#pragma once

#include <archive.h>
#include <archive_entry.h>

namespace kiln {

/// Starts loading libarchive on another thread, for a process that will soon need it and has
/// other work to do meanwhile (loading takes about 5 ms: it brings ICU and libxml2 along).
void PreloadLibArchive();

/// The libarchive function `name`; loads libarchive on first use. Throws std::runtime_error
/// naming the package to install when it or the function is missing.
void* LibArchiveSymbol(const char* name);

}  // namespace kiln

// Each call site resolves its function once; the names stay those of libarchive's API.
#define KILN_LIBARCHIVE(f)                                                                       \
  ([]() noexcept(false) {                                                                        \
    static const auto resolved = reinterpret_cast<decltype(&::f)>(::kiln::LibArchiveSymbol(#f)); \
    return resolved;                                                                             \
  }())

#define archive_entry_atime KILN_LIBARCHIVE(archive_entry_atime)
#define archive_entry_atime_is_set KILN_LIBARCHIVE(archive_entry_atime_is_set)
#define archive_entry_atime_nsec KILN_LIBARCHIVE(archive_entry_atime_nsec)
#define archive_entry_copy_hardlink KILN_LIBARCHIVE(archive_entry_copy_hardlink)
#define archive_entry_copy_pathname KILN_LIBARCHIVE(archive_entry_copy_pathname)
#define archive_entry_copy_symlink KILN_LIBARCHIVE(archive_entry_copy_symlink)
#define archive_entry_ctime_is_set KILN_LIBARCHIVE(archive_entry_ctime_is_set)
#define archive_entry_filetype KILN_LIBARCHIVE(archive_entry_filetype)
#define archive_entry_free KILN_LIBARCHIVE(archive_entry_free)
#define archive_entry_gid KILN_LIBARCHIVE(archive_entry_gid)
#define archive_entry_gname KILN_LIBARCHIVE(archive_entry_gname)
#define archive_entry_hardlink KILN_LIBARCHIVE(archive_entry_hardlink)
#define archive_entry_mtime KILN_LIBARCHIVE(archive_entry_mtime)
#define archive_entry_mtime_nsec KILN_LIBARCHIVE(archive_entry_mtime_nsec)
#define archive_entry_new KILN_LIBARCHIVE(archive_entry_new)
#define archive_entry_pathname KILN_LIBARCHIVE(archive_entry_pathname)
#define archive_entry_perm KILN_LIBARCHIVE(archive_entry_perm)
#define archive_entry_rdevmajor KILN_LIBARCHIVE(archive_entry_rdevmajor)
#define archive_entry_rdevminor KILN_LIBARCHIVE(archive_entry_rdevminor)
#define archive_entry_set_filetype KILN_LIBARCHIVE(archive_entry_set_filetype)
#define archive_entry_set_gid KILN_LIBARCHIVE(archive_entry_set_gid)
#define archive_entry_set_mtime KILN_LIBARCHIVE(archive_entry_set_mtime)
#define archive_entry_set_pathname KILN_LIBARCHIVE(archive_entry_set_pathname)
#define archive_entry_set_perm KILN_LIBARCHIVE(archive_entry_set_perm)
#define archive_entry_set_rdevmajor KILN_LIBARCHIVE(archive_entry_set_rdevmajor)
#define archive_entry_set_rdevminor KILN_LIBARCHIVE(archive_entry_set_rdevminor)
#define archive_entry_set_size KILN_LIBARCHIVE(archive_entry_set_size)
#define archive_entry_set_symlink KILN_LIBARCHIVE(archive_entry_set_symlink)
#define archive_entry_set_uid KILN_LIBARCHIVE(archive_entry_set_uid)
#define archive_entry_size KILN_LIBARCHIVE(archive_entry_size)
#define archive_entry_size_is_set KILN_LIBARCHIVE(archive_entry_size_is_set)
#define archive_entry_symlink KILN_LIBARCHIVE(archive_entry_symlink)
#define archive_entry_uid KILN_LIBARCHIVE(archive_entry_uid)
#define archive_entry_uname KILN_LIBARCHIVE(archive_entry_uname)
#define archive_entry_xattr_add_entry KILN_LIBARCHIVE(archive_entry_xattr_add_entry)
#define archive_entry_xattr_count KILN_LIBARCHIVE(archive_entry_xattr_count)
#define archive_entry_xattr_next KILN_LIBARCHIVE(archive_entry_xattr_next)
#define archive_entry_xattr_reset KILN_LIBARCHIVE(archive_entry_xattr_reset)
#define archive_error_string KILN_LIBARCHIVE(archive_error_string)
#define archive_read_data KILN_LIBARCHIVE(archive_read_data)
#define archive_read_data_block KILN_LIBARCHIVE(archive_read_data_block)
#define archive_read_free KILN_LIBARCHIVE(archive_read_free)
#define archive_read_new KILN_LIBARCHIVE(archive_read_new)
#define archive_read_next_header KILN_LIBARCHIVE(archive_read_next_header)
#define archive_read_open_filename KILN_LIBARCHIVE(archive_read_open_filename)
#define archive_read_support_filter_all KILN_LIBARCHIVE(archive_read_support_filter_all)
#define archive_read_support_format_empty KILN_LIBARCHIVE(archive_read_support_format_empty)
#define archive_read_support_format_tar KILN_LIBARCHIVE(archive_read_support_format_tar)
#define archive_write_close KILN_LIBARCHIVE(archive_write_close)
#define archive_write_data KILN_LIBARCHIVE(archive_write_data)
#define archive_write_free KILN_LIBARCHIVE(archive_write_free)
#define archive_write_header KILN_LIBARCHIVE(archive_write_header)
#define archive_write_new KILN_LIBARCHIVE(archive_write_new)
#define archive_write_open KILN_LIBARCHIVE(archive_write_open)
#define archive_write_set_bytes_per_block KILN_LIBARCHIVE(archive_write_set_bytes_per_block)
#define archive_write_set_format_pax_restricted \
  KILN_LIBARCHIVE(archive_write_set_format_pax_restricted)

#include <memory>

namespace kiln {

/// Owners of libarchive objects.
struct ArchiveReadFree {
  void operator()(archive* a) const { archive_read_free(a); }
};
struct ArchiveEntryFree {
  void operator()(archive_entry* e) const { archive_entry_free(e); }
};
using ArchiveReader = std::unique_ptr<archive, ArchiveReadFree>;
using ArchiveEntryPtr = std::unique_ptr<archive_entry, ArchiveEntryFree>;

}  // namespace kiln
