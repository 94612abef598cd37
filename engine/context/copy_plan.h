// COPY / ADD file operations: resolves sources with Docker's rules and stages the result as a
// directory tree laid out exactly as the layer should hold it, ready for WriteLayer().
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "engine/context/context_scanner.h"
#include "engine/context/path_filter.h"
#include "frontend/step_graph.h"

namespace kiln {

/// A COPY/ADD that cannot be carried out as written (destination rules, URLs, checksums).
/// Missing sources throw SourceNotFoundError; download failures UrlFetchError; unsafe archives
/// LayerError.
class CopyError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// What the destination image (the parent of the step) already has at a path.
struct ExistingPath {
  EntryType type = EntryType::kDirectory;
  uint32_t mode = 0755;  ///< permission bits
  uint32_t uid = 0;
  uint32_t gid = 0;
  int64_t mtime_ns = 0;
  std::string link_target;  ///< symlinks only
};

/// Looks an absolute path up in the destination image without following its last component;
/// nullopt when it does not exist. Used to decide whether the destination is a directory, to
/// resolve symlinked parent directories (/var/run -> /run) inside the image, and to repeat the
/// metadata of existing parent directories in the layer unchanged.
using DestinationLookup = std::function<std::optional<ExistingPath>(const std::string& absolute)>;

/// A DestinationLookup over a directory holding the destination's root file system.
DestinationLookup LookupInRootfs(const std::filesystem::path& rootfs);

struct CopyRequest {
  std::string instruction = "COPY";  ///< "COPY" or "ADD" (archives, URLs); used in messages
  /// Where sources are read: the context dir, or a stage/image root file system for --from.
  std::filesystem::path source_root;
  /// Sources from the context are owned by 0:0 in the layer and honour the ignore rules of
  /// `matcher`; sources from --from keep their owners.
  bool from_context = true;
  /// Patterns as written after expansion ("src/", "*.txt", "a/./b" with --parents, "../x" is
  /// cleaned to "x"); for ADD also http(s) URLs. Heredoc names are not sources: see inline_files.
  std::vector<std::string> sources;
  std::vector<InlineFile> inline_files;  ///< heredocs, written as files (mode 0644 unless chmod)
  std::string destination;               ///< as written; relative paths are below `workdir`
  std::string workdir = "/";
  std::optional<uint32_t> uid, gid;   ///< --chown, resolved by the caller (engine/user_db.h)
  std::optional<uint32_t> chmod;      ///< --chmod, see ParseChmod
  std::vector<std::string> excludes;  ///< --exclude patterns
  bool parents = false;               ///< --parents (BuildKit: keeps the path after a "/./" pivot)
  std::string checksum;               ///< ADD --checksum=sha256:<hex>, URL sources only
  PathMatcher matcher;  ///< `match` for wildcards and excludes; ignore rules for context sources
  DestinationLookup existing;  ///< may be empty: the destination image is treated as empty
  /// mtime (seconds) of what the copy creates rather than copies: new parent directories,
  /// heredoc files, downloads without Last-Modified. Defaults to the current time.
  std::optional<int64_t> created_time;
};

struct CopyOutcome {
  std::string destination;  ///< absolute, cleaned, symlinks of the image resolved
  /// "<url> <sha256 digest>" per downloaded URL, in source order: the content part of the
  /// step's cache key that only execution can know.
  std::vector<std::string> downloads;
};

/// Parses --chmod: octal digits only ("755", "0644", up to 07777). Throws CopyError otherwise.
uint32_t ParseChmod(std::string_view text);

/// Executes the file part of a COPY/ADD: writes into `staging_root` (created if missing; should
/// be empty) the tree the layer must contain — the destination path with all its parent
/// directories — with owners, modes and mtimes applied on disk. Docker's rules:
///  - a directory source copies its contents into the destination;
///  - several sources, or a wildcard matching several, need a destination ending in "/";
///  - a destination ending in "/" (or "." / "") or an existing directory in the image receives
///    file sources under their base names; otherwise a single file source becomes that path;
///  - --parents recreates each source's path (after its "/./" pivot) under the destination;
///  - new parent directories are 0755, owned by the --chown owner (else root), as BuildKit
///    makes them; existing ones repeat the image's metadata;
///  - owners: --chown, else 0:0 from the context, else the source's; --chmod on files and dirs;
///  - --exclude skips matching paths; a top-level symlink source is followed, symlinks below
///    are copied as symlinks; hard links within the copied set are kept;
///  - mtimes are preserved (WriteLayer clamps them for SOURCE_DATE_EPOCH);
///  - ADD extracts local tar archives from the context (any compression) through ApplyLayer,
///    which refuses entries escaping the destination; ADD downloads http(s) URLs (mode 0600,
///    mtime from Last-Modified, --checksum verified). Git URLs are refused.
/// When not running as root, ownership changes that the kernel refuses are ignored: callers
/// then pass the owners to WriteLayer through LayerOptions::uid/gid instead.
/// `scratch_dir` (existing, ideally on the same file system) holds downloads and archive
/// extractions before they move into place.
CopyOutcome StageCopy(const CopyRequest& request, const std::filesystem::path& staging_root,
                      const std::filesystem::path& scratch_dir);

}  // namespace kiln
