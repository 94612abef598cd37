// ADD of http(s) URLs: download through libcurl, SHA-256 while streaming, --checksum verified.
// Which sources are URLs is decided once, by IsUrlSource (frontend/step_graph.h).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace kiln {

/// A download that failed (network, HTTP status) or whose content did not match --checksum.
class UrlFetchError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// True for sources BuildKit would treat as a git repository ("git@host:...", "git://...",
/// URLs (IsUrlSource, frontend/step_graph.h) whose path ends in ".git" or has a ".git#ref"
/// fragment). Prefixes are matched case-sensitively, as BuildKit does.
bool IsGitUrl(const std::string& source);
/// The file name Docker uses for a URL downloaded into a directory: the last segment of the
/// URL path (query and fragment dropped); "" when the path has none ("http://host/").
std::string UrlFileName(std::string_view url);

struct FetchOptions {
  std::string expected_digest;  ///< "sha256:<64 hex>" (ADD --checksum) or "" for none
  long connect_timeout_seconds = 30;
  long low_speed_timeout_seconds = 60;  ///< aborts when under 1 byte/s for this long
};

struct FetchResult {
  std::string digest;  ///< "sha256:<hex>" of the downloaded bytes
  uint64_t size = 0;
  std::optional<int64_t> last_modified;  ///< seconds since the epoch, from Last-Modified
};

/// Downloads `url` (an IsUrlSource: http or https; redirects followed) into `out_file` (created or
/// truncated, mode 0600). Throws UrlFetchError with the URL and the HTTP status or libcurl error,
/// or on a checksum mismatch ("checksum mismatch for URL: expected sha256:..., got sha256:...");
/// `out_file` is removed on any failure. An `expected_digest` that is not "sha256:<64 hex>" is an
/// error before anything is downloaded.
FetchResult FetchUrl(const std::string& url, const std::filesystem::path& out_file,
                     const FetchOptions& options = {});

}  // namespace kiln
