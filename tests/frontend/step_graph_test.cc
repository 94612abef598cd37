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

TEST_CASE("StepGraph JSON leaves out default fields", "[step_graph]") {
  StepGraph g;
  Step copy;
  copy.id = 0;
  copy.kind = StepKind::kCopy;
  copy.instruction = "COPY";
  copy.sources = {"a"};
  copy.destination = "/b";
  copy.link = true;
  g.steps = {copy};
  const nlohmann::json j = StepGraphToJson(g);
  std::vector<std::string> keys;
  for (const auto& item : j["steps"][0].items()) keys.push_back(item.key());
  CHECK(keys == std::vector<std::string>{"destination", "id", "instruction", "key_text", "kind",
                                         "line", "link", "parent", "sources", "stage", "text"});
  const StepGraph back = StepGraphFromJson(j);
  CHECK(back.steps[0].from_stage == -1);
  CHECK(back.steps[0].base_stage == -1);
  CHECK(back.steps[0].link);
  CHECK_FALSE(back.steps[0].parents);
  CHECK(back.steps[0].sources == std::vector<std::string>{"a"});
}

TEST_CASE("StepGraphJsonText is StepGraphToJson dumped", "[step_graph]") {
  StepGraph g;
  g.dockerfile = "Dockerfile";
  g.context = "/ctx";
  g.build_args = {{"V", "1"}, {"A", "\"q\""}};
  g.ignore_patterns = {"*.log"};
  g.warnings = {"w"};
  Step from;
  from.id = 0;
  from.stage = 0;
  from.kind = StepKind::kFrom;
  from.instruction = "FROM";
  from.base_image = "alpine";
  from.platform = "linux/amd64";
  Step run;
  run.id = 1;
  run.stage = 0;
  run.parent = 0;
  run.kind = StepKind::kRun;
  run.instruction = "RUN";
  run.text = "RUN --mount=type=cache,target=/c echo \"hi\"\n";
  run.command = {"echo \"hi\"\n\tthere"};
  run.shell_form = true;
  run.mounts.push_back({"cache", "/c", 0, "", {{"sharing", "locked"}, {"id", "x"}}});
  run.run_env = {{"HTTP_PROXY", "p"}};
  run.build_args = {{"V", "1"}};
  run.inline_files = {{"EOF", "caf\xC3\xA9\n"}};
  Step health;
  health.id = 2;
  health.stage = 0;
  health.parent = 1;
  health.instruction = "HEALTHCHECK";
  health.healthcheck = Healthcheck{{"CMD", "true"}, 1, 2, 3, 4, 5};
  health.env = {{"A", "b"}};
  health.labels = {{"l", ""}};
  g.steps = {from, run, health};
  g.stages.push_back({0, "build", {0, 1, 2}, {}});
  g.target_stage = 0;
  for (int indent : {-1, 2}) CHECK(StepGraphJsonText(g, indent) == StepGraphToJson(g).dump(indent));
  CHECK(StepGraphToJson(StepGraphFromJson(StepGraphToJson(g))) == StepGraphToJson(g));
}

}  // namespace
}  // namespace kiln
