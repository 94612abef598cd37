#include "engine/context/url_fetch.h"

#include <curl/curl.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <memory>
#include <mutex>

#include "engine/base/digest.h"
#include "engine/base/hash.h"
#include "engine/base/system_error.h"
#include "frontend/step_graph.h"

namespace kiln {
namespace {

/// The URL path: after "scheme://host", before "?" or "#".
std::string_view UrlPath(std::string_view url) {
  const size_t scheme = url.find("://");
  if (scheme == std::string_view::npos) return {};
  url.remove_prefix(scheme + 3);
  const size_t slash = url.find('/');
  if (slash == std::string_view::npos) return {};
  url.remove_prefix(slash);
  return url.substr(0, url.find_first_of("?#"));
}

void CheckDigestSyntax(const std::string& digest) {
  const std::optional<Digest> parsed = Digest::TryParse(digest);
  if (!parsed || !parsed->IsSha256()) {
    throw UrlFetchError("invalid checksum digest format \"" + digest +
                        "\": expected sha256:<64 lowercase hex digits>");
  }
}

/// libcurl's entry points, loaded on the first download. Linking libcurl would load it and its
/// two dozen dependencies into every kiln process, and ninja starts one per edge: about 25 ms
/// each, for a library only ADD of a URL needs.
struct Curl {
  CURLcode (*global_init)(long);
  CURL* (*easy_init)();
  CURLcode (*easy_setopt)(CURL*, CURLoption, ...);
  CURLcode (*easy_perform)(CURL*);
  CURLcode (*easy_getinfo)(CURL*, CURLINFO, ...);
  void (*easy_cleanup)(CURL*);
  const char* (*easy_strerror)(CURLcode);
};

template <typename F>
void Bind(void* library, const char* name, F* function) {
  *function = reinterpret_cast<F>(dlsym(library, name));
  if (*function == nullptr) throw UrlFetchError(std::string("libcurl has no ") + name);
}

const Curl& LoadCurl() {
  static std::once_flag once;
  static Curl curl;
  static std::string error;
  std::call_once(once, [] {
    void* library = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
    if (library == nullptr) {
      error = std::string("cannot load libcurl (install libcurl4): ") + dlerror();
      return;
    }
    try {
      Bind(library, "curl_global_init", &curl.global_init);
      Bind(library, "curl_easy_init", &curl.easy_init);
      Bind(library, "curl_easy_setopt", &curl.easy_setopt);
      Bind(library, "curl_easy_perform", &curl.easy_perform);
      Bind(library, "curl_easy_getinfo", &curl.easy_getinfo);
      Bind(library, "curl_easy_cleanup", &curl.easy_cleanup);
      Bind(library, "curl_easy_strerror", &curl.easy_strerror);
    } catch (const UrlFetchError& e) {
      error = e.what();
      return;
    }
    curl.global_init(CURL_GLOBAL_DEFAULT);
  });
  if (!error.empty()) throw UrlFetchError(error);
  return curl;
}

struct Download {
  int fd = -1;
  Sha256 sha;
  uint64_t size = 0;
  int write_errno = 0;
};

size_t WriteBody(char* data, size_t size, size_t count, void* user) {
  auto* download = static_cast<Download*>(user);
  const size_t total = size * count;
  size_t written = 0;
  while (written < total) {
    const ssize_t n = write(download->fd, data + written, total - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      download->write_errno = errno;
      return 0;  // makes libcurl abort with CURLE_WRITE_ERROR
    }
    written += static_cast<size_t>(n);
  }
  download->sha.Update(data, total);
  download->size += total;
  return total;
}

}  // namespace

bool IsGitUrl(const std::string& source) {
  if (source.starts_with("git@") || source.starts_with("git://")) return true;
  if (!IsUrlSource(source)) return false;
  const std::string_view path = UrlPath(source);
  return path.ends_with(".git") || source.find(".git#") != std::string_view::npos;
}

std::string UrlFileName(std::string_view url) {
  const std::string_view path = UrlPath(url);
  const size_t slash = path.rfind('/');
  return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

FetchResult FetchUrl(const std::string& url, const std::filesystem::path& out_file,
                     const FetchOptions& options) {
  if (!IsUrlSource(url)) throw UrlFetchError("unsupported URL " + url + ": only http(s) is");
  if (!options.expected_digest.empty()) CheckDigestSyntax(options.expected_digest);
  const Curl& api = LoadCurl();

  Download download;
  download.fd = open(out_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (download.fd < 0) {
    ThrowErrno<UrlFetchError>("cannot create", out_file);
  }
  auto fail = [&](const std::string& message) {
    close(download.fd);
    download.fd = -1;
    std::error_code ignored;
    std::filesystem::remove(out_file, ignored);
    throw UrlFetchError(message);
  };

  std::unique_ptr<CURL, void (*)(CURL*)> curl(api.easy_init(), api.easy_cleanup);
  if (!curl) fail("cannot initialise libcurl");
  char error[CURL_ERROR_SIZE] = {};
  CURL* c = curl.get();
  api.easy_setopt(c, CURLOPT_URL, url.c_str());
  api.easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  api.easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  api.easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
  api.easy_setopt(c, CURLOPT_MAXREDIRS, 10L);
  api.easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  api.easy_setopt(c, CURLOPT_CONNECTTIMEOUT, options.connect_timeout_seconds);
  api.easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
  api.easy_setopt(c, CURLOPT_LOW_SPEED_TIME, options.low_speed_timeout_seconds);
  api.easy_setopt(c, CURLOPT_FILETIME, 1L);
  api.easy_setopt(c, CURLOPT_ERRORBUFFER, error);
  api.easy_setopt(c, CURLOPT_WRITEFUNCTION, &WriteBody);
  api.easy_setopt(c, CURLOPT_WRITEDATA, &download);

  const CURLcode code = api.easy_perform(c);
  if (code != CURLE_OK) {
    std::string reason = download.write_errno ? std::strerror(download.write_errno)
                         : error[0]           ? error
                                              : api.easy_strerror(code);
    fail("failed to download " + url + ": " + reason);
  }
  long status = 0;
  api.easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  if (status >= 400) {
    fail("failed to download " + url + ": HTTP status " + std::to_string(status));
  }
  if (close(download.fd) != 0) {
    download.fd = -1;
    fail(ErrnoMessage("cannot write", out_file));
  }
  download.fd = -1;

  FetchResult result;
  result.digest = download.sha.Digest();
  result.size = download.size;
  curl_off_t file_time = -1;
  if (api.easy_getinfo(c, CURLINFO_FILETIME_T, &file_time) == CURLE_OK && file_time >= 0) {
    result.last_modified = static_cast<int64_t>(file_time);
  }
  if (!options.expected_digest.empty() && result.digest != options.expected_digest) {
    std::error_code ignored;
    std::filesystem::remove(out_file, ignored);
    throw UrlFetchError("checksum mismatch for " + url + ": expected " + options.expected_digest +
                        ", got " + result.digest);
  }
  return result;
}

}  // namespace kiln
