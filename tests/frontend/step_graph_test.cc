#include "frontend/step_graph.h"

#include <catch2/catch.hpp>

namespace kiln {
namespace {

TEST_CASE("StepGraph survives a JSON round trip", "[step_graph]") {
  StepGraph g;
  g.dockerfile = "Dockerfile";
  g.context = "/ctx";
  g.build_args = {{"V", "1"}};
  Step from;
  from.id = 0;
  from.kind = StepKind::kFrom;
  from.base_image = "scratch";
  Step run;
  run.id = 1;
  run.parent = 0;
  run.kind = StepKind::kRun;
  run.command = {"echo hi"};
  run.shell_form = true;
  run.mounts.push_back({"cache", "/root/.cache", -1, "", {{"sharing", "locked"}}});
  run.healthcheck = Healthcheck{{"CMD", "true"}, 1, 2, 3, 4, 5};
  g.steps = {from, run};
  g.stages.push_back({0, "build", {0, 1}, {}});
  g.target_stage = 0;

  const nlohmann::json j = StepGraphToJson(g);
  const StepGraph back = StepGraphFromJson(j);
  CHECK(StepGraphToJson(back) == j);
  CHECK(back.steps[1].kind == StepKind::kRun);
  CHECK(back.steps[1].mounts[0].options.at("sharing") == "locked");
  REQUIRE(back.steps[1].healthcheck);
  CHECK(back.steps[1].healthcheck->retries == 5);
  CHECK_FALSE(back.steps[0].healthcheck);
  CHECK(j["steps"][1]["kind"] == "run");
}

}  // namespace
}  // namespace kiln
