#include "driver/build_directory.h"

#include <catch2/catch.hpp>

#include "engine/base/atomic_file.h"
#include "tests/driver/build_fixture.h"

namespace kiln::driver {
namespace {

using testing::BuildFixture;

TEST_CASE("a build directory holds the request, the graphs and the ninja files",
          "[build_directory]") {
  BuildFixture build("FROM scratch\nENV A=1\nCOPY hello.txt /hello.txt\n",
                     {{"hello.txt", "hello\n"}});
  std::vector<HashEdge> hashing;
  const std::vector<StepGraph> graphs = build.Generate(&hashing);

  REQUIRE(graphs.size() == 1);
  REQUIRE(graphs[0].steps.size() == 3);
  CHECK(nlohmann::json::parse(ReadWholeFile(build.dir / kRequestFile)) ==
        BuildRequestToJson(build.request));
  CHECK(StepGraphFromJson(nlohmann::json::parse(ReadWholeFile(build.dir / GraphFile(0))))
            .steps.size() == 3);
  const std::string ninja = ReadWholeFile(build.dir / kNinjaFile);
  const std::string driver = ReadWholeFile(build.dir / kDriverNinjaFile);
  CHECK(ninja.find("build build.ninja: regenerate") != std::string::npos);
  CHECK(driver.find("build build.ninja") == std::string::npos);
  const std::string digest = InputDigestPath(InputSetKey(graphs[0], graphs[0].steps[2]));
  REQUIRE(hashing.size() == 1);
  CHECK(hashing[0].outputs == std::vector<std::string>{digest});
  CHECK(hashing[0].context == build.context.string());

  // What the driver's file names, for the fingerprint.
  const std::string paths = ReadWholeFile(build.dir / (std::string(kDriverNinjaFile) + ".paths"));
  for (const std::string& key : StepEdgeKeys(graphs[0]))
    CHECK(paths.find(StepResultPath(key) + "\n") != std::string::npos);
  CHECK(paths.find(digest + "\n") != std::string::npos);
  CHECK(paths.find(IidFile("image") + "\n") != std::string::npos);
}

TEST_CASE("writing the same build directory again rewrites nothing", "[build_directory]") {
  BuildFixture build("FROM scratch\nENV A=1\nCOPY hello.txt /hello.txt\n",
                     {{"hello.txt", "hello\n"}});
  build.Generate();
  const auto before = build.Files();
  build.Generate();
  CHECK(build.Files() == before);

  SECTION("a new label changes the request and nothing the graph depends on") {
    build.request.images[0].labels = {{"team", "core"}};
    build.Generate();
    const auto after = build.Files();
    CHECK(after.at(kRequestFile) != before.at(kRequestFile));
    CHECK(after.at(GraphFile(0)) == before.at(GraphFile(0)));
    CHECK(after.at(kDriverNinjaFile) == before.at(kDriverNinjaFile));
  }
  SECTION("a new instruction changes the graph and the ninja files") {
    testing::WriteFile(build.context / "Dockerfile", "FROM scratch\nENV A=2\n");
    build.Generate();
    const auto after = build.Files();
    CHECK(after.at(GraphFile(0)) != before.at(GraphFile(0)));
    CHECK(after.at(kDriverNinjaFile) != before.at(kDriverNinjaFile));
    CHECK(after.at(std::string(kDriverNinjaFile) + ".paths") !=
          before.at(std::string(kDriverNinjaFile) + ".paths"));
  }
}

}  // namespace
}  // namespace kiln::driver
