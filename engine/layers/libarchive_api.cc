#include "engine/layers/libarchive_api.h"

#include <dlfcn.h>

#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>

namespace kiln {
namespace {

template <typename F>
void Bind(void* library, const char* name, F* function) {
  *function = reinterpret_cast<F>(dlsym(library, name));
  if (*function == nullptr)
    throw std::runtime_error(std::string("libarchive has no ") + name + ": too old a version");
}

std::once_flag load_once;
LibArchiveApi table;
std::string load_error;

void Load() {
  void* library = dlopen("libarchive.so.13", RTLD_NOW | RTLD_LOCAL);
  if (library == nullptr) {
    load_error = std::string("cannot load libarchive (install libarchive13): ") + dlerror();
    return;
  }
  try {
    Bind(library, "archive_entry_atime", &table.entry_atime);
    Bind(library, "archive_entry_atime_is_set", &table.entry_atime_is_set);
    Bind(library, "archive_entry_atime_nsec", &table.entry_atime_nsec);
    Bind(library, "archive_entry_copy_hardlink", &table.entry_copy_hardlink);
    Bind(library, "archive_entry_copy_pathname", &table.entry_copy_pathname);
    Bind(library, "archive_entry_copy_symlink", &table.entry_copy_symlink);
    Bind(library, "archive_entry_filetype", &table.entry_filetype);
    Bind(library, "archive_entry_free", &table.entry_free);
    Bind(library, "archive_entry_gid", &table.entry_gid);
    Bind(library, "archive_entry_hardlink", &table.entry_hardlink);
    Bind(library, "archive_entry_mtime", &table.entry_mtime);
    Bind(library, "archive_entry_mtime_nsec", &table.entry_mtime_nsec);
    Bind(library, "archive_entry_new", &table.entry_new);
    Bind(library, "archive_entry_pathname", &table.entry_pathname);
    Bind(library, "archive_entry_perm", &table.entry_perm);
    Bind(library, "archive_entry_rdevmajor", &table.entry_rdevmajor);
    Bind(library, "archive_entry_rdevminor", &table.entry_rdevminor);
    Bind(library, "archive_entry_set_filetype", &table.entry_set_filetype);
    Bind(library, "archive_entry_set_gid", &table.entry_set_gid);
    Bind(library, "archive_entry_set_mtime", &table.entry_set_mtime);
    Bind(library, "archive_entry_set_perm", &table.entry_set_perm);
    Bind(library, "archive_entry_set_rdevmajor", &table.entry_set_rdevmajor);
    Bind(library, "archive_entry_set_rdevminor", &table.entry_set_rdevminor);
    Bind(library, "archive_entry_set_size", &table.entry_set_size);
    Bind(library, "archive_entry_set_uid", &table.entry_set_uid);
    Bind(library, "archive_entry_size", &table.entry_size);
    Bind(library, "archive_entry_size_is_set", &table.entry_size_is_set);
    Bind(library, "archive_entry_symlink", &table.entry_symlink);
    Bind(library, "archive_entry_uid", &table.entry_uid);
    Bind(library, "archive_entry_xattr_add_entry", &table.entry_xattr_add_entry);
    Bind(library, "archive_entry_xattr_count", &table.entry_xattr_count);
    Bind(library, "archive_entry_xattr_next", &table.entry_xattr_next);
    Bind(library, "archive_entry_xattr_reset", &table.entry_xattr_reset);
    Bind(library, "archive_error_string", &table.error_string);
    Bind(library, "archive_read_data_block", &table.read_data_block);
    Bind(library, "archive_read_free", &table.read_free);
    Bind(library, "archive_read_new", &table.read_new);
    Bind(library, "archive_read_next_header", &table.read_next_header);
    Bind(library, "archive_read_open_filename", &table.read_open_filename);
    Bind(library, "archive_read_support_filter_all", &table.read_support_filter_all);
    Bind(library, "archive_read_support_format_empty", &table.read_support_format_empty);
    Bind(library, "archive_read_support_format_tar", &table.read_support_format_tar);
    Bind(library, "archive_write_close", &table.write_close);
    Bind(library, "archive_write_data", &table.write_data);
    Bind(library, "archive_write_free", &table.write_free);
    Bind(library, "archive_write_header", &table.write_header);
    Bind(library, "archive_write_new", &table.write_new);
    Bind(library, "archive_write_open", &table.write_open);
    Bind(library, "archive_write_set_bytes_per_block", &table.write_set_bytes_per_block);
    Bind(library, "archive_write_set_format_pax_restricted",
         &table.write_set_format_pax_restricted);
  } catch (const std::runtime_error& e) {
    load_error = e.what();
  }
}

}  // namespace

const LibArchiveApi& LibArchive() {
  std::call_once(load_once, Load);  // waits for a preload under way
  if (!load_error.empty()) throw std::runtime_error(load_error);
  return table;
}

void PreloadLibArchive() {
  static std::once_flag started;
  std::call_once(started, [] { std::thread([] { std::call_once(load_once, Load); }).detach(); });
}

}  // namespace kiln
