#include "engine/store/blob_store.h"

#include <unistd.h>

#include <filesystem>
#include <string>

#include <catch2/catch.hpp>

#include "tests/engine/store/store_test_support.h"

namespace kiln {
namespace {

namespace fs = std::filesystem;
using testing::CountFiles;
using testing::Overwrite;
using testing::TempStore;

TEST_CASE("blobs appear only when committed, atomically", "[store]") {
  TempStore store;
  const Digest digest = Digest::Of("hello");
  {
    BlobWriter writer = store->blobs().NewBlob();
    writer.Write("hel");
    writer.Write("lo");
    CHECK_FALSE(store->blobs().Has(digest));
    CHECK(CountFiles(store->root() / "tmp") == 1);
    Descriptor d = writer.Commit("text/plain");
    CHECK(d == Descriptor{"text/plain", digest, 5, {}, std::nullopt});
  }
  CHECK(store->blobs().Has(digest));
  CHECK(store->blobs().Path(digest) == store->OciDir() / "blobs/sha256" / digest.Hex());
  CHECK(CountFiles(store->root() / "tmp") == 0);
  CHECK(store->blobs().Read(digest) == "hello");
  CHECK(store->blobs().Verify(digest));
}

TEST_CASE("an abandoned blob writer leaves no file", "[store]") {
  TempStore store;
  {
    BlobWriter writer = store->blobs().NewBlob();
    writer.Write("never committed");
  }
  CHECK(CountFiles(store->root() / "tmp") == 0);
  CHECK(CountFiles(store->OciDir() / "blobs/sha256") == 0);
}

TEST_CASE("equal blobs are stored once", "[store]") {
  TempStore store;
  CHECK(store->blobs().Put("same") == Digest::Of("same"));
  BlobWriter writer = store->blobs().NewBlob();
  writer.Write("same");
  CHECK(writer.Commit("x").digest == Digest::Of("same"));
  CHECK(CountFiles(store->OciDir() / "blobs/sha256") == 1);
  CHECK(CountFiles(store->root() / "tmp") == 0);
}

TEST_CASE("a blob whose content does not match the expected digest is refused", "[store]") {
  TempStore store;
  BlobWriter writer = store->blobs().NewBlob();
  writer.Write("content");
  CHECK_THROWS_WITH(writer.Commit("x", Digest::Of("other")),
                    Catch::Contains("blob digest mismatch"));
  CHECK(CountFiles(store->OciDir() / "blobs/sha256") == 0);
}

TEST_CASE("a blob streamed through the raw descriptor is hashed from the file", "[store]") {
  TempStore store;
  BlobWriter writer = store->blobs().NewBlob();
  const std::string data = "streamed by another writer";
  REQUIRE(::write(writer.fd(), data.data(), data.size()) == static_cast<ssize_t>(data.size()));
  Descriptor d = writer.Commit(kMediaTypeLayer);
  CHECK(d.digest == Digest::Of(data));
  CHECK(d.size == static_cast<int64_t>(data.size()));
  CHECK(store->blobs().Read(d.digest) == data);
}

TEST_CASE("reading a corrupted blob fails verification", "[store]") {
  TempStore store;
  const Digest digest = store->blobs().Put("original");
  Overwrite(store->blobs().Path(digest), "tampered");
  CHECK_THROWS_WITH(store->blobs().Read(digest), Catch::Contains("is corrupt"));
  CHECK_FALSE(store->blobs().Verify(digest));
  CHECK_THROWS_WITH(store->blobs().Read(Digest::Of("absent")), Catch::Contains("is missing"));
}

TEST_CASE("a digest of another algorithm names no blob of the store", "[store]") {
  TempStore store;
  const Digest sha512 = Digest::Parse("sha512:" + std::string(128, 'a'));
  CHECK_FALSE(store->blobs().Has(sha512));
  CHECK_THROWS_AS(store->blobs().Path(sha512), DigestError);
  CHECK_THROWS_WITH(store->blobs().Read(sha512), Catch::Contains("is missing"));
}

}  // namespace
}  // namespace kiln
