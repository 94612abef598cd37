// ADD's archive detection: a local source is extracted instead of copied when its content is a
// tar archive, plain or compressed with anything libarchive recognizes (gzip, bzip2, xz, zstd...).
#pragma once

#include <filesystem>

namespace kiln {

/// True when the file at `path` is a tar archive (by content, never by name), possibly
/// compressed. Empty files, other archive formats (zip, cpio, ...) and unreadable files are not.
bool IsTarArchive(const std::filesystem::path& path);

}  // namespace kiln
