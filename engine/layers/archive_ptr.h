// Owners of libarchive objects, so that an early return or an exception frees them.
#pragma once

#include <archive.h>
#include <archive_entry.h>

#include <memory>

namespace kiln {

struct ArchiveReadFree {
  void operator()(archive* a) const { archive_read_free(a); }
};
struct ArchiveEntryFree {
  void operator()(archive_entry* e) const { archive_entry_free(e); }
};
/// An archive opened for reading (archive_read_new).
using ArchiveReader = std::unique_ptr<archive, ArchiveReadFree>;
/// An entry (archive_entry_new).
using ArchiveEntryPtr = std::unique_ptr<archive_entry, ArchiveEntryFree>;

}  // namespace kiln
