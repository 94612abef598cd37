#include "engine/store/step_cache.h"

#include <filesystem>
#include <string>

#include <catch2/catch.hpp>

#include "tests/engine/store/store_test_support.h"

namespace kiln {
namespace {

namespace fs = std::filesystem;
using testing::CommitSimple;
using testing::Overwrite;
using testing::TempStore;

TEST_CASE("the step cache maps keys to existing images", "[store]") {
  TempStore store;
  const Digest id = Digest::Parse(CommitSimple(*store, "cached"));
  StepCache cache(*store);
  CHECK_FALSE(cache.Get("0123abcd"));
  cache.Put("0123abcd", id);
  CHECK(cache.Get("0123abcd") == id);
  CHECK(ReadWholeFile(store->root() / "cache" / "0123abcd.json") ==
        R"({"image_id":")" + id.String() + R"("})");
  CHECK(store->DeleteImage(id.String()));
  CHECK_FALSE(store->DeleteImage(id.String()));
  CHECK_FALSE(cache.Get("0123abcd"));
  CHECK_THROWS_WITH(cache.Put("../x", id), Catch::Contains("invalid cache key"));
  CHECK_THROWS_WITH(cache.Put(".hidden", id), Catch::Contains("invalid cache key"));
}

TEST_CASE("an unreadable step cache entry is a miss, never an error", "[store]") {
  TempStore store;
  const Digest id = Digest::Parse(CommitSimple(*store, "cached"));
  StepCache cache(*store);
  cache.Put("key", id);
  for (const std::string& content :
       {std::string("{not json"), std::string(R"({"other":1})"),
        std::string(R"({"image_id":"sha256:NOT-HEX"})"), std::string(R"({"image_id":7})")}) {
    INFO(content);
    Overwrite(store->root() / "cache" / "key.json", content);
    CHECK_FALSE(cache.Get("key"));
  }
}

}  // namespace
}  // namespace kiln
