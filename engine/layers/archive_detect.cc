#include "engine/layers/archive_detect.h"

#include <archive.h>

#include "engine/layers/archive_ptr.h"

namespace kiln {

bool IsTarArchive(const std::filesystem::path& path) {
  ArchiveReader reader(archive_read_new());
  if (!reader) return false;
  archive_read_support_filter_all(reader.get());
  archive_read_support_format_tar(reader.get());
  if (archive_read_open_filename(reader.get(), path.c_str(), 64 * 1024) != ARCHIVE_OK) return false;
  archive_entry* entry = nullptr;
  // Only a first header that parses as tar counts; an empty file is ARCHIVE_EOF (or fatal).
  const int status = archive_read_next_header(reader.get(), &entry);
  return status == ARCHIVE_OK || status == ARCHIVE_WARN;
}

}  // namespace kiln
