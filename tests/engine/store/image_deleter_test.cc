#include "engine/store/image_deleter.h"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <optional>

#include "tests/engine/store/store_test_support.h"

namespace kiln {
namespace {

namespace fs = std::filesystem;
using Kind = ImageRemoval::Kind;

using testing::TempStore;

/// A layerless image, distinct for each `created`, built on `parent`.
std::string MakeImage(ImageStore& store, const std::string& created, const std::string& parent = "",
                      bool intermediate = false) {
  const nlohmann::json config = {
      {"architecture", "amd64"},
      {"os", "linux"},
      {"created", created},
      {"rootfs", {{"type", "layers"}, {"diff_ids", nlohmann::json::array()}}}};
  return store.CommitImage(config, {}, parent, intermediate).String();
}

std::string Short(const std::string& id) {
  return id.substr(7, 12);
}

/// A container of `image`: stopped, or running as this test process.
ContainerRecord MakeContainer(ImageStore& store, const std::string& image, bool running) {
  ContainerRecord record;
  record.image_id = image;
  record = CreateContainer(store, record);
  if (running) {
    ContainerState state;
    state.status = "running";
    state.pid = getpid();
    state.pid_start = ProcessStartTime(getpid()).value();
    WriteContainerState(store, record.id, state);
  }
  return record;
}

std::vector<ImageRemoval> Delete(ImageStore& store, const std::string& name, bool force = false,
                                 bool prune = true) {
  std::vector<ImageRemoval> done;
  ImageDeleter(store).Delete(name, force, prune, done);
  return done;
}

TEST_CASE("a tag is removed, and the image with its last tag", "[image_deleter]") {
  TempStore store;
  const std::string id = MakeImage(*store, "2024-01-01T00:00:00Z");
  store->Tag(id, ParseReference("app:1"));
  store->Tag(id, ParseReference("app:2"));

  CHECK(Delete(*store, "app:1") == std::vector<ImageRemoval>{{Kind::kUntagged, "app:1"}});
  CHECK(store->GetImage(id));
  CHECK(Delete(*store, "app:2") ==
        std::vector<ImageRemoval>{{Kind::kUntagged, "app:2"}, {Kind::kDeleted, id}});
  CHECK_FALSE(store->GetImage(id));
}

TEST_CASE("an id removes the image with its tags of one repository", "[image_deleter]") {
  TempStore store;
  const std::string id = MakeImage(*store, "2024-01-01T00:00:00Z");
  store->Tag(id, ParseReference("app:1"));
  store->Tag(id, ParseReference("app:2"));
  CHECK(Delete(*store, Short(id)) == std::vector<ImageRemoval>{{Kind::kUntagged, "app:1"},
                                                               {Kind::kUntagged, "app:2"},
                                                               {Kind::kDeleted, id}});
  CHECK(store->ListTags().empty());
}

TEST_CASE("an id of an image tagged in several repositories needs force", "[image_deleter]") {
  TempStore store;
  const std::string id = MakeImage(*store, "2024-01-01T00:00:00Z");
  store->Tag(id, ParseReference("one"));
  store->Tag(id, ParseReference("two"));
  std::vector<ImageRemoval> done;
  ImageDeleter deleter(*store);
  CHECK_THROWS_MATCHES(deleter.Delete(id, false, true, done), ImageDeleteConflict,
                       Catch::Message("conflict: unable to delete " + Short(id) +
                                      " (must be forced) - image is referenced in multiple "
                                      "repositories"));
  CHECK(done.empty());
  CHECK(store->GetImage(id));
  deleter.Delete(id, /*force=*/true, true, done);
  CHECK(done == std::vector<ImageRemoval>{{Kind::kUntagged, "one:latest"},
                                          {Kind::kUntagged, "two:latest"},
                                          {Kind::kDeleted, id}});
}

TEST_CASE("an image with a child image stays, even forced", "[image_deleter]") {
  TempStore store;
  const std::string base = MakeImage(*store, "2024-01-01T00:00:00Z");
  const std::string child = MakeImage(*store, "2024-01-02T00:00:00Z", base);
  store->Tag(child, ParseReference("app"));
  CHECK_THROWS_MATCHES(Delete(*store, base, /*force=*/true), ImageDeleteConflict,
                       Catch::Message("conflict: unable to delete " + Short(base) +
                                      " (cannot be forced) - image has dependent child images"));
  CHECK(store->GetImage(base));
}

TEST_CASE("deleting an image prunes its untagged parents unless asked not to", "[image_deleter]") {
  TempStore store;
  const std::string base = MakeImage(*store, "2024-01-01T00:00:00Z", "", /*intermediate=*/true);
  const std::string child = MakeImage(*store, "2024-01-02T00:00:00Z", base);
  store->Tag(child, ParseReference("app"));

  SECTION("pruned") {
    CHECK(Delete(*store, "app") == std::vector<ImageRemoval>{{Kind::kUntagged, "app:latest"},
                                                             {Kind::kDeleted, child},
                                                             {Kind::kDeleted, base}});
    CHECK_FALSE(store->GetImage(base));
  }
  SECTION("--no-prune") {
    CHECK(Delete(*store, "app", false, /*prune=*/false) ==
          std::vector<ImageRemoval>{{Kind::kUntagged, "app:latest"}, {Kind::kDeleted, child}});
    CHECK(store->GetImage(base));
  }
  SECTION("a tagged parent stays") {
    store->Tag(base, ParseReference("base"));
    CHECK(Delete(*store, "app") ==
          std::vector<ImageRemoval>{{Kind::kUntagged, "app:latest"}, {Kind::kDeleted, child}});
    CHECK(store->GetImage(base));
  }
}

TEST_CASE("a stopped container keeps its image unless forced", "[image_deleter]") {
  TempStore store;
  const std::string id = MakeImage(*store, "2024-01-01T00:00:00Z");
  store->Tag(id, ParseReference("app"));
  const ContainerRecord container = MakeContainer(*store, id, /*running=*/false);

  CHECK_THROWS_MATCHES(
      Delete(*store, "app"), ImageDeleteConflict,
      Catch::Message("conflict: unable to remove repository reference \"app\" "
                     "(must force) - container " +
                     container.id.substr(0, 12) + " is using its referenced image " + Short(id)));
  CHECK_THROWS_MATCHES(Delete(*store, id), ImageDeleteConflict,
                       Catch::Message("conflict: unable to delete " + Short(id) +
                                      " (must be forced) - image is being used by stopped "
                                      "container " +
                                      container.id.substr(0, 12)));
  CHECK(store->ImageForTag(ParseReference("app")) == id);
  CHECK(Delete(*store, id, /*force=*/true) ==
        std::vector<ImageRemoval>{{Kind::kUntagged, "app:latest"}, {Kind::kDeleted, id}});
}

TEST_CASE("a running container keeps its image, even forced", "[image_deleter]") {
  TempStore store;
  const std::string id = MakeImage(*store, "2024-01-01T00:00:00Z");
  const ContainerRecord container = MakeContainer(*store, id, /*running=*/true);
  CHECK_THROWS_MATCHES(Delete(*store, id, /*force=*/true), ImageDeleteConflict,
                       Catch::Message("conflict: unable to delete " + Short(id) +
                                      " (cannot be forced) - image is being used by running "
                                      "container " +
                                      container.id.substr(0, 12)));
}

TEST_CASE("an unknown name is no such image", "[image_deleter]") {
  TempStore store;
  CHECK_THROWS_MATCHES(Delete(*store, "nothing"), ImageStoreError,
                       Catch::Message("No such image: nothing"));
}

TEST_CASE("pruning deletes a tagged or dangling image nothing needs, with its tags",
          "[image_deleter]") {
  TempStore store;
  const std::string used = MakeImage(*store, "2024-01-01T00:00:00Z");
  MakeContainer(*store, used, /*running=*/false);
  const std::string tagged = MakeImage(*store, "2024-01-02T00:00:00Z");
  store->Tag(tagged, ParseReference("app"));
  const std::string dangling = MakeImage(*store, "2024-01-03T00:00:00Z");

  ImageDeleter deleter(*store);
  std::vector<ImageRemoval> done;
  CHECK_FALSE(deleter.Prune(used, done));
  CHECK(done.empty());
  CHECK(deleter.Prune(tagged, done));
  CHECK(deleter.Prune(dangling, done));
  CHECK(done == std::vector<ImageRemoval>{{Kind::kUntagged, "app:latest"},
                                          {Kind::kDeleted, tagged},
                                          {Kind::kDeleted, dangling}});
  CHECK(store->GetImage(used));
}

}  // namespace
}  // namespace kiln
