#include "generators/graph_writer.h"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <catch2/catch.hpp>

#include "frontend/lowering.h"
#include "frontend/parser.h"
#include "tests/support/temp_dir.h"

namespace kiln {
namespace {

StepGraph TwoStageGraph() {
  return LowerDockerfile(ParseDockerfile("FROM alpine AS build\n"
                                         "RUN echo \"quoted\" \\\\ back && printf 'a\\\\nb'\n"
                                         "FROM scratch\n"
                                         "COPY --from=build /out /out\n"
                                         "FROM build\n"
                                         "RUN --mount=type=bind,from=build,target=/b true\n"),
                         LowerOptions{});
}

bool HaveDot() {
  return std::system("command -v dot >/dev/null 2>&1") == 0;
}

TEST_CASE("Dot output has a cluster per stage and every edge", "[graph_writer]") {
  const StepGraph graph = TwoStageGraph();
  REQUIRE(graph.stages.size() == 2);  // the unused middle stage is dropped
  const std::string dot = StepGraphToDot(graph);
  CHECK_THAT(dot, Catch::Matchers::StartsWith("digraph kiln {"));
  CHECK_THAT(dot, Catch::Matchers::Contains("subgraph cluster_0 {"));
  CHECK_THAT(dot, Catch::Matchers::Contains("label=\"stage 0: build\""));
  CHECK_THAT(dot, Catch::Matchers::Contains("subgraph cluster_1 {"));
  CHECK_THAT(dot, Catch::Matchers::Contains("label=\"stage 1 (target)\""));
  CHECK_THAT(dot, Catch::Matchers::Contains("step0 -> step1;"));
  CHECK_THAT(dot, Catch::Matchers::Contains("step2 -> step3;"));
  CHECK_THAT(dot, Catch::Matchers::Contains("step1 -> step2 [style=dashed, label=\"base\"];"));
  CHECK_THAT(dot, Catch::Matchers::Contains("step1 -> step3 [style=dashed, label=\"mount\"];"));
  // Quotes and backslashes of the step text are escaped for dot.
  CHECK_THAT(dot, Catch::Matchers::Contains(
                      R"(step1 [label="RUN echo \"quoted\" \\\\ back && printf 'a\\\\nb'"];)"));
}

TEST_CASE("Dot output shows COPY --from as a cross-stage edge", "[graph_writer]") {
  const StepGraph graph =
      LowerDockerfile(ParseDockerfile("FROM alpine AS a\nRUN x\nFROM scratch\nCOPY --from=a / /\n"),
                      LowerOptions{});
  const std::string dot = StepGraphToDot(graph);
  CHECK_THAT(dot, Catch::Matchers::Contains("step1 -> step3 [style=dashed, label=\"from\"];"));
}

TEST_CASE("Dot output renders with Graphviz", "[graph_writer]") {
  if (!HaveDot()) {
    WARN("dot is not installed; skipping the render check");
    return;
  }
  const testing::TempDir temp("kiln-graph-writer");
  const std::filesystem::path& dir = temp.path();
  const auto file = dir / "graph.dot";
  std::ofstream(file) << StepGraphToDot(TwoStageGraph());
  const std::string command =
      "dot -Tsvg '" + file.string() + "' -o '" + (dir / "graph.svg").string() + "' 2>&1";
  CHECK(std::system(command.c_str()) == 0);
  CHECK(std::filesystem::file_size(dir / "graph.svg") > 0);
}

}  // namespace
}  // namespace kiln
