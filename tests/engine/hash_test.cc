#include "engine/hash.h"

#include <catch2/catch.hpp>

namespace kiln {
namespace {

TEST_CASE("SHA-256 digests match the standard test vectors", "[hash]") {
  CHECK(Sha256Digest("") ==
        "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(Sha256Digest("abc") ==
        "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_CASE("SHA-256 streams in pieces like the whole", "[hash]") {
  Sha256 h;
  h.Update("a");
  h.Update("bc");
  CHECK(h.Digest() == Sha256Digest("abc"));
}

TEST_CASE("cache keys are 128-bit hex and separate fields", "[hash]") {
  CHECK(CacheKey("abc").size() == 32);
  CHECK(CacheKey("abc") != CacheKey("abd"));
  CacheKeyHasher a, b;
  a.AddField("ab");
  a.AddField("c");
  b.AddField("a");
  b.AddField("bc");
  CHECK(a.HexDigest() != b.HexDigest());
}

}  // namespace
}  // namespace kiln
