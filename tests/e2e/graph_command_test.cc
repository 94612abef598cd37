// End-to-end tests of `kiln graph`: the built program on real files, exit codes and output.
#include <sys/wait.h>

#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;

struct Result {
  int exit_code = -1;
  std::string out;
  std::string err;
};

std::string Slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

/// A context directory removed at the end of the test.
class Context {
 public:
  Context() {
    std::string pattern = (fs::temp_directory_path() / "kiln-graph-e2e-XXXXXX").string();
    REQUIRE(mkdtemp(pattern.data()) != nullptr);
    path_ = pattern;
  }
  ~Context() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  void Write(const std::string& name, const std::string& content) const {
    fs::create_directories((path_ / name).parent_path());
    std::ofstream(path_ / name, std::ios::binary) << content;
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

std::string Quote(const std::string& word) {
  std::string out = "'";
  for (char c : word) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

/// Runs `kiln graph ARGS` with `env_prefix` (e.g. "FOO=1 ") in front, capturing its output.
Result Graph(const Context& ctx, const std::vector<std::string>& args,
             const std::string& env_prefix = "") {
  const fs::path out = ctx.path() / ".out";
  const fs::path err = ctx.path() / ".err";
  std::string command = "env " + env_prefix + Quote(KILN_BINARY) + " graph";
  for (const std::string& arg : args) command += " " + Quote(arg);
  command += " </dev/null >" + Quote(out.string()) + " 2>" + Quote(err.string());
  const int status = std::system(command.c_str());
  Result result;
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  result.out = Slurp(out);
  result.err = Slurp(err);
  return result;
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
  Context ctx;
  ctx.Write("Dockerfile", kDockerfile);
  const Result r = Graph(ctx, {ctx.path().string()});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.rfind("digraph kiln {", 0) == 0);
  CHECK(r.out.find("subgraph cluster_0") != std::string::npos);
  CHECK(r.out.find("subgraph cluster_1") != std::string::npos);
  CHECK(r.out.find("subgraph cluster_2") == std::string::npos);  // "unused" is dropped
  CHECK(r.out.find("label=\"from\"") != std::string::npos);
  CHECK(r.err.empty());
  if (std::system("command -v dot >/dev/null 2>&1") == 0) {
    ctx.Write("graph.dot", r.out);
    const std::string render =
        "dot -Tsvg " + Quote((ctx.path() / "graph.dot").string()) + " >/dev/null";
    CHECK(std::system(render.c_str()) == 0);
  }
}

TEST_CASE("kiln graph --format json with -f, --target and --build-arg", "[e2e][graph]") {
  Context ctx;
  ctx.Write("docker/app.Dockerfile", kDockerfile);
  ctx.Write(".dockerignore", "*.tmp\n");
  const Result r = Graph(ctx,
                         {"-f", (ctx.path() / "docker/app.Dockerfile").string(), "--target",
                          "build", "--build-arg", "VERSION=1.2", "--build-arg", "FROM_ENV",
                          "--build-arg", "NOT_SET", "--format", "json", ctx.path().string()},
                         "FROM_ENV=hello ");
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
  Context ctx;
  ctx.Write("Dockerfile", "FROM scratch\nCOPY --chmod=abc a /b\n");
  Result r = Graph(ctx, {ctx.path().string()});
  CHECK(r.exit_code == 1);
  CHECK(r.out.empty());
  CHECK(r.err.find("Dockerfile:2:6: invalid chmod parameter: abc") != std::string::npos);
  CHECK(r.err.find(" 2 | COPY --chmod=abc a /b") != std::string::npos);

  ctx.Write("Dockerfile", "FROM scratch AS only\n");
  r = Graph(ctx, {"--target", "nope", ctx.path().string()});
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("target stage \"nope\" could not be found") != std::string::npos);

  r = Graph(ctx, {(ctx.path() / "missing").string()});
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("no such file or directory") != std::string::npos);
}

TEST_CASE("kiln graph usage errors exit 2", "[e2e][graph]") {
  Context ctx;
  ctx.Write("Dockerfile", "FROM scratch\n");
  CHECK(Graph(ctx, {}).exit_code == 2);
  CHECK(Graph(ctx, {"a", "b"}).exit_code == 2);
  CHECK(Graph(ctx, {"--format", "svg", ctx.path().string()}).exit_code == 2);
  CHECK(Graph(ctx, {"--bogus", ctx.path().string()}).exit_code == 2);
  CHECK(Graph(ctx, {ctx.path().string(), "--target"}).exit_code == 2);
  const Result help = Graph(ctx, {"--help"});
  CHECK(help.exit_code == 0);
  CHECK(help.out.find("Usage:  kiln graph") != std::string::npos);
}

}  // namespace
