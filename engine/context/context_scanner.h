// Context scanning: the build context as a sorted list of entries with content hashes (never
// mtimes), the selection of the entries a COPY/ADD source set reads, and the digest of those
// inputs that keys the step (touch alone changes nothing; add/remove/rename/edit/chmod do).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "engine/context/path_filter.h"

namespace kiln {

class FileHashCache;

enum class EntryType : uint8_t {
  kRegular,
  kDirectory,
  kSymlink,
  kFifo,
  kCharDevice,
  kBlockDevice,
  kSocket,
};

/// One character per type ('f', 'd', 'l', 'p', 'c', 'b', 's'), as used in digests.
char EntryTypeCode(EntryType type);
/// The type of an lstat() st_mode.
EntryType EntryTypeFromMode(uint32_t st_mode);

struct ContextEntry {
  std::string path;  ///< relative to the root, '/'-separated, no leading "./"; never ""
  EntryType type = EntryType::kRegular;
  uint32_t mode = 0;  ///< permission bits with setuid/setgid/sticky (st_mode & 07777)
  uint32_t uid = 0;
  uint32_t gid = 0;
  uint64_t size = 0;         ///< regular files only
  std::string link_target;   ///< symlinks only, as stored (not resolved)
  std::string content_hash;  ///< regular files: xxHash3-128 hex of the contents; else ""
};

/// Walks `root` without following any symlink (they are entries with their target text) and
/// returns every entry below it (not the root itself) sorted by path (bytewise). Entries the
/// matcher's ignore rules exclude are skipped; an excluded directory is still entered when
/// `MayIncludeUnder` says an exception may re-include something below it, and is then listed
/// only if something below it is. `cache` (may be null) avoids re-reading unchanged files; the
/// caller Load()s and Save()s it. Throws std::runtime_error when `root` or an entry can't be read.
std::vector<ContextEntry> ScanContext(const std::filesystem::path& root, const PathMatcher& matcher,
                                      FileHashCache* cache);

/// The entries (pointers into `entries`) a COPY/ADD reads for `sources` (patterns as written after
/// expansion: "src/",
/// "*.txt", "a/b.c", "../x" (cleaned to "x"), "."), minus those matching `excludes` (--exclude,
/// matched relative to each source directory, and against each matched source's path). A
/// directory source brings everything below it; symlinks on the way to a source (including the
/// source itself) are followed inside the root, and the entries they lead to are selected.
/// `entries` must be sorted as ScanContext returns them. The result is sorted and unique.
/// Throws SourceNotFoundError (Docker's classic message) for a source that matches nothing.
std::vector<const ContextEntry*> SelectEntryRefs(const std::vector<ContextEntry>& entries,
                                                 const std::vector<std::string>& sources,
                                                 const std::vector<std::string>& excludes,
                                                 const PathMatcher& matcher,
                                                 std::string_view instruction = "COPY");
/// SelectEntryRefs, as copies.
std::vector<ContextEntry> SelectEntries(const std::vector<ContextEntry>& entries,
                                        const std::vector<std::string>& sources,
                                        const std::vector<std::string>& excludes,
                                        const PathMatcher& matcher,
                                        std::string_view instruction = "COPY");

/// xxHash3-128 hex over (path, type, mode, uid, gid, symlink target, content hash) of `entries`,
/// in path order (the input order does not matter); sizes and mtimes are not part of it.
std::string InputsDigest(const std::vector<const ContextEntry*>& entries);
std::string InputsDigest(const std::vector<ContextEntry>& entries);

}  // namespace kiln
