// libarchive's entry points, in one table loaded the first time a tar is read or written.
//
// Most kiln processes (config-only steps, image edges, `kiln build` itself) never touch a tar, and
// loading libarchive with the libraries it brings (ICU, libxml2, the compressors) costs each of
// them about 2 ms of relocations and page faults at start. Call sites write
// `LibArchive().write_new()` where libarchive's API says `archive_write_new()`.
#pragma once

#include <archive.h>
#include <archive_entry.h>

namespace kiln {

/// The libarchive functions kiln uses, named without their `archive_` prefix.
struct LibArchiveApi {
  decltype(&::archive_entry_atime) entry_atime;
  decltype(&::archive_entry_atime_is_set) entry_atime_is_set;
  decltype(&::archive_entry_atime_nsec) entry_atime_nsec;
  decltype(&::archive_entry_copy_hardlink) entry_copy_hardlink;
  decltype(&::archive_entry_copy_pathname) entry_copy_pathname;
  decltype(&::archive_entry_copy_symlink) entry_copy_symlink;
  decltype(&::archive_entry_filetype) entry_filetype;
  decltype(&::archive_entry_free) entry_free;
  decltype(&::archive_entry_gid) entry_gid;
  decltype(&::archive_entry_hardlink) entry_hardlink;
  decltype(&::archive_entry_mtime) entry_mtime;
  decltype(&::archive_entry_mtime_nsec) entry_mtime_nsec;
  decltype(&::archive_entry_new) entry_new;
  decltype(&::archive_entry_pathname) entry_pathname;
  decltype(&::archive_entry_perm) entry_perm;
  decltype(&::archive_entry_rdevmajor) entry_rdevmajor;
  decltype(&::archive_entry_rdevminor) entry_rdevminor;
  decltype(&::archive_entry_set_filetype) entry_set_filetype;
  decltype(&::archive_entry_set_gid) entry_set_gid;
  decltype(&::archive_entry_set_mtime) entry_set_mtime;
  decltype(&::archive_entry_set_perm) entry_set_perm;
  decltype(&::archive_entry_set_rdevmajor) entry_set_rdevmajor;
  decltype(&::archive_entry_set_rdevminor) entry_set_rdevminor;
  decltype(&::archive_entry_set_size) entry_set_size;
  decltype(&::archive_entry_set_uid) entry_set_uid;
  decltype(&::archive_entry_size) entry_size;
  decltype(&::archive_entry_size_is_set) entry_size_is_set;
  decltype(&::archive_entry_symlink) entry_symlink;
  decltype(&::archive_entry_uid) entry_uid;
  decltype(&::archive_entry_xattr_add_entry) entry_xattr_add_entry;
  decltype(&::archive_entry_xattr_count) entry_xattr_count;
  decltype(&::archive_entry_xattr_next) entry_xattr_next;
  decltype(&::archive_entry_xattr_reset) entry_xattr_reset;
  decltype(&::archive_error_string) error_string;
  decltype(&::archive_read_data_block) read_data_block;
  decltype(&::archive_read_free) read_free;
  decltype(&::archive_read_new) read_new;
  decltype(&::archive_read_next_header) read_next_header;
  decltype(&::archive_read_open_filename) read_open_filename;
  decltype(&::archive_read_support_filter_all) read_support_filter_all;
  decltype(&::archive_read_support_format_empty) read_support_format_empty;
  decltype(&::archive_read_support_format_tar) read_support_format_tar;
  decltype(&::archive_write_close) write_close;
  decltype(&::archive_write_data) write_data;
  decltype(&::archive_write_free) write_free;
  decltype(&::archive_write_header) write_header;
  decltype(&::archive_write_new) write_new;
  decltype(&::archive_write_open) write_open;
  decltype(&::archive_write_set_bytes_per_block) write_set_bytes_per_block;
  decltype(&::archive_write_set_format_pax_restricted) write_set_format_pax_restricted;
};

/// The table; loads libarchive on the first call (later calls return at once). Throws
/// std::runtime_error naming the package to install when libarchive or a function is missing.
const LibArchiveApi& LibArchive();

/// Starts loading libarchive on a helper thread, for a process that will need it soon and has
/// other work to do meanwhile (a RUN step writes its layer once the command has run).
void PreloadLibArchive();

}  // namespace kiln
