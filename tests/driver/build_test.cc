#include "driver/build.h"

#include <catch2/catch.hpp>

#include "tests/driver/build_fixture.h"

namespace kiln::driver {
namespace {

using testing::BuildFixture;

TEST_CASE("a prepared build has its graphs, its hashing and its build directory", "[build]") {
  BuildFixture fixture("FROM scratch AS base\nCOPY a /a\n\nFROM base\nENV X=1\n", {{"a", "a"}});
  const PreparedBuild build = PrepareBuild(fixture.request, fixture.dir, {});
  CHECK(build.dir == fixture.dir);
  REQUIRE(build.graphs.size() == 1);
  CHECK(build.hashing.size() == 1);
  CHECK(std::filesystem::exists(fixture.dir / kDriverNinjaFile));

  const std::vector<std::string> keys = StepEdgeKeys(build.graphs[0]);
  const std::vector<StepLabel> labels = StepLabels(build.graphs[0]);
  REQUIRE(labels.size() == 4);
  CHECK(labels[0].id == StepResultPath(keys[0]));
  CHECK(labels[0].text == "[base 1/4] FROM scratch AS base");
  CHECK(labels[1].text == "[base 2/4] COPY a /a");
  CHECK(labels[3].text == "[4/4] ENV X=1");
}

TEST_CASE("a build makes the images its targets name, or all", "[build]") {
  PreparedBuild build;
  build.request.images.resize(3);
  build.request.images[0].name = "api";
  build.request.images[1].name = "web";
  build.request.images[2].name = "db";
  CHECK(BuiltImages(build).size() == 3);
  build.targets = {"db", "api"};
  const std::vector<const ImageRequest*> built = BuiltImages(build);
  REQUIRE(built.size() == 2);
  CHECK(built[0]->name == "api");  // in the request's order
  CHECK(built[1]->name == "db");
}

}  // namespace
}  // namespace kiln::driver
