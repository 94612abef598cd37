#include "engine/base/digest.h"

#include <filesystem>
#include <fstream>
#include <string>
#include <unordered_set>
#include <vector>

#include <catch2/catch.hpp>

#include "engine/base/hash.h"
#include "tests/support/temp_dir.h"

namespace kiln {
namespace {

const std::string kHex = "8f434346648f6b96df89dda901c5176b10a6d83961dd3c1ac88b59b2dc327aa4";

TEST_CASE("ShortId drops the algorithm and keeps 12 hex digits", "[digest]") {
  CHECK(ShortId("sha256:4d5e6f7a8b9c0d1e2f3a4b5c") == "4d5e6f7a8b9c");
  CHECK(ShortId("0123456789abcdef") == "0123456789ab");
}

TEST_CASE("Digest::Parse accepts registered algorithms with lowercase hex", "[digest]") {
  struct Valid {
    std::string text;
    std::string algorithm;
  };
  const std::vector<Valid> cases = {
      {"sha256:" + kHex, "sha256"},
      {"sha256:" + std::string(64, '0'), "sha256"},
      {"sha512:" + kHex + kHex, "sha512"},
  };
  for (const Valid& c : cases) {
    INFO(c.text);
    const Digest d = Digest::Parse(c.text);
    CHECK(d.String() == c.text);
    CHECK(d.Algorithm() == c.algorithm);
    CHECK(d.Hex() == c.text.substr(c.algorithm.size() + 1));
    CHECK(d.IsSha256() == (c.algorithm == "sha256"));
    CHECK(Digest::TryParse(c.text) == d);
    CHECK(d == std::string_view(c.text));
  }
}

TEST_CASE("Digest::Parse names the rule a malformed digest breaks", "[digest]") {
  struct Invalid {
    std::string text;
    std::string reason;
  };
  const std::vector<Invalid> cases = {
      {"", "expected ALGORITHM:HEX"},
      {kHex, "expected ALGORITHM:HEX"},                  // missing colon
      {"sha256" + kHex, "expected ALGORITHM:HEX"},       // missing colon
      {"md5:" + kHex, "unsupported algorithm \"md5\""},  // wrong algorithm
      {"SHA256:" + kHex, "unsupported algorithm \"SHA256\""},
      {":" + kHex, "unsupported algorithm \"\""},
      {"sha256:" + kHex.substr(1), "needs 64 hex characters, not 63"},  // short
      {"sha256:", "needs 64 hex characters, not 0"},
      {"sha256:" + kHex + "0", "needs 64 hex characters, not 65"},  // long
      {"sha512:" + kHex, "needs 128 hex characters, not 64"},
      {"sha256:" + std::string(64, 'A'), "the hex part must be lowercase"},  // upper case
      {"sha256:" + kHex.substr(0, 63) + "g", "may contain only 0-9 and a-f"},
      {"sha256:../../../../../../../../../../../../../../../../../../../etc/passwd",
       "needs 64 hex characters"},
      {"sha256:" + kHex.substr(0, 60) + "/../", "may contain only 0-9 and a-f"},
  };
  for (const Invalid& c : cases) {
    INFO(c.text);
    CHECK_THROWS_AS(Digest::Parse(c.text), DigestError);
    CHECK_THROWS_WITH(
        Digest::Parse(c.text),
        Catch::StartsWith("invalid digest \"" + c.text + "\": ") && Catch::Contains(c.reason));
    CHECK_FALSE(Digest::TryParse(c.text));
  }
}

TEST_CASE("Digest::FromSha256Hex reads a file name's hex", "[digest]") {
  CHECK(Digest::FromSha256Hex(kHex)->String() == "sha256:" + kHex);
  for (const std::string& name : {std::string("tmp-123"), std::string(".tmp-" + kHex), kHex + "0",
                                  std::string(64, 'A'), std::string()}) {
    INFO(name);
    CHECK_FALSE(Digest::FromSha256Hex(name));
  }
}

TEST_CASE("Digest::Of and OfFile hash with SHA-256, whole or streamed", "[digest]") {
  const Digest of = Digest::Of("hello");
  CHECK(of.String() == "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");
  CHECK(of.String() == Sha256Digest("hello"));
  Sha256 streamed;
  streamed.Update("hel");
  streamed.Update("lo");
  CHECK(Digest::Of(streamed) == of);
  const testing::TempDir dir("kiln-digest");
  std::ofstream(dir / "f", std::ios::binary) << "hello";
  CHECK(Digest::OfFile(dir / "f") == of);
  CHECK_THROWS_AS(Digest::OfFile(dir / "missing"), std::system_error);
}

TEST_CASE("digests compare, hash and convert to JSON as their text", "[digest]") {
  const Digest a = Digest::Parse("sha256:" + std::string(64, 'a'));
  const Digest b = Digest::Parse("sha256:" + std::string(64, 'b'));
  CHECK(a < b);
  CHECK(a != b);
  CHECK(Digest() < a);
  CHECK(Digest().empty());
  CHECK(Digest().String().empty());
  CHECK(Digest().Hex().empty());
  CHECK(std::unordered_set<Digest>{a, b, a}.size() == 2);

  const nlohmann::json j = a;
  CHECK(j == a.String());
  CHECK(j.get<Digest>() == a);
  CHECK(nlohmann::json("").get<Digest>().empty());
  CHECK_THROWS_AS(nlohmann::json("sha256:abc").get<Digest>(), DigestError);
}

}  // namespace
}  // namespace kiln
