#include "engine/layers/archive_detect.h"

#include "engine/layers/archive_ptr.h"
#include "engine/layers/libarchive_api.h"

namespace kiln {

bool IsTarArchive(const std::filesystem::path& path) {
  ArchiveReader reader(LibArchive().read_new());
  if (!reader) return false;
  LibArchive().read_support_filter_all(reader.get());
  LibArchive().read_support_format_tar(reader.get());
  if (LibArchive().read_open_filename(reader.get(), path.c_str(), 64 * 1024) != ARCHIVE_OK)
    return false;
  archive_entry* entry = nullptr;
  // Only a first header that parses as tar counts; an empty file is ARCHIVE_EOF (or fatal).
  const int status = LibArchive().read_next_header(reader.get(), &entry);
  return status == ARCHIVE_OK || status == ARCHIVE_WARN;
}

}  // namespace kiln
