// End-to-end tests of `kiln graph`: the built program on real files, exit codes and output.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/e2e/e2e_support.h"

namespace kiln::e2e {
namespace {

/// Runs `kiln graph ARGS` with `env` added to its environment.
CommandResult Graph(const std::vector<std::string>& args,
                    const std::map<std::string, std::string>& env = {}) {
  std::vector<std::string> argv = {KILN_BINARY, "graph"};
  argv.insert(argv.end(), args.begin(), args.end());
  return Run(argv, env);
}

const char* kDockerfile =
    "ARG BASE=alpine:3.19\n"
    "FROM ${BASE} AS build\n"
    "ARG VERSION=dev\n"
    "WORKDIR /src\n"
    "COPY . .\n"
    "RUN make VERSION=$VERSION\n"
    "FROM alpine AS unused\n"
    "RUN true\n"
    "FROM scratch\n"
    "COPY --from=build /src/app /app\n"
    "CMD [\"/app\"]\n";

TEST_CASE("kiln graph prints dot by default", "[e2e][graph]") {
  TempDir ctx;
  WriteFile(ctx / "Dockerfile", kDockerfile);
  const CommandResult r = Graph({ctx.path().string()});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.rfind("digraph kiln {", 0) == 0);
  CHECK(r.out.find("subgraph cluster_0") != std::string::npos);
  CHECK(r.out.find("subgraph cluster_1") != std::string::npos);
  CHECK(r.out.find("subgraph cluster_2") == std::string::npos);  // "unused" is dropped
  CHECK(r.out.find("label=\"from\"") != std::string::npos);
  CHECK(r.err.empty());
  const CommandResult dot = Run({"dot", "-Tsvg"}, {}, r.out);
  INFO(dot.err);
  if (dot.exit_code != 127) CHECK(dot.exit_code == 0);  // 127: Graphviz is not installed
}

TEST_CASE("kiln graph --format json with -f, --target and --build-arg", "[e2e][graph]") {
  TempDir ctx;
  WriteFile(ctx / "docker/app.Dockerfile", kDockerfile);
  WriteFile(ctx / ".dockerignore", "*.tmp\n");
  const CommandResult r = Graph({"-f", (ctx / "docker/app.Dockerfile").string(), "--target",
                                 "build", "--build-arg", "VERSION=1.2", "--build-arg", "FROM_ENV",
                                 "--build-arg", "NOT_SET", "--format", "json", ctx.path().string()},
                                {{"FROM_ENV", "hello"}});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const nlohmann::json graph = nlohmann::json::parse(r.out);
  CHECK(graph["stages"].size() == 1);
  CHECK(graph["target_stage"] == 0);
  CHECK(graph["build_args"] ==
        nlohmann::json({{"VERSION", "1.2"}, {"FROM_ENV", "hello"}}));  // NOT_SET is skipped
  CHECK(graph["ignore_patterns"] == nlohmann::json({"*.tmp"}));
  CHECK(graph["steps"][0]["base_image"] == "alpine:3.19");
  CHECK(graph["steps"][3]["text"] == "RUN make VERSION=$VERSION");
  CHECK(graph["steps"][3]["build_args"] == nlohmann::json({{"VERSION", "1.2"}}));
  CHECK(r.err.find("[Warning] One or more build-args [FROM_ENV] were not consumed") !=
        std::string::npos);
}

TEST_CASE("kiln graph reports Dockerfile errors with their place", "[e2e][graph]") {
  TempDir ctx;
  WriteFile(ctx / "Dockerfile", "FROM scratch\nCOPY --chmod=abc a /b\n");
  CommandResult r = Graph({ctx.path().string()});
  CHECK(r.exit_code == 1);
  CHECK(r.out.empty());
  CHECK(r.err.find("Dockerfile:2:6: invalid chmod parameter: abc") != std::string::npos);
  CHECK(r.err.find(" 2 | COPY --chmod=abc a /b") != std::string::npos);

  WriteFile(ctx / "Dockerfile", "FROM scratch AS only\n");
  r = Graph({"--target", "nope", ctx.path().string()});
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("target stage \"nope\" could not be found") != std::string::npos);

  r = Graph({(ctx.path() / "missing").string()});
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("no such file or directory") != std::string::npos);
}

TEST_CASE("kiln graph usage errors exit 2", "[e2e][graph]") {
  TempDir ctx;
  WriteFile(ctx / "Dockerfile", "FROM scratch\n");
  CHECK(Graph({}).exit_code == 2);
  CHECK(Graph({"a", "b"}).exit_code == 2);
  CHECK(Graph({"--format", "svg", ctx.path().string()}).exit_code == 2);
  CHECK(Graph({"--bogus", ctx.path().string()}).exit_code == 2);
  CHECK(Graph({ctx.path().string(), "--target"}).exit_code == 2);
  const CommandResult help = Graph({"--help"});
  CHECK(help.exit_code == 0);
  CHECK(help.out.find("Usage:  kiln graph") != std::string::npos);
}

}  // namespace
}  // namespace kiln::e2e
