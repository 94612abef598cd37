// Failed system calls, reported one way: "<what> <path>: <the system's reason>".
#pragma once

#include <cerrno>
#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>

namespace kiln {

/// "<what> <path>", or "<what>" when `path` is empty: what failed, without the reason.
std::string ErrnoContext(std::string_view what, const std::filesystem::path& path = {});

/// "<what> <path>: <strerror(error)>"; "<what>: <strerror(error)>" when `path` is empty.
std::string ErrnoMessage(std::string_view what, const std::filesystem::path& path = {},
                         int error = errno);

/// Throws the failure of a system call that set `error` (errno, read where the call is written):
/// a std::system_error carrying the error code, or `Error` (constructed from the message) for a
/// room whose callers catch its own error type (RuntimeError, OverlayError...). what() is
/// ErrnoMessage(what, path, error) either way.
template <typename Error = std::system_error>
[[noreturn]] void ThrowErrno(std::string_view what, const std::filesystem::path& path = {},
                             int error = errno) {
  if constexpr (std::is_same_v<Error, std::system_error>) {
    // system_error appends ": <reason>" itself.
    throw std::system_error(error, std::generic_category(), ErrnoContext(what, path));
  } else {
    throw Error(ErrnoMessage(what, path, error));
  }
}

}  // namespace kiln
