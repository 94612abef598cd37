// How layers record deletions, in both of their forms: the tar names of the OCI image spec
// (`.wh.NAME` removes NAME, `.wh..wh..opq` hides everything below its directory) and overlayfs's
// upper-directory form (a 0/0 character device for a deleted file).
#pragma once

#include <sys/stat.h>

#include <string_view>

namespace kiln {

/// Prefix of a whiteout entry's name in a layer tar: `.wh.NAME` removes NAME.
inline constexpr std::string_view kWhiteoutPrefix = ".wh.";
/// Prefix of aufs's bookkeeping entries (`.wh..wh.plnk`, ...), which carry no deletion.
inline constexpr std::string_view kWhiteoutMetaPrefix = ".wh..wh.";
/// The entry that makes its directory opaque: the lower layers' contents below it are hidden.
inline constexpr std::string_view kOpaqueMarker = ".wh..wh..opq";

/// True for overlayfs's mark of a deleted file in an upper directory: a character device 0/0.
inline bool IsWhiteoutDevice(const struct stat& st) {
  return S_ISCHR(st.st_mode) && st.st_rdev == 0;
}

}  // namespace kiln
