// The Dockerfile corpus (tests/corpus/*.Dockerfile): realistic files as engineers write them must
// all parse and lower; a few are checked step by step.
#include <algorithm>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "frontend/dockerfile_error.h"
#include "frontend/file_system.h"
#include "frontend/lowering.h"
#include "frontend/parser.h"

namespace kiln {
namespace {

const std::string kCorpusDir = std::string(KILN_TEST_DATA_DIR) + "/corpus/";

std::string CorpusText(const std::string& name) {
  const std::optional<std::string> text = DiskFileSystem().ReadFile(kCorpusDir + name);
  if (!text) FAIL("cannot read corpus file " << kCorpusDir + name);
  return *text;
}

SyntaxTree ParseCorpus(const std::string& name) {
  return ParseDockerfile(CorpusText(name), name);
}

StepGraph LowerCorpus(const std::string& name, LowerOptions options = {}) {
  options.dockerfile = kCorpusDir + name;
  return LowerDockerfile(ParseCorpus(name), options);
}

/// The names of the graph's stages, in order ("" for unnamed ones).
std::vector<std::string> StageNames(const StepGraph& graph) {
  std::vector<std::string> names;
  for (const Stage& stage : graph.stages) names.push_back(stage.name);
  return names;
}

/// The index in graph.stages of the stage called `name`; fails the test when there is none.
int StageIndex(const StepGraph& graph, const std::string& name) {
  for (const Stage& stage : graph.stages)
    if (stage.name == name) return stage.index;
  FAIL("no stage " << name);
  return -1;
}

/// The stages `stage` depends on, as a set: the order they were found in is not part of the graph.
std::set<int> DependsOn(const StepGraph& graph, int stage) {
  const std::vector<int>& deps = graph.stages.at(stage).depends_on;
  return {deps.begin(), deps.end()};
}

/// The steps of stage `stage` with keyword `instruction`, in order.
std::vector<Step> StepsOf(const StepGraph& graph, int stage, const std::string& instruction) {
  std::vector<Step> out;
  for (int id : graph.stages.at(stage).steps)
    if (graph.steps.at(id).instruction == instruction) out.push_back(graph.steps.at(id));
  return out;
}

/// The one step written on Dockerfile line `line`; fails the test unless exactly one is.
const Step& StepAtLine(const StepGraph& graph, int line) {
  const Step* found = nullptr;
  for (const Step& step : graph.steps)
    if (step.line == line) {
      if (found) FAIL("two steps on line " << line);
      found = &step;
    }
  if (!found) FAIL("no step on line " << line);
  return *found;
}

/// Structural invariants every lowered graph keeps, whatever the Dockerfile.
void CheckWellFormed(const StepGraph& graph) {
  REQUIRE_FALSE(graph.stages.empty());
  CHECK(graph.target_stage == static_cast<int>(graph.stages.size()) - 1);
  size_t steps_in_stages = 0;
  for (size_t s = 0; s < graph.stages.size(); ++s) {
    const Stage& stage = graph.stages[s];
    CHECK(stage.index == static_cast<int>(s));
    REQUIRE_FALSE(stage.steps.empty());
    steps_in_stages += stage.steps.size();
    int previous = -1;
    for (int id : stage.steps) {
      const Step& step = graph.steps.at(id);
      CHECK(step.id == id);
      CHECK(step.stage == stage.index);
      CHECK(step.parent == previous);
      CHECK((step.kind == StepKind::kFrom) == (previous == -1));
      CHECK_FALSE(step.text.empty());
      previous = id;
    }
    for (int dep : stage.depends_on) CHECK((dep >= 0 && dep < stage.index));
  }
  CHECK(steps_in_stages == graph.steps.size());
  for (const Step& step : graph.steps) {
    if (step.from_stage >= 0) CHECK(step.from_stage < step.stage);
    if (step.base_stage >= 0) CHECK(step.base_stage < step.stage);
  }
}

struct CorpusCase {
  std::string file;
  std::map<std::string, std::string> build_args;
  size_t stages;  ///< stages the default target keeps
  size_t steps;
};

/// Every corpus file, with what lowering it for its last stage gives.
const std::vector<CorpusCase>& CorpusCases() {
  static const std::vector<CorpusCase> cases = {
      {"alpine-apk.Dockerfile", {}, 1, 9},
      {"build-args.Dockerfile", {{"APP_VERSION", "2.0.1"}}, 3, 12},
      {"ci-bind-from-stage.Dockerfile", {}, 4, 11},
      {"continuations-comments.Dockerfile", {}, 1, 8},
      {"copy-flags.Dockerfile", {}, 3, 24},
      {"cpp-cmake-ninja.Dockerfile", {}, 3, 20},
      {"cross-compile-xx.Dockerfile", {}, 3, 11},
      {"debian-apt-cache.Dockerfile", {}, 1, 9},
      {"elixir-release.Dockerfile", {}, 2, 30},
      {"expose-volume.Dockerfile", {}, 1, 12},
      {"fedora-dnf.Dockerfile", {}, 3, 10},
      {"go-cache-mounts.Dockerfile", {}, 3, 13},
      {"healthcheck-flags.Dockerfile", {}, 2, 5},
      {"heredocs.Dockerfile", {}, 1, 11},
      {"java-maven.Dockerfile", {}, 4, 22},
      {"labels-env.Dockerfile", {}, 1, 14},
      {"monorepo-targets.Dockerfile", {}, 3, 17},
      {"node-npm-ci.Dockerfile", {}, 4, 18},
      {"onbuild-base.Dockerfile", {}, 1, 12},
      {"php-composer.Dockerfile", {}, 2, 15},
      {"python-venv.Dockerfile", {}, 2, 18},
      {"ruby-bundler.Dockerfile", {}, 3, 19},
      {"rust-cargo.Dockerfile", {}, 2, 11},
      {"scratch-rootfs.Dockerfile", {}, 1, 6},
      {"secrets-ssh.Dockerfile", {}, 3, 16},
      {"shell-changes.Dockerfile", {}, 1, 11},
      {"static-site.Dockerfile", {}, 2, 12},
      {"windows-escape.Dockerfile", {}, 1, 12},
  };
  return cases;
}

TEST_CASE("every corpus file parses and lowers", "[corpus]") {
  for (const CorpusCase& c : CorpusCases()) {
    DYNAMIC_SECTION(c.file) {
      const SyntaxTree tree = ParseCorpus(c.file);
      CHECK_FALSE(tree.instructions.empty());
      LowerOptions options;
      options.build_args = c.build_args;
      const StepGraph graph = LowerCorpus(c.file, options);
      CHECK(graph.stages.size() == c.stages);
      CHECK(graph.steps.size() == c.steps);
      CHECK(graph.warnings.empty());
      CheckWellFormed(graph);
    }
  }
}

TEST_CASE("the corpus table lists every corpus file", "[corpus]") {
  std::set<std::string> on_disk;
  for (const auto& entry : std::filesystem::directory_iterator(kCorpusDir))
    if (entry.path().extension() == ".Dockerfile") on_disk.insert(entry.path().filename());
  std::set<std::string> listed;
  for (const CorpusCase& c : CorpusCases()) listed.insert(c.file);
  CHECK(on_disk == listed);
  CHECK(on_disk.size() >= 24);
}

TEST_CASE("corpus: parser directives", "[corpus]") {
  CHECK(ParseCorpus("windows-escape.Dockerfile").directives.escape == '`');
  CHECK(ParseCorpus("cpp-cmake-ninja.Dockerfile").directives.escape == '\\');
  CHECK(ParseCorpus("go-cache-mounts.Dockerfile").directives.syntax == "docker/dockerfile:1.7");
  CHECK(ParseCorpus("copy-flags.Dockerfile").directives.syntax == "docker/dockerfile:1.7-labs");
  const SyntaxTree continued = ParseCorpus("continuations-comments.Dockerfile");
  CHECK(continued.directives.syntax == "docker/dockerfile:1");
  CHECK(continued.directives.check == "skip=JSONArgsRecommended");
  CHECK_FALSE(ParseCorpus("alpine-apk.Dockerfile").directives.syntax);
}

TEST_CASE("corpus: a file that requires a build arg fails without it", "[corpus]") {
  try {
    LowerCorpus("build-args.Dockerfile");
    FAIL("lowered without APP_VERSION");
  } catch (const DockerfileError& e) {
    CHECK(e.location().line == 32);
    CHECK_THAT(e.message(), Catch::Contains("pass --build-arg APP_VERSION=x.y.z"));
  }
}

TEST_CASE("corpus go-cache-mounts: stages, mounts, --from edges and build args", "[corpus]") {
  const StepGraph graph = LowerCorpus("go-cache-mounts.Dockerfile");
  // unit-test is not needed by the last stage.
  CHECK(StageNames(graph) == std::vector<std::string>{"build", "certs", ""});
  const int build = StageIndex(graph, "build");
  const int certs = StageIndex(graph, "certs");
  CHECK(DependsOn(graph, 2) == std::set<int>{build, certs});

  const Step& from = graph.steps.at(graph.stages[build].steps.front());
  CHECK(from.text == "FROM --platform=linux/amd64 golang:1.22 AS build");
  CHECK(from.base_image == "golang:1.22");
  CHECK(from.build_args == std::map<std::string, std::string>{{"BUILDPLATFORM", "linux/amd64"},
                                                              {"GO_VERSION", "1.22"}});

  // go mod download: before the stage declares any ARG.
  const std::vector<Step> runs = StepsOf(graph, build, "RUN");
  REQUIRE(runs.size() == 2);
  CHECK(runs[0].build_args.empty());
  REQUIRE(runs[0].mounts.size() == 3);
  CHECK(runs[0].mounts[0].type == "cache");
  CHECK(runs[0].mounts[0].target == "/go/pkg/mod");
  CHECK(runs[0].mounts[1].type == "bind");
  CHECK(runs[0].mounts[1].target == "/src/go.sum");  // relative to WORKDIR /src
  CHECK(runs[0].mounts[1].options.at("source") == "go.sum");
  CHECK(runs[0].command == std::vector<std::string>{"go mod download -x"});

  // go build: the args declared above it, with the automatic platform values.
  const Step& go_build = runs[1];
  CHECK(go_build.build_args == std::map<std::string, std::string>{{"TARGETARCH", "amd64"},
                                                                  {"TARGETOS", "linux"},
                                                                  {"VERSION", "dev"}});
  REQUIRE(go_build.mounts.size() == 3);
  CHECK(go_build.mounts[1].type == "cache");
  CHECK(go_build.mounts[1].target == "/root/.cache/go-build");
  CHECK(go_build.mounts[2].target == "/src");
  REQUIRE(go_build.command.size() == 1);
  CHECK_THAT(go_build.command[0], Catch::StartsWith("CGO_ENABLED=0 GOOS=$TARGETOS"));

  const std::vector<Step> copies = StepsOf(graph, 2, "COPY");
  REQUIRE(copies.size() == 3);
  CHECK(copies[0].from_stage == certs);
  CHECK(copies[0].sources == std::vector<std::string>{"/etc/ssl/certs/ca-certificates.crt"});
  CHECK(copies[0].destination == "/etc/ssl/certs/");
  CHECK(copies[2].from_stage == build);
  CHECK(copies[2].text == "COPY --from=build /out/api /api");
  CHECK(StepsOf(graph, 2, "USER").at(0).value == "65532:65532");
}

TEST_CASE("corpus go-cache-mounts: --target, build args and platform", "[corpus]") {
  LowerOptions options;
  options.target = "unit-test";
  options.build_args = {{"VERSION", "1.4.0"}};
  options.platform = "linux/arm64";
  const StepGraph graph = LowerCorpus("go-cache-mounts.Dockerfile", options);
  CHECK(StageNames(graph) == std::vector<std::string>{"build", "unit-test"});
  CHECK(graph.steps.size() == 6);
  CHECK(graph.steps.at(graph.stages[1].steps.front()).base_stage == 0);
  const Step go_build = StepsOf(graph, 0, "RUN").at(1);
  CHECK(go_build.build_args.at("VERSION") == "1.4.0");
  CHECK(go_build.build_args.at("TARGETARCH") == "arm64");
  // ARGs are per stage: the test stage declares none, so its RUN uses none.
  CHECK(StepsOf(graph, 1, "RUN").at(0).build_args.empty());
}

TEST_CASE("corpus monorepo-targets: --target keeps only the stages it needs", "[corpus]") {
  const std::map<std::string, std::vector<std::string>> cases = {
      {"", {"base", "build-api", "release"}},
      {"dev", {"base", "dev"}},
      {"lint", {"base", "lint"}},
      {"test", {"base", "test"}},
      {"docs", {"docs"}},
      {"build-web", {"base", "build-web"}},
      {"web", {"base", "build-web", "docs", "web"}},
      {"release", {"base", "build-api", "release"}},
      {"RELEASE", {"base", "build-api", "release"}},
  };
  for (const auto& [target, stages] : cases) {
    DYNAMIC_SECTION("target " << target) {
      LowerOptions options;
      options.target = target;
      const StepGraph graph = LowerCorpus("monorepo-targets.Dockerfile", options);
      CHECK(StageNames(graph) == stages);
      CheckWellFormed(graph);
    }
  }
  LowerOptions unknown;
  unknown.target = "deploy";
  CHECK_THROWS_AS(LowerCorpus("monorepo-targets.Dockerfile", unknown), DockerfileError);
}

TEST_CASE("corpus monorepo-targets: --from edges and a build arg after pruning", "[corpus]") {
  LowerOptions options;
  options.target = "web";
  options.build_args = {{"PUBLIC_URL", "/app/"}};
  const StepGraph graph = LowerCorpus("monorepo-targets.Dockerfile", options);
  const int web = StageIndex(graph, "web");
  const int build_web = StageIndex(graph, "build-web");
  const int docs = StageIndex(graph, "docs");
  CHECK(DependsOn(graph, web) == std::set<int>{build_web, docs});
  CHECK(DependsOn(graph, build_web) == std::set<int>{StageIndex(graph, "base")});
  CHECK(graph.stages[docs].depends_on.empty());

  const std::vector<Step> copies = StepsOf(graph, web, "COPY");
  REQUIRE(copies.size() == 2);
  CHECK(copies[0].from_stage == build_web);
  CHECK(copies[1].from_stage == docs);
  CHECK(copies[1].text == "COPY --from=docs /site /usr/share/nginx/html/docs");

  const Step& build = StepAtLine(graph, 32);
  CHECK(build.instruction == "RUN");
  CHECK(build.build_args == std::map<std::string, std::string>{{"PUBLIC_URL", "/app/"}});
  CHECK(build.run_env == std::vector<std::pair<std::string, std::string>>{{"PUBLIC_URL", "/app/"}});
  CHECK(build.text == "RUN PUBLIC_URL=${PUBLIC_URL} npm run build --workspace=packages/web");
  CHECK(StepAtLine(graph, 5).text == "FROM node:20-slim AS base");
  CHECK(StepAtLine(graph, 5).build_args.at("NODE_VERSION") == "20");
}

TEST_CASE("corpus copy-flags: every COPY and ADD flag", "[corpus]") {
  const StepGraph graph = LowerCorpus("copy-flags.Dockerfile");
  CHECK(StageNames(graph) == std::vector<std::string>{"tools", "assets", ""});
  const std::vector<Step> copies = StepsOf(graph, 2, "COPY");
  REQUIRE(copies.size() == 8);
  CHECK(copies[0].from_stage == StageIndex(graph, "tools"));  // --from=0
  CHECK(copies[1].from_stage == StageIndex(graph, "assets"));
  CHECK(copies[1].chown == "www-data:www-data");
  CHECK(copies[2].from_stage == -1);
  CHECK(copies[2].from_image == "busybox:1.36");
  CHECK(copies[3].chown == "1000:1000");
  CHECK(copies[3].chmod == "640");
  CHECK(copies[3].sources == std::vector<std::string>{"config/*.yaml"});
  CHECK(copies[4].link);
  CHECK(copies[4].chmod == "755");
  CHECK(copies[5].excludes == std::vector<std::string>{"*.md", "**/testdata"});
  CHECK(copies[6].parents);
  CHECK(copies[6].sources == std::vector<std::string>{"./services/*/config.json"});
  CHECK(copies[7].sources == std::vector<std::string>{"file with spaces.txt"});
  CHECK(copies[7].destination == "/opt/data/");

  const std::vector<Step> adds = StepsOf(graph, 2, "ADD");
  REQUIRE(adds.size() == 4);
  CHECK(adds[0].kind == StepKind::kAdd);
  CHECK(adds[0].checksum ==
        "sha256:1d1e2bb37bc0f38d2f9bbee2d5fbe5bd1c0cd2b5dd74e5b5bcc2e6e4d0cce8b4");
  CHECK(adds[0].sources ==
        std::vector<std::string>{
            "https://downloads.example.com/releases/v1.4.2/agent-linux-amd64.tar.gz"});
  CHECK(adds[0].destination == "/tmp/agent.tar.gz");
  CHECK(adds[1].sources == std::vector<std::string>{"vendor/third_party.tar.xz"});
  CHECK(adds[2].chown == "root:root");
  CHECK(adds[2].chmod == "0644");
  CHECK(adds[3].keep_git_dir);
  CHECK(DependsOn(graph, 2) == std::set<int>{0, 1});
}

TEST_CASE("corpus heredocs: scripts, expanded and literal files", "[corpus]") {
  const SyntaxTree tree = ParseCorpus("heredocs.Dockerfile");
  std::vector<Heredoc> heredocs;
  for (const Node& node : tree.instructions)
    heredocs.insert(heredocs.end(), node.heredocs.begin(), node.heredocs.end());
  REQUIRE(heredocs.size() == 7);
  CHECK(heredocs[0].expand);
  CHECK_FALSE(heredocs[2].expand);  // <<'EOF'
  CHECK(heredocs[3].name == "SCRIPT");
  CHECK(heredocs[3].chomp);
  CHECK_FALSE(heredocs[3].expand);  // <<-"SCRIPT"
  CHECK(heredocs[3].content ==
        "set -euo pipefail\nchmod +x /usr/local/bin/entrypoint.sh\nfor d in logs tmp cache; do\n"
        "install -d -m 0750 \"/srv/app/$d\"\ndone\n");

  const StepGraph graph = LowerCorpus("heredocs.Dockerfile");
  const std::vector<Step> runs = StepsOf(graph, 0, "RUN");
  REQUIRE(runs.size() == 3);
  REQUIRE(runs[0].inline_files.size() == 1);
  // The shell expands a RUN script at run time, with APP_HOME in its environment.
  CHECK_THAT(runs[0].inline_files[0].content, Catch::EndsWith("mkdir -p ${APP_HOME}\n"));
  CHECK(runs[0].build_args.at("APP_HOME") == "/srv/app");

  const std::vector<Step> copies = StepsOf(graph, 0, "COPY");
  REQUIRE(copies.size() == 3);
  REQUIRE(copies[0].inline_files.size() == 1);
  CHECK(copies[0].inline_files[0].content == "greeting = hello\nhome = /srv/app\n");
  CHECK(copies[0].destination == "/etc/app/app.conf");
  REQUIRE(copies[1].inline_files.size() == 1);
  CHECK(copies[1].inline_files[0].content ==
        "#!/bin/sh\nset -e\necho \"starting with $GREETING in $APP_HOME\"\nexec \"$@\"\n");
  REQUIRE(copies[2].inline_files.size() == 2);
  CHECK(copies[2].inline_files[0].name == "robots.txt");
  CHECK(copies[2].inline_files[1].content == "Team: platform\n");
  CHECK(StepsOf(graph, 0, "WORKDIR").at(0).value == "/srv/app");
}

TEST_CASE("corpus build-args: meta args, re-declared args and derived defaults", "[corpus]") {
  LowerOptions options;
  options.build_args = {{"APP_VERSION", "2.0.1"}, {"BUILD_DATE", "2024-05-01"}};
  const StepGraph graph = LowerCorpus("build-args.Dockerfile", options);
  CHECK(StageNames(graph) == std::vector<std::string>{"base", "fetch", "final"});

  const Step& from = StepAtLine(graph, 9);
  CHECK(from.text == "FROM alpine:3.20 AS base");
  CHECK(from.build_args ==
        std::map<std::string, std::string>{{"BASE_DISTRO", "alpine"}, {"BASE_VERSION", "3.20"}});

  const Step& fetch = StepAtLine(graph, 22);
  CHECK(fetch.build_args == std::map<std::string, std::string>{
                                {"TARGETARCH", "amd64"},
                                {"TOOL_ARCH", "amd64"},
                                {"TOOL_URL_BASE", "https://downloads.example.com/tool/v2.4.1"},
                                {"TOOL_VERSION", "2.4.1"}});
  CHECK(StepAtLine(graph, 21).text == "ENV TOOL_HOME=/opt/tool-2.4.1");

  const Step& label = StepAtLine(graph, 32);
  CHECK(label.labels == std::vector<std::pair<std::string, std::string>>{
                            {"org.opencontainers.image.version", "2.0.1"},
                            {"org.opencontainers.image.created", "2024-05-01"},
                            {"org.opencontainers.image.revision", "HEAD"}});
  CHECK(StepAtLine(graph, 37).text == "COPY --from=fetch /opt/tool-2.4.1 /opt/tool");
  CHECK(StepAtLine(graph, 39).text == "ENV LOG_LEVEL=info");
  // ENV shadows the args of the same name, so the RUN's key holds only the other args.
  CHECK(StepAtLine(graph, 40).build_args ==
        std::map<std::string, std::string>{{"BUILD_DATE", "2024-05-01"}, {"VCS_REF", "HEAD"}});
}

TEST_CASE("corpus windows-escape: backtick escapes and backslash paths", "[corpus]") {
  const StepGraph graph = LowerCorpus("windows-escape.Dockerfile");
  const Step env = StepsOf(graph, 0, "ENV").at(0);
  CHECK(env.env == std::vector<std::pair<std::string, std::string>>{{"APP_HOME", "C:\\app"},
                                                                    {"LOG_DIR", "C:\\app\\logs"}});
  const Step run = StepsOf(graph, 0, "RUN").at(0);
  CHECK(run.command ==
        std::vector<std::string>{
            "Expand-Archive -Path C:\\temp\\agent.zip -DestinationPath $env:APP_HOME "
            ";     Remove-Item C:\\temp\\agent.zip -Force ;     New-Item -ItemType "
            "Directory -Path $env:LOG_DIR | Out-Null"});
  CHECK(StepsOf(graph, 0, "SHELL").at(0).args.at(0) == "powershell");
  const std::vector<Step> copies = StepsOf(graph, 0, "COPY");
  REQUIRE(copies.size() == 2);
  CHECK(copies[0].sources == std::vector<std::string>{"config\\agent.yaml"});
  CHECK(copies[1].sources == std::vector<std::string>{"scripts\\start agent.ps1"});
  CHECK(StepsOf(graph, 0, "ADD").at(0).checksum ==
        "sha256:24454f830cdb571e2c4ad15481119c43b3cafd48dd869a9b2945d1036d1dc68d");
}

TEST_CASE("corpus healthcheck-flags and expose-volume: config values", "[corpus]") {
  LowerOptions db;
  db.target = "db";
  const StepGraph graph = LowerCorpus("healthcheck-flags.Dockerfile", db);
  REQUIRE(graph.stages.size() == 1);
  const Step check = StepsOf(graph, 0, "HEALTHCHECK").at(0);
  REQUIRE(check.healthcheck);
  CHECK(check.healthcheck->test ==
        std::vector<std::string>{"CMD", "pg_isready", "-U", "app", "-d", "app"});
  CHECK(check.healthcheck->interval_ns == 10'000'000'000);
  CHECK(check.healthcheck->timeout_ns == 5'000'000'000);
  CHECK(check.healthcheck->start_period_ns == 30'000'000'000);
  CHECK(check.healthcheck->start_interval_ns == 2'000'000'000);
  CHECK(check.healthcheck->retries == 5);

  LowerOptions cache;
  cache.target = "cache";
  const Step redis =
      StepsOf(LowerCorpus("healthcheck-flags.Dockerfile", cache), 0, "HEALTHCHECK").at(0);
  CHECK(redis.healthcheck->interval_ns == 90'000'000'000);
  CHECK(redis.healthcheck->test ==
        std::vector<std::string>{"CMD-SHELL", "redis-cli ping | grep -q PONG"});
  const StepGraph nocheck = LowerCorpus("healthcheck-flags.Dockerfile");
  CHECK(StepsOf(nocheck, 1, "HEALTHCHECK").at(0).healthcheck->test ==
        std::vector<std::string>{"NONE"});

  const StepGraph media = LowerCorpus("expose-volume.Dockerfile");
  const std::vector<Step> exposes = StepsOf(media, 0, "EXPOSE");
  REQUIRE(exposes.size() == 4);
  CHECK(exposes[1].args.size() == 11);  // 8000-8010
  CHECK(exposes[1].args.front() == "8000/tcp");
  CHECK(exposes[1].args.back() == "8010/tcp");
  CHECK(exposes[2].args.size() == 102);  // 5353/udp and 10000-10100/udp
  CHECK(exposes[3].args == std::vector<std::string>{"9090/tcp"});
  CHECK(exposes[3].build_args.at("METRICS_PORT") == "9090");
  const std::vector<Step> volumes = StepsOf(media, 0, "VOLUME");
  REQUIRE(volumes.size() == 3);
  CHECK(volumes[0].args == std::vector<std::string>{"/var/lib/media", "/var/log/media"});
  CHECK(volumes[1].args == std::vector<std::string>{"/cache", "/tmp/transcode"});
}

TEST_CASE("corpus labels-env: legacy ENV and quoted LABEL values", "[corpus]") {
  const StepGraph graph = LowerCorpus("labels-env.Dockerfile");
  CHECK(StepsOf(graph, 0, "MAINTAINER").at(0).value == "Jane Doe <jane@example.com>");
  const std::vector<Step> envs = StepsOf(graph, 0, "ENV");
  REQUIRE(envs.size() == 4);
  CHECK(envs[0].env ==
        std::vector<std::pair<std::string, std::string>>{{"JAVA_HOME", "/usr/lib/jvm/java-11"}});
  CHECK(envs[2].env ==
        std::vector<std::pair<std::string, std::string>>{{"GREETING", "Hello from the old form"}});
  CHECK(envs[3].env ==
        std::vector<std::pair<std::string, std::string>>{{"APP_NAME", "My App"},
                                                         {"APP_DIR", "/opt/my app"},
                                                         {"EMPTY", ""},
                                                         {"SINGLE", "no $expansion here"}});
  const std::vector<Step> labels = StepsOf(graph, 0, "LABEL");
  REQUIRE(labels.size() == 6);
  CHECK(labels[0].labels == std::vector<std::pair<std::string, std::string>>{
                                {"com.example.vendor", "ACME Incorporated"}});
  CHECK(labels[3].labels.at(0).second ==
        "This text illustrates that label-values can span multiple lines.");
  CHECK(labels[5].labels == std::vector<std::pair<std::string, std::string>>{
                                {"org.opencontainers.image.authors", "Jane Doe <jane@example.com>"},
                                {"org.opencontainers.image.url", "https://example.com/my-app"},
                                {"quoted", "she said \"hi\""},
                                {"app.name", "My App"}});
}

TEST_CASE("corpus ci-bind-from-stage: RUN --mount from= makes stage edges", "[corpus]") {
  const StepGraph graph = LowerCorpus("ci-bind-from-stage.Dockerfile");
  CHECK(StageNames(graph) == std::vector<std::string>{"build", "test", "report", "export"});
  const int build = StageIndex(graph, "build");
  const int test = StageIndex(graph, "test");
  const int report = StageIndex(graph, "report");
  CHECK(DependsOn(graph, test) == std::set<int>{build});
  CHECK(DependsOn(graph, report) == std::set<int>{build, test});
  CHECK(DependsOn(graph, StageIndex(graph, "export")) == std::set<int>{report});

  const Step run = StepsOf(graph, report, "RUN").at(1);
  REQUIRE(run.mounts.size() == 2);
  CHECK(run.mounts[0].type == "bind");
  CHECK(run.mounts[0].from_stage == test);
  CHECK(run.mounts[0].options.at("source") == "/junit.xml");
  CHECK(run.mounts[0].target == "/in/junit.xml");
  CHECK(run.mounts[1].from_stage == build);
  CHECK(run.mounts[1].options.at("readonly") == "true");
  const Step cache = StepsOf(graph, build, "RUN").at(0);
  REQUIRE(cache.mounts.size() == 1);
  CHECK(cache.mounts[0].type == "cache");
  CHECK(cache.mounts[0].from_stage == -1);
}

TEST_CASE("corpus cpp-cmake-ninja: --target test drops the runtime stage", "[corpus]") {
  LowerOptions options;
  options.target = "test";
  options.build_args = {{"DEBIAN_RELEASE", "trixie"}};
  const StepGraph graph = LowerCorpus("cpp-cmake-ninja.Dockerfile", options);
  CHECK(StageNames(graph) == std::vector<std::string>{"toolchain", "build", "test"});
  CHECK(graph.steps.front().text == "FROM debian:trixie AS toolchain");
  const Step cmake = StepsOf(graph, StageIndex(graph, "build"), "RUN").at(0);
  CHECK(cmake.build_args ==
        std::map<std::string, std::string>{{"BUILD_TYPE", "Release"}, {"JOBS", "4"}});
  REQUIRE(cmake.command.size() == 1);
  CHECK_THAT(cmake.command[0], Catch::Contains("-DCMAKE_BUILD_TYPE=${BUILD_TYPE}"));

  const StepGraph runtime = LowerCorpus("cpp-cmake-ninja.Dockerfile");
  CHECK(StageNames(runtime) == std::vector<std::string>{"toolchain", "build", "runtime"});
  CHECK(StepsOf(runtime, 2, "FROM").at(0).text == "FROM debian:bookworm-slim AS runtime");
  const Step copy = StepsOf(runtime, 2, "COPY").at(0);
  CHECK(copy.from_stage == StageIndex(runtime, "build"));
  CHECK(copy.chown == "root:root");
  CHECK(StepsOf(runtime, 2, "CMD").at(0).args == std::vector<std::string>{"--port", "8080"});
}

/// Lowers an example folder of the repository the way `kiln graph DIR` does.
StepGraph LoadExample(const std::string& name, LowerOptions options = {}) {
  const std::string dir = std::string(KILN_TEST_DATA_DIR) + "/../examples/" + name;
  options.dockerfile = dir + "/Dockerfile";
  options.context = dir;
  return LoadStepGraph(DiskFileSystem(), options);
}

TEST_CASE("examples: busybox-base and multistage lower as documented", "[corpus]") {
  const StepGraph base = LoadExample("busybox-base");
  REQUIRE(base.steps.size() == 4);
  CHECK(base.steps[0].base_image == "scratch");
  CHECK(base.steps[1].sources == std::vector<std::string>{"busybox"});
  CHECK(base.steps[2].command ==
        std::vector<std::string>{"/bin/busybox", "--install", "-s", "/bin"});
  CHECK_FALSE(base.steps[2].shell_form);

  const StepGraph full = LoadExample("multistage");
  CHECK(StageNames(full) == std::vector<std::string>{"build", "final"});
  CHECK(full.ignore_patterns == std::vector<std::string>{"README.md"});
  CHECK(full.steps[0].base_image == "kiln-busybox:latest");
  CHECK(full.steps[0].build_args.at("BASE") == "kiln-busybox:latest");
  const std::vector<Step> copies = StepsOf(full, 1, "COPY");
  REQUIRE(copies.size() == 2);
  CHECK(copies[0].from_stage == 0);
  CHECK(copies[0].destination == "/bin/sh");

  LowerOptions options;
  options.target = "build";
  options.build_args = {{"BASE", "other-base:2"}, {"VERSION", "2.0.0"}};
  const StepGraph build = LoadExample("multistage", options);
  CHECK(StageNames(build) == std::vector<std::string>{"build"});
  CHECK(build.steps[0].base_image == "other-base:2");
  CHECK(StepsOf(build, 0, "RUN").at(0).build_args.at("VERSION") == "2.0.0");
}

/// Resolves one image name to a config; every other name is unknown.
class OneImageResolver : public ImageResolver {
 public:
  OneImageResolver(std::string reference, BaseImageInfo info)
      : reference_(std::move(reference)), info_(std::move(info)) {}
  std::optional<BaseImageInfo> Resolve(const std::string& reference) const override {
    if (reference != reference_) return std::nullopt;
    return info_;
  }

 private:
  std::string reference_;
  BaseImageInfo info_;
};

TEST_CASE("corpus onbuild-base: its triggers run in an image built on it", "[corpus]") {
  const StepGraph base = LowerCorpus("onbuild-base.Dockerfile");
  BaseImageInfo info;
  for (const Step& step : StepsOf(base, 0, "ONBUILD")) info.onbuild.push_back(step.value);
  REQUIRE(info.onbuild.size() == 6);
  CHECK(info.onbuild[0] == "ARG PIP_EXTRA_ARGS=\"\"");
  info.workdir = "/app";
  const OneImageResolver resolver("acme/python-onbuild:1", info);

  LowerOptions options;
  options.resolver = &resolver;
  options.build_args = {{"PIP_EXTRA_ARGS", "--pre"}};
  const StepGraph child = LowerDockerfile(
      ParseDockerfile("FROM acme/python-onbuild:1\nCMD [\"gunicorn\", \"app:application\"]\n"),
      options);
  std::vector<std::string> texts;
  for (const Step& step : child.steps) texts.push_back(step.text);
  CHECK(texts == std::vector<std::string>{
                     "FROM acme/python-onbuild:1",
                     "COPY requirements.txt /app/",
                     "RUN pip install --no-cache-dir ${PIP_EXTRA_ARGS} -r requirements.txt",
                     "COPY . /app",
                     "LABEL built.from=onbuild-base",
                     "RUN python -m compileall -q /app",
                     "CMD [\"gunicorn\",\"app:application\"]",
                 });
  CHECK(child.steps.at(2).build_args.at("PIP_EXTRA_ARGS") == "--pre");
  CHECK(child.steps.at(1).destination == "/app/");
}

}  // namespace
}  // namespace kiln
