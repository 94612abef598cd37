#include "engine/base/hash.h"

#include <xxhash.h>

#include <algorithm>
#include <string>

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

TEST_CASE("cache keys are XXH3-128 of the bytes however they are split", "[hash]") {
  std::string bytes;
  for (int i = 0; i < 20000; ++i) bytes += static_cast<char>('a' + i * 7 % 26);
  XXH128_canonical_t canonical;
  XXH128_canonicalFromHash(&canonical, XXH3_128bits(bytes.data(), bytes.size()));
  std::string expected;
  for (unsigned char byte : canonical.digest) {
    const char digits[] = "0123456789abcdef";
    expected += digits[byte >> 4];
    expected += digits[byte & 0xf];
  }
  CHECK(CacheKey(bytes) == expected);
  // Pieces of every size around the hasher's own buffering, in one stream.
  for (size_t piece :
       {size_t{1}, size_t{7}, size_t{4095}, size_t{4096}, size_t{4097}, size_t{9000}}) {
    CacheKeyHasher hasher;
    for (size_t at = 0; at < bytes.size(); at += piece)
      hasher.Update(bytes.data() + at, std::min(piece, bytes.size() - at));
    INFO("pieces of " << piece);
    CHECK(hasher.HexDigest() == expected);
  }
  CacheKeyHasher mixed;
  mixed.Update(bytes.data(), 3);
  mixed.Update(bytes.data() + 3, 12000);
  mixed.Update(bytes.data() + 12003, bytes.size() - 12003);
  CHECK(mixed.HexDigest() == expected);
}

}  // namespace
}  // namespace kiln
