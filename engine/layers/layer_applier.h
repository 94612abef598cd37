// Unpacking layer tars onto a directory without ever writing outside it.
#pragma once

#include <filesystem>

#include "engine/layers/layer_error.h"

namespace kiln {

enum class WhiteoutMode {
  /// `.wh.NAME` deletes NAME from dest; `.wh..wh..opq` empties its directory of entries from lower
  /// layers (entries of the layer being applied are kept, whatever their order in the tar).
  kApply,
  /// Writes overlayfs whiteouts: `.wh.NAME` -> char device 0/0 NAME, `.wh..wh..opq` -> xattr
  /// trusted.overlay.opaque=y on the directory (user.overlay.opaque=y when trusted.* is not
  /// permitted, for overlay mounts with `userxattr`). Meant for an empty dest.
  kOverlay,
};

/// Unpacks a layer tar (uncompressed or gzip/bzip2/xz/zstd/..., autodetected) onto `dest`
/// (created if missing), preserving modes, mtimes, xattrs, hard links, symlinks, devices and, when
/// running as root, owners. Existing entries are replaced (a directory by a file and vice versa);
/// existing directories are kept and their metadata updated.
///
/// Containment: entry names and hard-link targets are cleaned lexically ("./a//b" -> "a/b"); a name
/// that is absolute or whose `..` climbs above dest is refused. Parent directories are resolved
/// inside dest as if dest were the root directory: an absolute symlink target starts again at
/// dest, and a relative one whose `..` would climb above dest is refused. The last component is
/// never followed (an existing symlink there is replaced). Refusals and failures throw LayerError
/// naming the entry; entries before the offending one stay applied.
void ApplyLayer(const std::filesystem::path& tar_path, const std::filesystem::path& dest,
                WhiteoutMode mode);

}  // namespace kiln
