#include "frontend/step_graph.h"

#include <catch2/catch.hpp>
#include <set>
#include <stdexcept>
#include <string>

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
  CHECK(keys == std::vector<std::string>{"destination", "id", "instruction", "kind", "line", "link",
                                         "parent", "sources", "stage", "text"});
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
  for (int indent : {-1, 2})
    CHECK(StepGraphJsonText(g, indent) == StepGraphToJson(g).dump(indent) + "\n");
  CHECK_THAT(StepGraphJsonText(g, 2), Catch::Matchers::Contains("\n  \"stages\": ["));
  CHECK(StepGraphFromJson(StepGraphToJson(g)) == g);
}

TEST_CASE("StepGraphJsonText replaces bytes that are not UTF-8", "[step_graph]") {
  StepGraph g;
  Step run;
  run.kind = StepKind::kRun;
  run.command = {"echo caf\xE9"};
  g.steps = {run};
  const nlohmann::json j = nlohmann::json::parse(StepGraphJsonText(g));
  CHECK(j["steps"][0]["command"] == nlohmann::json({"echo caf\xEF\xBF\xBD"}));
}

TEST_CASE("step kinds have one name each, in JSON and in messages", "[step_graph]") {
  for (StepKind kind : {StepKind::kFrom, StepKind::kRun, StepKind::kCopy, StepKind::kAdd,
                        StepKind::kWorkdir, StepKind::kConfig}) {
    const nlohmann::json j = kind;
    CHECK(j == StepKindName(kind));
    CHECK(j.get<StepKind>() == kind);
  }
  CHECK(std::string(StepKindName(StepKind::kWorkdir)) == "workdir");
  CHECK_THROWS_AS(nlohmann::json("bogus").get<StepKind>(), std::invalid_argument);
}

/// A step with every field away from its default (stage indexes set), so that each field is in
/// its JSON form.
Step FullStep() {
  Step s;
  s.id = 3;
  s.stage = 1;
  s.parent = 2;
  s.kind = StepKind::kRun;
  s.instruction = "RUN";
  s.text = "RUN make";
  s.line = 7;
  s.build_args = {{"V", "1"}};
  s.base_image = "alpine";
  s.base_stage = 0;
  s.platform = "linux/amd64";
  s.command = {"make"};
  s.shell_form = true;
  s.mounts.push_back({"bind", "/src", 0, "img", {{"source", "/s"}}});
  s.network = "none";
  s.security = "insecure";
  s.run_env = {{"HTTP_PROXY", "p"}};
  s.sources = {"a"};
  s.destination = "/b";
  s.from_stage = 0;
  s.from_image = "busybox";
  s.chown = "1:1";
  s.chmod = "644";
  s.link = true;
  s.parents = true;
  s.excludes = {"*.o"};
  s.checksum = "sha256:00";
  s.keep_git_dir = true;
  s.inline_files = {{"EOF", "hi\n"}};
  s.env = {{"A", "b"}};
  s.labels = {{"l", "v"}};
  s.args = {"x"};
  s.value = "/w";
  s.healthcheck = Healthcheck{{"CMD", "true"}, 1, 2, 3, 4, 5};
  return s;
}

/// `value` changed: another string, number or truth value.
nlohmann::json Changed(const nlohmann::json& value) {
  if (value.is_string()) return value.get<std::string>() + "x";
  if (value.is_boolean()) return !value.get<bool>();
  return value.get<int64_t>() + 1;
}

TEST_CASE("key text changes with every field that decides the result and only with them",
          "[step_graph]") {
  const Step full = FullStep();
  const nlohmann::json full_json = full;
  REQUIRE(full_json.size() == 34);  // every Step field: a new one must be set in FullStep too
  const std::string key = StepKeyText(full);
  const std::set<std::string> outside_key = {"/id",   "/stage", "/parent",
                                             "/text", "/line",  "/run_env"};
  const std::set<std::string> stage_indexes = {"/base_stage", "/from_stage",
                                               "/mounts/0/from_stage"};
  const nlohmann::json full_flat = full_json.flatten();
  for (const auto& [pointer, value] : full_flat.items()) {
    INFO(pointer);
    nlohmann::json flat = full_flat;
    flat[pointer] = pointer == "/kind" ? nlohmann::json("copy") : Changed(value);
    const std::string changed = StepKeyText(flat.unflatten().get<Step>());
    const std::string top = pointer.substr(0, pointer.find('/', 1));
    if (outside_key.count(top) || stage_indexes.count(pointer)) {
      CHECK(changed == key);  // positions, shown text, stage numbers
    } else {
      CHECK(changed != key);
    }
    if (stage_indexes.count(pointer)) {  // but whether a stage is referred to counts
      flat[pointer] = -1;
      CHECK(StepKeyText(flat.unflatten().get<Step>()) != key);
    }
  }
}

TEST_CASE("key text is the step's JSON without positions, shown text and stage numbers",
          "[step_graph]") {
  const nlohmann::json key = nlohmann::json::parse(StepKeyText(FullStep()));
  for (const char* field : {"id", "stage", "parent", "text", "line", "run_env"})
    CHECK_FALSE(key.contains(field));
  CHECK(key["base_stage"] == true);
  CHECK(key["from_stage"] == true);
  CHECK(key["mounts"][0]["from_stage"] == true);
  CHECK(key["instruction"] == "RUN");
  CHECK(key["healthcheck"]["retries"] == 5);
  Step unset = FullStep();
  unset.base_stage = unset.from_stage = unset.mounts[0].from_stage = -1;
  const nlohmann::json unset_key = nlohmann::json::parse(StepKeyText(unset));
  CHECK_FALSE(unset_key.contains("base_stage"));
  CHECK_FALSE(unset_key.contains("from_stage"));
  CHECK_FALSE(unset_key["mounts"][0].contains("from_stage"));
}

}  // namespace
}  // namespace kiln
