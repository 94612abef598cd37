#include "engine/context/url_fetch.h"

#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <filesystem>

#include "engine/base/hash.h"
#include "frontend/step_graph.h"
#include "tests/engine/context/copy_test_support.h"
#include "tests/engine/context/http_test_server.h"

namespace kiln {
namespace {

using testing::HttpTestServer;
using testing::ReadFile;
using testing::TempDir;

TEST_CASE("FetchUrl downloads the body with its digest, size and Last-Modified", "[url_fetch]") {
  HttpTestServer server;
  server.Add("/dir/tool.tgz", "tool bytes", 1'400'000'000);
  server.Add("/plain", "no date");
  TempDir out;

  const FetchResult result = FetchUrl(server.Url("/dir/tool.tgz"), out / "tool");
  CHECK(ReadFile(out / "tool") == "tool bytes");
  CHECK(result.digest == Sha256Digest("tool bytes"));
  CHECK(result.size == 10);
  CHECK(result.last_modified == 1'400'000'000);
  struct stat st;
  REQUIRE(::stat((out / "tool").c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0600);

  CHECK_FALSE(FetchUrl(server.Url("/plain"), out / "plain").last_modified.has_value());
  CHECK(ReadFile(out / "plain") == "no date");
}

TEST_CASE("FetchUrl: an HTTP error names the URL and the status, and leaves no file",
          "[url_fetch]") {
  HttpTestServer server;
  TempDir out;
  const std::string url = server.Url("/missing");
  CHECK_THROWS_AS(FetchUrl(url, out / "x"), UrlFetchError);
  CHECK_THROWS_WITH(FetchUrl(url, out / "x"), "failed to download " + url + ": HTTP status 404");
  CHECK_FALSE(std::filesystem::exists(out / "x"));
}

TEST_CASE("FetchUrl verifies the expected digest", "[url_fetch]") {
  HttpTestServer server;
  server.Add("/file", "content");
  TempDir out;
  const std::string url = server.Url("/file");
  const std::string right = Sha256Digest("content"), wrong = Sha256Digest("other");

  CHECK(FetchUrl(url, out / "ok", {right}).digest == right);
  CHECK(ReadFile(out / "ok") == "content");

  CHECK_THROWS_WITH(FetchUrl(url, out / "bad", {wrong}),
                    "checksum mismatch for " + url + ": expected " + wrong + ", got " + right);
  CHECK_FALSE(std::filesystem::exists(out / "bad"));

  CHECK_THROWS_WITH(FetchUrl(url, out / "syntax", {"sha256:XYZ"}),
                    Catch::Contains("invalid checksum digest"));
  CHECK_FALSE(std::filesystem::exists(out / "syntax"));
}

TEST_CASE("URL helpers", "[url_fetch]") {
  CHECK(UrlFileName("https://h.test/a/b/tool.tgz?x=1#f") == "tool.tgz");
  CHECK(UrlFileName("https://h.test/") == "");
  CHECK(UrlFileName("https://h.test") == "");
  CHECK(IsGitUrl("git@h.test:org/repo.git"));
  CHECK(IsGitUrl("git://h.test/org/repo"));
  CHECK(IsGitUrl("https://h.test/org/repo.git"));
  CHECK(IsGitUrl("https://h.test/org/repo.git#main"));
  CHECK_FALSE(IsGitUrl("https://h.test/org/file.tar.gz"));
}

TEST_CASE("The scheme decides a URL case-sensitively, in the frontend and the engine alike",
          "[url_fetch]") {
  // BuildKit's rule, written once (IsUrlSource): "HTTP://x" is a context path.
  CHECK(IsUrlSource("http://h.test/x"));
  CHECK(IsUrlSource("https://h.test/x"));
  CHECK_FALSE(IsUrlSource("HTTP://h.test/x"));
  CHECK_FALSE(IsUrlSource("ftp://h.test/x"));
  CHECK_FALSE(IsGitUrl("HTTPS://h.test/org/repo.git"));
  TempDir out;
  CHECK_THROWS_WITH(FetchUrl("HTTP://127.0.0.1:1/x", out / "x"),
                    "unsupported URL HTTP://127.0.0.1:1/x: only http(s) is");
}

}  // namespace
}  // namespace kiln
