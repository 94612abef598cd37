#include "driver/build_request.h"

#include <catch2/catch.hpp>

#include "engine/base/atomic_file.h"
#include "tests/driver/driver_test_support.h"

namespace kiln::driver {
namespace {

using testing::StampOf;
using testing::TempDir;

BuildRequest FullRequest() {
  BuildRequest request;
  request.store_root = "/store";
  request.network = "none";
  request.run_jobs = 7;
  request.source_date_epoch = 1700000000;
  request.secrets = {{"token", "/secrets/token"}};
  ImageRequest image;
  image.name = "api";
  image.context = "/src/api";
  image.dockerfile = "/src/api/Dockerfile.prod";
  image.target = "runtime";
  image.platform = "linux/amd64";
  image.build_args = {{"VERSION", "1.2"}, {"EMPTY", ""}};
  image.tags = {"docker.io/library/api:dev"};
  image.labels = {{"team", "core"}};
  image.iidfile = "/tmp/iid";
  request.images = {image, ImageRequest{}};
  return request;
}

void CheckSame(const BuildRequest& a, const BuildRequest& b) {
  CHECK(a.store_root == b.store_root);
  CHECK(a.network == b.network);
  CHECK(a.run_jobs == b.run_jobs);
  CHECK(a.source_date_epoch == b.source_date_epoch);
  CHECK(a.secrets == b.secrets);
  REQUIRE(a.images.size() == b.images.size());
  for (size_t i = 0; i < a.images.size(); ++i) {
    const ImageRequest &x = a.images[i], &y = b.images[i];
    CHECK(x.name == y.name);
    CHECK(x.context == y.context);
    CHECK(x.dockerfile == y.dockerfile);
    CHECK(x.target == y.target);
    CHECK(x.platform == y.platform);
    CHECK(x.build_args == y.build_args);
    CHECK(x.tags == y.tags);
    CHECK(x.labels == y.labels);
    CHECK(x.iidfile == y.iidfile);
  }
}

TEST_CASE("a build request survives its JSON form", "[build_request]") {
  const BuildRequest request = FullRequest();
  const nlohmann::json json = BuildRequestToJson(request);
  CheckSame(BuildRequestFromJson(json), request);
  CHECK(json["images"][0]["build_args"]["VERSION"] == "1.2");
  // Through text, as the edges read request.json.
  CheckSame(BuildRequestFromJson(nlohmann::json::parse(json.dump(2))), request);

  BuildRequest no_epoch = request;
  no_epoch.source_date_epoch.reset();
  CHECK(BuildRequestToJson(no_epoch)["source_date_epoch"].is_null());
  CHECK_FALSE(BuildRequestFromJson(BuildRequestToJson(no_epoch)).source_date_epoch);
}

TEST_CASE("a build directory belongs to one context and Dockerfile", "[build_request]") {
  const auto dir = BuildDirectoryFor("/store", "/src/app", "/src/app/Dockerfile");
  CHECK(dir == BuildDirectoryFor("/store", "/src/app", "/src/app/Dockerfile"));
  CHECK(dir.parent_path() == "/store/builds");
  CHECK(dir != BuildDirectoryFor("/store", "/src/other", "/src/app/Dockerfile"));
  CHECK(dir != BuildDirectoryFor("/store", "/src/app", "/src/app/Dockerfile.dev"));
  CHECK(dir != BuildDirectoryFor("/store", "/src/app", "-"));
  // Fields cannot run together: ("/a", "b/c") is not ("/ab", "/c").
  CHECK(BuildDirectoryFor("/s", "/a", "b/c") != BuildDirectoryFor("/s", "/ab", "/c"));
  CHECK(BuildDirectoryFor("/other-store", "/src/app", "/src/app/Dockerfile").filename() ==
        dir.filename());
}

TEST_CASE("an unchanged file is left alone, a changed one replaced", "[build_request]") {
  TempDir dir;
  const auto file = dir.path() / "sub" / "request.json";
  CHECK(WriteIfChanged(file, "one\n"));
  CHECK(ReadWholeFile(file) == "one\n");
  const auto before = StampOf(file);
  CHECK_FALSE(WriteIfChanged(file, "one\n"));
  CHECK(StampOf(file) == before);
  CHECK(WriteIfChanged(file, "two\n"));
  CHECK(ReadWholeFile(file) == "two\n");
  CHECK(StampOf(file).inode != before.inode);  // replaced by a rename, never rewritten in place
}

TEST_CASE("tags are normalized; a malformed one is the user's mistake", "[build_request]") {
  CHECK(NormalizedTags({"app", "registry.example:5000/team/app:v1"}) ==
        std::vector<std::string>{"docker.io/library/app:latest",
                                 "registry.example:5000/team/app:v1"});
  CHECK_THROWS_AS(NormalizedTags({"Bad Tag"}), RequestError);
  CHECK_THROWS_WITH(NormalizedTags({"Bad Tag"}),
                    Catch::StartsWith("invalid argument \"Bad Tag\" for \"-t, --tag\" flag: "));
}

}  // namespace
}  // namespace kiln::driver
