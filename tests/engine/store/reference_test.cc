#include "engine/store/reference.h"

#include <string>
#include <vector>

#include <catch2/catch.hpp>

namespace kiln {
namespace {

const std::string kHex = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
const std::string kDigest = "sha256:" + kHex;

struct ValidCase {
  std::string input;
  std::string normalized;  // Reference::String()
  std::string familiar;    // Reference::Familiar()
};

TEST_CASE("valid references normalize and shorten like Docker's", "[reference]") {
  const std::vector<ValidCase> cases = {
      {"debian", "docker.io/library/debian:latest", "debian:latest"},
      {"debian:12", "docker.io/library/debian:12", "debian:12"},
      {"library/debian", "docker.io/library/debian:latest", "debian:latest"},
      {"docker.io/debian", "docker.io/library/debian:latest", "debian:latest"},
      {"docker.io/library/debian:bookworm", "docker.io/library/debian:bookworm", "debian:bookworm"},
      {"index.docker.io/debian", "docker.io/library/debian:latest", "debian:latest"},
      {"index.docker.io/team/app:1", "docker.io/team/app:1", "team/app:1"},
      {"team/app:1", "docker.io/team/app:1", "team/app:1"},
      {"team/sub/app", "docker.io/team/sub/app:latest", "team/sub/app:latest"},
      {"docker.io/library/team/app", "docker.io/library/team/app:latest",
       "library/team/app:latest"},
      {"localhost/app", "localhost/app:latest", "localhost/app:latest"},
      {"localhost:5000/app:1", "localhost:5000/app:1", "localhost:5000/app:1"},
      {"localhost:5000/team/app", "localhost:5000/team/app:latest",
       "localhost:5000/team/app:latest"},
      {"localhost:5000", "docker.io/library/localhost:5000", "localhost:5000"},
      {"example.com/app", "example.com/app:latest", "example.com/app:latest"},
      {"Example.COM/app", "Example.COM/app:latest", "Example.COM/app:latest"},
      {"my-registry.example.com:443/a/b/c:v1.2", "my-registry.example.com:443/a/b/c:v1.2",
       "my-registry.example.com:443/a/b/c:v1.2"},
      {"192.168.1.10:5000/app", "192.168.1.10:5000/app:latest", "192.168.1.10:5000/app:latest"},
      {"[::1]:5000/app:1", "[::1]:5000/app:1", "[::1]:5000/app:1"},
      {"[fe80::1]/app", "[fe80::1]/app:latest", "[fe80::1]/app:latest"},
      {"[2001:DB8::1]:443/team/app", "[2001:DB8::1]:443/team/app:latest",
       "[2001:DB8::1]:443/team/app:latest"},
      {"a", "docker.io/library/a:latest", "a:latest"},
      {"0", "docker.io/library/0:latest", "0:latest"},
      {"app.v2", "docker.io/library/app.v2:latest", "app.v2:latest"},
      {"app_v2", "docker.io/library/app_v2:latest", "app_v2:latest"},
      {"app__v2", "docker.io/library/app__v2:latest", "app__v2:latest"},
      {"app-v2", "docker.io/library/app-v2:latest", "app-v2:latest"},
      {"app---v2", "docker.io/library/app---v2:latest", "app---v2:latest"},
      {"a.b_c__d-e--f", "docker.io/library/a.b_c__d-e--f:latest", "a.b_c__d-e--f:latest"},
      {"app:_", "docker.io/library/app:_", "app:_"},
      {"app:V1.0-RC_1", "docker.io/library/app:V1.0-RC_1", "app:V1.0-RC_1"},
      {"app:" + std::string(128, 'x'), "docker.io/library/app:" + std::string(128, 'x'),
       "app:" + std::string(128, 'x')},
      {"app@" + kDigest, "docker.io/library/app@" + kDigest, "app@" + kDigest},
      {"app:1@" + kDigest, "docker.io/library/app:1@" + kDigest, "app:1@" + kDigest},
      {"localhost:5000/app@" + kDigest, "localhost:5000/app@" + kDigest,
       "localhost:5000/app@" + kDigest},
      {"app@sha512:" + std::string(128, 'a'),
       "docker.io/library/app@sha512:" + std::string(128, 'a'),
       "app@sha512:" + std::string(128, 'a')},
      {"app@multihash+base58:QmRZxt2b1FVZPNqd8hsiykDL3TdBDeTSPX9Kv46HmX4Gx8",
       "docker.io/library/app@multihash+base58:QmRZxt2b1FVZPNqd8hsiykDL3TdBDeTSPX9Kv46HmX4Gx8",
       "app@multihash+base58:QmRZxt2b1FVZPNqd8hsiykDL3TdBDeTSPX9Kv46HmX4Gx8"},
      {"sha256:" + kHex, "docker.io/library/sha256:" + kHex, "sha256:" + kHex},
      {kHex + ":1", "docker.io/library/" + kHex + ":1", kHex + ":1"},
      {kHex.substr(0, 63), "docker.io/library/" + kHex.substr(0, 63) + ":latest",
       kHex.substr(0, 63) + ":latest"},
      {"x/" + std::string(243, 'a'), "docker.io/x/" + std::string(243, 'a') + ":latest",
       "x/" + std::string(243, 'a') + ":latest"},
  };
  for (const auto& c : cases) {
    INFO("input: " << c.input);
    Reference ref = ParseReference(c.input);
    CHECK(ref.String() == c.normalized);
    CHECK(ref.Familiar() == c.familiar);
    // The normalized form parses back to itself.
    CHECK(ParseReference(ref.String()) == ref);
  }
}

struct InvalidCase {
  std::string input;
  std::string message_part;
};

TEST_CASE("invalid references name the rule they break", "[reference]") {
  const std::vector<InvalidCase> cases = {
      {"", "repository name must have at least one component"},
      {":1", "repository name must have at least one component"},
      {"@" + kDigest, "repository name must have at least one component"},
      {"App", "repository name (library/App) must be lowercase"},
      {"team/App:1", "repository name (team/App) must be lowercase"},
      {"localhost:5000/Team/app", "repository name (Team/app) must be lowercase"},
      {"Team/app", "repository name (Team/app) must be lowercase"},
      {"app:", "invalid tag format: the tag after ':' must not be empty"},
      {"app:" + std::string(129, 'x'), "tag must be at most 128 characters (got 129)"},
      {"app:.1", "a tag must start with a letter, digit or '_'"},
      {"app:-1", "a tag must start with a letter, digit or '_'"},
      {"app:1+2", "a tag may contain only letters, digits"},
      {"app:1:2", "a tag may contain only letters, digits"},
      {"app@sha256:abc", "a sha256 digest needs exactly 64 lowercase hexadecimal characters"},
      {"app@sha256:" + std::string(64, 'A'), "64 lowercase hexadecimal characters"},
      {"app@sha256:" + kHex + "0", "64 lowercase hexadecimal characters"},
      {"app@" + kHex, "expected ALGORITHM:ENCODED"},
      {"app@SHA256:" + kHex, "the algorithm must be lowercase"},
      {"app@sha512:short", "the encoded part needs at least 32 characters"},
      {"app@" + kDigest + "@" + kDigest, "64 lowercase hexadecimal characters"},
      {"app@", "invalid digest format"},
      {"-app", "must start and end with a lowercase letter or digit"},
      {"app-", "must start and end with a lowercase letter or digit"},
      {"_app", "must start and end with a lowercase letter or digit"},
      {"team/.app", "must start and end with a lowercase letter or digit"},
      {"a..b", "invalid separator \"..\""},
      {"a___b", "invalid separator \"___\""},
      {"a._b", "invalid separator \"._\""},
      {"a-_b", "invalid separator \"-_\""},
      {"a!b", "contains an invalid character"},
      {"a b", "contains an invalid character"},
      {"team//app", "has an empty path component"},
      {"team/app/", "has an empty path component"},
      {"localhost/", "has an empty path component"},
      {"/app", "has an empty path component"},
      {"example.com:port/app", "the port must be a decimal number"},
      {"example.com:/app", "the port must be a decimal number"},
      {"exa_mple.com/app", "invalid registry host \"exa_mple.com\""},
      {"-example.com/app", "invalid registry host"},
      {"example..com/app", "invalid registry host"},
      {"[::1/app", "invalid registry host"},
      {"[::g]/app", "IPv6 address may contain only hexadecimal digits"},
      {"[::1]x/app", "only ':PORT' may follow an IPv6 address"},
      {"[]:5000/app", "invalid registry host"},
      {"x/" + std::string(244, 'a'), "repository name must not be more than 255 characters"},
      {"example.com/" + std::string(244, 'a'), "must not be more than 255 characters"},
  };
  for (const auto& c : cases) {
    INFO("input: " << c.input);
    try {
      Reference ref = ParseReference(c.input);
      FAIL("parsed as " << ref.String());
    } catch (const ReferenceError& e) {
      CHECK_THAT(e.what(), Catch::StartsWith("invalid reference format: "));
      CHECK_THAT(e.what(), Catch::Contains(c.message_part));
    }
  }
}

TEST_CASE("a 64-hex string alone is an image id, not a name", "[reference]") {
  CHECK(LooksLikeImageId(kHex));
  CHECK_FALSE(LooksLikeImageId(kHex.substr(1)));
  CHECK_FALSE(LooksLikeImageId("sha256:" + kHex));
  CHECK_FALSE(LooksLikeImageId(std::string(64, 'A')));
  CHECK_THROWS_WITH(ParseReference(kHex), "invalid repository name (" + kHex +
                                              "), cannot specify 64-byte hexadecimal strings");
}

TEST_CASE("the default tag can be left off", "[reference]") {
  Reference ref = ParseReference("team/app", /*default_tag=*/false);
  CHECK(ref.tag.empty());
  CHECK(ref.String() == "docker.io/team/app");
  CHECK(ref.Name() == "docker.io/team/app");
  CHECK(ref.FamiliarName() == "team/app");
  CHECK(ParseReference("app@" + kDigest).tag.empty());
}

TEST_CASE("the parts of a reference are split out", "[reference]") {
  Reference ref = ParseReference("[::1]:5000/team/app:v1@" + kDigest);
  CHECK(ref.domain == "[::1]:5000");
  CHECK(ref.path == "team/app");
  CHECK(ref.tag == "v1");
  CHECK(ref.digest == kDigest);
  CHECK(ref.Name() == "[::1]:5000/team/app");
  CHECK(ref.FamiliarName() == "[::1]:5000/team/app");
}

TEST_CASE("canonical parsing accepts only fully qualified names", "[reference]") {
  CHECK(ParseCanonicalReference("docker.io/library/debian:12").Familiar() == "debian:12");
  CHECK(ParseCanonicalReference("localhost:5000/app").tag.empty());
  CHECK_THROWS_WITH(ParseCanonicalReference("debian:12"),
                    Catch::Contains("repository name must be canonical"));
  CHECK_THROWS_WITH(ParseCanonicalReference("index.docker.io/library/debian"),
                    Catch::Contains("must be canonical"));
}

}  // namespace
}  // namespace kiln
