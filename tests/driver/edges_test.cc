#include "driver/edges.h"

#include <catch2/catch.hpp>

#include "driver/input_hashing.h"
#include "engine/base/atomic_file.h"
#include "engine/step_executor.h"
#include "engine/store/image_store.h"
#include "tests/driver/build_fixture.h"

namespace kiln::driver {
namespace {

using testing::BuildFixture;
using testing::ScopedWorkingDirectory;
using testing::StampOf;

TEST_CASE("the hash edge writes a step's input digest when its files change, only then",
          "[edges]") {
  BuildFixture build("FROM scratch\nCOPY hello.txt /hello.txt\n", {{"hello.txt", "hello\n"}});
  const StepGraph graph = build.Generate().at(0);
  const std::string digest = InputDigestPath(InputSetKey(graph, graph.steps[1]));
  ScopedWorkingDirectory in_build(build.dir);

  RunHashEdge({GraphFile(0) + ":1"});
  const std::string first = ReadWholeFile(digest);
  CHECK(first.size() > 1);
  CHECK(ReadWholeFile(digest + ".list").find("hello.txt") != std::string::npos);
  const auto stamp = StampOf(digest);

  RunHashEdge({GraphFile(0) + ":1"});
  CHECK(StampOf(digest) == stamp);

  testing::WriteFile(build.context / "hello.txt", "hello, world\n");
  RunHashEdge({GraphFile(0) + ":1"});
  CHECK(ReadWholeFile(digest) != first);
  CHECK_FALSE(StampOf(digest) == stamp);
}

TEST_CASE("the hash edge names the instruction whose source is missing", "[edges]") {
  BuildFixture build("FROM scratch\nCOPY hello.txt /hello.txt\n", {{"hello.txt", "hello\n"}});
  build.Generate();
  std::filesystem::remove(build.context / "hello.txt");
  ScopedWorkingDirectory in_build(build.dir);
  CHECK_THROWS_WITH(RunHashEdge({GraphFile(0) + ":1"}),
                    Catch::Contains("Dockerfile:2: COPY hello.txt /hello.txt"));
  CHECK_THROWS_AS(RunHashEdge({"no-colon"}), std::invalid_argument);
}

TEST_CASE("a config-only step edge writes its stamp once", "[edges]") {
  BuildFixture build("FROM scratch\nENV GREETING=hello\n");
  const StepGraph graph = build.Generate().at(0);
  const std::vector<std::string> keys = StepEdgeKeys(graph);
  ScopedWorkingDirectory in_build(build.dir);

  StepEdgeRequest from{GraphFile(0), 0, StepResultPath(keys[0]), "", {}, ""};
  REQUIRE(RunStepEdge(from) == 0);
  StepEdgeRequest env{GraphFile(0), 1, StepResultPath(keys[1]), StepRecordPath(keys[0]), {}, ""};
  REQUIRE(RunStepEdge(env) == 0);

  const StepRecord record =
      StepRecordFromJson(nlohmann::json::parse(ReadWholeFile(StepRecordPath(keys[1]))));
  CHECK(ReadWholeFile(StepResultPath(keys[1])) == record.content_key + "\n");
  ImageStore store(build.request.store_root);
  const ImageConfig config = store.ReadImageConfig(record.image_id);
  CHECK_THAT(config.config.env, Catch::VectorContains(std::string("GREETING=hello")));

  const auto stamp = StampOf(StepResultPath(keys[1]));
  REQUIRE(RunStepEdge(env) == 0);
  CHECK(StampOf(StepResultPath(keys[1])) == stamp);
  const StepRecord again =
      StepRecordFromJson(nlohmann::json::parse(ReadWholeFile(StepRecordPath(keys[1]))));
  CHECK(again.cached);
  CHECK(again.image_id == record.image_id);
}

}  // namespace
}  // namespace kiln::driver
