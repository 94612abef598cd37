// Owners of libarchive objects, so that an early return or an exception frees them.
#pragma once

#include <memory>

#include "engine/layers/libarchive_api.h"

namespace kiln {

struct ArchiveReadFree {
  void operator()(archive* a) const { LibArchive().read_free(a); }
};
struct ArchiveEntryFree {
  void operator()(archive_entry* e) const { LibArchive().entry_free(e); }
};
/// An archive opened for reading (archive_read_new).
using ArchiveReader = std::unique_ptr<archive, ArchiveReadFree>;
/// An entry (archive_entry_new).
using ArchiveEntryPtr = std::unique_ptr<archive_entry, ArchiveEntryFree>;

}  // namespace kiln
