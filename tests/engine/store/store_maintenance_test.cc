#include "engine/store/store_maintenance.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include <catch2/catch.hpp>

#include "tests/engine/store/store_test_support.h"

namespace kiln {
namespace {

namespace fs = std::filesystem;
using testing::CommitSimple;
using testing::ConfigFor;
using testing::Overwrite;
using testing::PutLayer;
using testing::TempStore;

TEST_CASE("check finds corrupt blobs, missing layers and leftovers", "[store]") {
  TempStore store;
  const std::string id = CommitSimple(*store, "checked");
  store->Tag(id, ParseReference("app:1"));
  CHECK(CheckStore(*store).ok());
  CHECK(CheckStore(*store).problems.empty());

  const Manifest manifest = store->ReadManifest(id);
  const std::string layer = manifest.layers.at(0).digest.String();
  Overwrite(store->blobs().Path(manifest.layers.at(0).digest), "garbage");
  CheckReport corrupt = CheckStore(*store);
  REQUIRE(corrupt.problems.size() == 1);
  CHECK_THAT(corrupt.problems[0], Catch::Contains("blob " + layer + " is corrupt"));

  fs::remove(store->blobs().Path(manifest.layers.at(0).digest));
  CheckReport missing = CheckStore(*store);
  CHECK_FALSE(missing.ok());
  CHECK(std::count_if(missing.problems.begin(), missing.problems.end(), [&](const std::string& p) {
          return p.find("layer " + layer + " is missing") != std::string::npos;
        }) == 2);  // from the image record and from the tag

  std::ofstream(store->root() / "tmp" / ".tmp-leftover") << "x";
  CHECK(CheckStore(*store).leftovers.size() == 1);
}

TEST_CASE("check names a record or manifest whose digest is malformed", "[store]") {
  TempStore store;
  const std::string id = CommitSimple(*store, "checked");
  const fs::path record = store->root() / "images" / (id.substr(7) + ".json");
  std::string text = ReadWholeFile(record);
  text.replace(text.find(id), id.size(), "sha256:NOT-A-DIGEST");
  Overwrite(record, text);
  const CheckReport report = CheckStore(*store);
  REQUIRE(report.problems.size() == 1);
  CHECK_THAT(report.problems[0], Catch::Contains("invalid digest \"sha256:NOT-A-DIGEST\""));
}

TEST_CASE("garbage collection keeps blobs shared with live images", "[store]") {
  TempStore store;
  Descriptor shared = PutLayer(*store, "shared", "shared layer");
  Descriptor only_a = PutLayer(*store, "a", "only in a");
  const std::string a = store
                            ->CommitImage(ConfigFor({shared, only_a}, "2024-01-01T00:00:00Z"),
                                          {shared, only_a}, "", false)
                            .String();
  const std::string b =
      store->CommitImage(ConfigFor({shared}, "2024-01-02T00:00:00Z"), {shared}, "", false).String();
  store->Tag(a, ParseReference("a"));
  store->Tag(b, ParseReference("b"));
  const std::string stray = store->blobs().Put("unreferenced").String();
  const fs::path unpacked = store->EnsureUnpackedLayer(only_a.digest, [](const fs::path&) {});
  const std::string a_manifest = store->GetImage(a)->manifest_digest;

  GcReport first = GarbageCollectBlobs(*store);
  CHECK(first.removed_blobs == std::vector<std::string>{stray});
  CHECK(store->blobs().Has(only_a.digest));

  // A tag alone keeps an image's blobs alive.
  CHECK(store->DeleteImage(a));
  CHECK(GarbageCollectBlobs(*store).removed_blobs.empty());

  CHECK(store->Untag(ParseReference("a")));
  GcReport second = GarbageCollectBlobs(*store);
  std::set<std::string> removed(second.removed_blobs.begin(), second.removed_blobs.end());
  CHECK(removed == std::set<std::string>{a, a_manifest, only_a.digest.String()});
  CHECK(second.removed_layers == std::vector<std::string>{only_a.digest.String()});
  CHECK_FALSE(fs::exists(unpacked));
  CHECK(store->blobs().Has(shared.digest));
  CHECK(CheckStore(*store).ok());
  CHECK(store->FindImage("b")->id == b);
}

}  // namespace
}  // namespace kiln
