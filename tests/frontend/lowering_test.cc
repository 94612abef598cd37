#include "frontend/lowering.h"

#include <catch2/catch.hpp>
#include <set>

#include "frontend/dockerfile_error.h"
#include "frontend/parser.h"

namespace kiln {
namespace {

StepGraph Lower(const std::string& text, LowerOptions options = {}) {
  return LowerDockerfile(ParseDockerfile(text), options);
}

/// The DockerfileError lowering `text` throws; fails the test when there is none.
DockerfileError LowerError(const std::string& text, LowerOptions options = {}) {
  try {
    Lower(text, options);
  } catch (const DockerfileError& e) {
    return e;
  }
  FAIL("no error lowering:\n" << text);
  throw std::logic_error("unreachable");
}

/// The steps of the stage `stage` whose instruction is `instruction`.
std::vector<Step> StepsOf(const StepGraph& graph, const std::string& instruction, int stage = -1) {
  std::vector<Step> out;
  for (const Step& step : graph.steps)
    if (step.instruction == instruction && (stage < 0 || step.stage == stage)) out.push_back(step);
  return out;
}

/// The value ENV R got in the last stage: how a variable resolved there.
std::string EnvR(const StepGraph& graph) {
  for (auto it = graph.steps.rbegin(); it != graph.steps.rend(); ++it)
    for (const auto& [key, value] : it->env)
      if (key == "R") return value;
  FAIL("no ENV R");
  return "";
}

class TestResolver : public ImageResolver {
 public:
  std::map<std::string, BaseImageInfo> images;
  std::optional<BaseImageInfo> Resolve(const std::string& reference) const override {
    const auto it = images.find(reference);
    if (it == images.end()) return std::nullopt;
    return it->second;
  }
};

TEST_CASE("ARG scoping follows Docker's rules", "[lowering]") {
  struct Case {
    const char* name;
    std::string dockerfile;
    std::map<std::string, std::string> build_args;
    std::string expected;  // the value ENV R=${A-unset} (or as written) gets
    std::string platform = "linux/amd64";
  };
  const Case cases[] = {
      {"meta arg is not visible inside a stage",
       "ARG A=m\nFROM scratch\nENV R=${A-unset}\n",
       {},
       "unset"},
      {"ARG without default takes the meta arg's value",
       "ARG A=m\nFROM scratch\nARG A\nENV R=${A-unset}\n",
       {},
       "m"},
      {"--build-arg overrides the meta default",
       "ARG A=m\nFROM scratch\nARG A\nENV R=${A-unset}\n",
       {{"A", "b"}},
       "b"},
      {"a stage default wins over the meta arg",
       "ARG A=m\nFROM scratch\nARG A=s\nENV R=${A-unset}\n",
       {},
       "s"},
      {"--build-arg wins over a stage default",
       "ARG A=m\nFROM scratch\nARG A=s\nENV R=${A-unset}\n",
       {{"A", "b"}},
       "b"},
      {"declared without any value stays unset",
       "FROM scratch\nARG A\nENV R=${A-unset}\n",
       {},
       "unset"},
      {"declared without default takes the --build-arg",
       "FROM scratch\nARG A\nENV R=${A-unset}\n",
       {{"A", "b"}},
       "b"},
      {"--build-arg alone declares nothing",
       "FROM scratch\nENV R=${A-unset}\n",
       {{"A", "b"}},
       "unset"},
      {"ENV overrides an ARG of the same name",
       "FROM scratch\nARG A=1\nENV A=2\nENV R=$A\n",
       {{"A", "b"}},
       "2"},
      {"an ARG is visible only after its declaration",
       "FROM scratch\nENV R=${A-unset}\nARG A=1\n",
       {},
       "unset"},
      {"args do not cross into the next stage",
       "FROM scratch\nARG A=1\nFROM scratch\nENV R=${A-unset}\n",
       {},
       "unset"},
      {"platform args exist once declared in a stage",
       "FROM scratch\nARG TARGETARCH\nENV R=$TARGETARCH\n",
       {},
       "amd64"},
      {"platform args are not visible undeclared",
       "FROM scratch\nENV R=${TARGETOS-unset}\n",
       {},
       "unset"},
      {"platform variant from the options",
       "FROM scratch\nARG TARGETVARIANT\nARG BUILDPLATFORM\nENV R=$TARGETVARIANT-$BUILDPLATFORM\n",
       {},
       "v8-linux/arm64/v8",
       "linux/arm64/v8"},
      {"stage defaults expand earlier args",
       "FROM scratch\nARG A=1\nARG B=$A-2\nENV R=$B\n",
       {},
       "1-2"},
      {"meta defaults expand earlier meta args",
       "ARG A=1\nARG B=${A}0\nFROM scratch\nARG B\nENV R=$B\n",
       {},
       "10"},
      {"--build-arg is taken as is, not expanded",
       "FROM scratch\nARG A\nENV R=$A\n",
       {{"A", "$HOME"}},
       "$HOME"},
      {"a stage used as base passes ENV but not ARG",
       "FROM scratch AS a\nARG A=1\nENV E=2\nFROM a\nENV R=${A-unset}$E\n",
       {},
       "unset2"},
  };
  for (const Case& c : cases) {
    INFO(c.name);
    LowerOptions options;
    options.build_args = c.build_args;
    options.platform = c.platform;
    CHECK(EnvR(Lower(c.dockerfile, options)) == c.expected);
  }
}

TEST_CASE("FROM expands meta args and the platform args", "[lowering]") {
  LowerOptions options;
  options.platform = "linux/arm64";
  const StepGraph graph = Lower("ARG TAG=3.19\nFROM alpine:${TAG}-$TARGETARCH AS base\n", options);
  REQUIRE(graph.steps.size() == 1);
  CHECK(graph.steps[0].base_image == "alpine:3.19-arm64");
  CHECK(graph.steps[0].platform == "linux/arm64");
  CHECK(graph.steps[0].build_args ==
        std::map<std::string, std::string>{{"TAG", "3.19"}, {"TARGETARCH", "arm64"}});
  CHECK(graph.steps[0].text == "FROM alpine:3.19-arm64 AS base");

  options.build_args = {{"TAG", "edge"}};
  CHECK(
      Lower("ARG TAG=3.19\nFROM --platform=$BUILDPLATFORM alpine:$TAG\n", options).steps[0].text ==
      "FROM --platform=linux/arm64 alpine:edge");
}

TEST_CASE("Unused --build-arg gives a warning, proxies and declared args do not", "[lowering]") {
  LowerOptions options;
  options.build_args = {{"USED", "1"},
                        {"META", "2"},
                        {"NOPE", "3"},
                        {"ALSO", "4"},
                        {"HTTP_PROXY", "http://proxy:3128"},
                        {"no_proxy", "x"}};
  const StepGraph graph = Lower("ARG META\nFROM scratch\nARG USED\n", options);
  REQUIRE(graph.warnings.size() == 1);
  CHECK(graph.warnings[0] == "[Warning] One or more build-args [ALSO NOPE] were not consumed");

  options.build_args = {{"USED", "1"}};
  CHECK(Lower("FROM scratch\nARG USED\n", options).warnings.empty());
}

TEST_CASE("RUN sees declared args and given proxies as environment", "[lowering]") {
  LowerOptions options;
  options.build_args = {{"HTTP_PROXY", "http://proxy:3128"}, {"V", "2"}};
  const StepGraph graph = Lower(
      "FROM scratch\nARG V\nARG UNSET\nARG E=x\nENV E=y\nRUN echo $V\nARG LATER=1\n", options);
  const Step run = StepsOf(graph, "RUN").at(0);
  CHECK(run.build_args == std::map<std::string, std::string>{{"V", "2"}});
  CHECK(run.run_env == std::vector<std::pair<std::string, std::string>>{
                           {"HTTP_PROXY", "http://proxy:3128"}, {"V", "2"}});
  CHECK(run.command == std::vector<std::string>{"echo $V"});
  CHECK(run.shell_form);
  CHECK(run.text == "RUN echo $V");

  // Declared, a proxy arg is an ordinary arg and counts for the cache.
  const StepGraph declared = Lower("FROM scratch\nARG HTTP_PROXY\nRUN true\n", options);
  CHECK(StepsOf(declared, "RUN")[0].build_args.count("HTTP_PROXY") == 1);
}

TEST_CASE("Expansion applies to exactly the instructions Docker expands", "[lowering]") {
  LowerOptions options;
  options.build_args = {{"V", "1"}};
  const StepGraph g = Lower(
      "FROM scratch\n"
      "ARG V\n"
      "ADD $V.tar /add/$V\n"
      "COPY --chown=$V --from=alpine:$V ${V}/ /copy/$V/\n"
      "ENV E=$V\n"
      "EXPOSE 80$V\n"
      "LABEL l=$V\n"
      "STOPSIGNAL $V\n"
      "USER u$V\n"
      "VOLUME /vol$V\n"
      "WORKDIR /w$V\n"
      "RUN echo $V\n"
      "CMD echo $V\n"
      "ENTRYPOINT [\"echo\", \"$V\"]\n"
      "HEALTHCHECK CMD echo $V\n"
      "SHELL [\"/bin/sh\", \"$V\"]\n"
      "ONBUILD RUN echo $V\n",
      options);
  auto only = [&](const char* instruction) { return StepsOf(g, instruction).at(0); };
  CHECK(only("ADD").sources == std::vector<std::string>{"1.tar"});
  CHECK(only("ADD").destination == "/add/1");
  CHECK(only("COPY").chown == "1");
  CHECK(only("COPY").from_image == "alpine:1");
  CHECK(only("COPY").sources == std::vector<std::string>{"1/"});
  CHECK(only("COPY").destination == "/copy/1/");
  CHECK(only("COPY").text == "COPY --from=alpine:1 --chown=1 1/ /copy/1/");
  CHECK(only("ENV").env == std::vector<std::pair<std::string, std::string>>{{"E", "1"}});
  CHECK(only("EXPOSE").args == std::vector<std::string>{"801/tcp"});
  CHECK(only("LABEL").labels == std::vector<std::pair<std::string, std::string>>{{"l", "1"}});
  CHECK(only("STOPSIGNAL").value == "1");
  CHECK(only("USER").value == "u1");
  CHECK(only("VOLUME").args == std::vector<std::string>{"/vol1"});
  CHECK(only("WORKDIR").value == "/w1");
  for (const char* expanded :
       {"ADD", "COPY", "ENV", "EXPOSE", "LABEL", "STOPSIGNAL", "USER", "VOLUME", "WORKDIR"}) {
    INFO(expanded);
    CHECK(only(expanded).build_args == std::map<std::string, std::string>{{"V", "1"}});
  }
  CHECK(only("RUN").command == std::vector<std::string>{"echo $V"});
  CHECK(only("CMD").args == std::vector<std::string>{"echo $V"});
  CHECK(only("ENTRYPOINT").args == std::vector<std::string>{"echo", "$V"});
  CHECK(only("HEALTHCHECK").healthcheck->test == std::vector<std::string>{"CMD-SHELL", "echo $V"});
  CHECK(only("SHELL").args == std::vector<std::string>{"/bin/sh", "$V"});
  CHECK(only("ONBUILD").value == "RUN echo $V");
  CHECK(only("CMD").build_args.empty());
}

TEST_CASE("Heredocs: COPY expands unless quoted, RUN keeps them as written", "[lowering]") {
  const StepGraph graph = Lower(
      "FROM scratch\nARG N=kiln\n"
      "COPY <<EOF /greeting\nhello $N\nEOF\n"
      "COPY <<'EOF' /raw\nhello $N\nEOF\n"
      "RUN <<EOF\necho $N\nEOF\n");
  const auto copies = StepsOf(graph, "COPY");
  REQUIRE(copies.size() == 2);
  CHECK(copies[0].inline_files.at(0).content == "hello kiln\n");
  CHECK(copies[0].sources == std::vector<std::string>{"<<EOF"});
  CHECK(copies[1].inline_files.at(0).content == "hello $N\n");
  CHECK(StepsOf(graph, "RUN")[0].inline_files.at(0).content == "echo $N\n");
}

TEST_CASE("WORKDIR resolves against the previous one and the base image", "[lowering]") {
  StepGraph graph =
      Lower("FROM scratch\nWORKDIR a\nWORKDIR b/../c\nWORKDIR /x/./y//\nWORKDIR ..\n");
  const auto dirs = StepsOf(graph, "WORKDIR");
  REQUIRE(dirs.size() == 4);
  CHECK(dirs[0].value == "/a");
  CHECK(dirs[1].value == "/a/c");
  CHECK(dirs[2].value == "/x/y");
  CHECK(dirs[3].value == "/x");
  CHECK(dirs[0].kind == StepKind::kWorkdir);

  TestResolver resolver;
  resolver.images["node:20"] = {"sha256:abc", {{"HOME", "/home/node"}}, "/usr/src/app", {}, {}};
  LowerOptions options;
  options.resolver = &resolver;
  graph = Lower(
      "FROM node:20\nWORKDIR sub\nWORKDIR $HOME/x\n"
      "RUN --mount=type=cache,target=cache true\n",
      options);
  CHECK(StepsOf(graph, "WORKDIR")[0].value == "/usr/src/app/sub");
  CHECK(StepsOf(graph, "WORKDIR")[1].value == "/home/node/x");
  CHECK(StepsOf(graph, "RUN")[0].mounts.at(0).target == "/home/node/x/cache");
}

TEST_CASE("Stages reference each other by name and index", "[lowering]") {
  const StepGraph graph = Lower(
      "FROM alpine AS base\nENV FROM_BASE=1\n"
      "FROM base AS build\nRUN make\n"
      "FROM scratch AS assets\nCOPY . /assets\n"
      "FROM alpine:3 AS final\n"
      "COPY --from=build /out /out\n"
      "COPY --from=2 /assets /assets\n"
      "COPY --from=busybox:1 /bin/sh /sh\n"
      "RUN --mount=type=bind,from=Build,target=/b --mount=type=cache,from=alpine,target=/c ls\n");
  REQUIRE(graph.stages.size() == 4);
  CHECK(graph.target_stage == 3);
  CHECK(graph.stages[1].depends_on == std::vector<int>{0});
  CHECK(graph.stages[3].depends_on == std::vector<int>{1, 2});
  const Step from_base = graph.steps[graph.stages[1].steps[0]];
  CHECK(from_base.base_stage == 0);
  CHECK(from_base.base_image.empty());
  const auto copies = StepsOf(graph, "COPY", 3);
  REQUIRE(copies.size() == 3);
  CHECK(copies[0].from_stage == 1);
  CHECK(copies[1].from_stage == 2);
  CHECK(copies[1].text == "COPY --from=2 /assets /assets");
  CHECK(copies[2].from_stage == -1);
  CHECK(copies[2].from_image == "busybox:1");
  const Step run = StepsOf(graph, "RUN", 3).at(0);
  CHECK(run.mounts[0].from_stage == 1);
  CHECK(run.mounts[0].from_image.empty());
  CHECK(run.mounts[1].from_stage == -1);
  CHECK(run.mounts[1].from_image == "alpine");
  // A FROM naming its own stage name means the image.
  const StepGraph self = Lower("FROM ubuntu AS ubuntu\n");
  CHECK(self.steps[0].base_image == "ubuntu");
  CHECK(self.steps[0].base_stage == -1);
}

TEST_CASE("Bad stage references are errors at their line", "[lowering]") {
  struct Case {
    std::string dockerfile;
    std::string message;
    int line;
  };
  const Case cases[] = {
      {"FROM scratch AS a\nCOPY --from=b x y\nFROM scratch AS b\n", "defined later", 2},
      {"FROM scratch AS a\nCOPY --from=a x y\n", "refers to its own stage", 2},
      {"FROM scratch\nCOPY --from=0 x y\n", "refers to its own stage", 2},
      {"FROM scratch\nFROM scratch\nCOPY --from=7 x y\n", "stage index 7", 3},
      {"FROM scratch AS a\nRUN --mount=from=b,target=/b true\nFROM scratch AS b\n", "defined later",
       2},
      {"FROM scratch AS a\nFROM scratch AS A\n", "duplicate stage name \"a\"", 2},
      {"RUN true\nFROM scratch\n", "no build stage in current context", 1},
      {"ARG A\n", "no build stage in current context", 1},
  };
  for (const Case& c : cases) {
    INFO(c.dockerfile);
    const DockerfileError e = LowerError(c.dockerfile);
    CHECK_THAT(e.message(), Catch::Matchers::Contains(c.message));
    CHECK(e.location().line == c.line);
  }
}

TEST_CASE("Flag --target keeps only the stages it needs, renumbered", "[lowering]") {
  const std::string dockerfile =
      "FROM alpine AS deps\nRUN apk add make\n"
      "FROM alpine AS unrelated\nRUN true\n"
      "FROM deps AS build\nCOPY . /src\nRUN make\n"
      "FROM scratch AS final\nCOPY --from=build /out /\n";
  LowerOptions options;
  options.target = "BUILD";
  StepGraph graph = Lower(dockerfile, options);
  REQUIRE(graph.stages.size() == 2);
  CHECK(graph.stages[0].name == "deps");
  CHECK(graph.stages[1].name == "build");
  CHECK(graph.target_stage == 1);
  CHECK(graph.stages[1].index == 1);
  CHECK(graph.stages[1].depends_on == std::vector<int>{0});
  REQUIRE(graph.steps.size() == 5);
  for (int i = 0; i < 5; ++i) CHECK(graph.steps[i].id == i);
  CHECK(graph.stages[1].steps == std::vector<int>{2, 3, 4});
  CHECK(graph.steps[2].base_stage == 0);
  CHECK(graph.steps[3].parent == 2);
  CHECK(graph.steps[3].stage == 1);

  // The default target is the last stage; "unrelated" is dropped and the rest renumbered.
  graph = Lower(dockerfile);
  REQUIRE(graph.stages.size() == 3);
  CHECK(graph.stages[2].name == "final");
  CHECK(graph.target_stage == 2);
  CHECK(StepsOf(graph, "COPY", 2).at(0).from_stage == 1);

  options.target = "nope";
  CHECK(LowerError(dockerfile, options).message() == "target stage \"nope\" could not be found");
}

TEST_CASE("ONBUILD triggers fire after FROM", "[lowering]") {
  TestResolver resolver;
  resolver.images["onbuild:1"] = {"", {{"APP", "/app"}}, "", {}, {"COPY . $APP", "RUN make"}};
  LowerOptions options;
  options.resolver = &resolver;
  StepGraph graph = Lower("FROM onbuild:1\nRUN test\n", options);
  REQUIRE(graph.steps.size() == 4);
  CHECK(graph.steps[1].instruction == "COPY");
  CHECK(graph.steps[1].destination == "/app");
  CHECK(graph.steps[1].line == 1);
  CHECK(graph.steps[2].command == std::vector<std::string>{"make"});
  CHECK(graph.steps[3].command == std::vector<std::string>{"test"});

  // A stage used as a base fires its ONBUILD triggers in the child, not in itself.
  graph = Lower("FROM scratch AS base\nONBUILD RUN echo child\nFROM base\n");
  REQUIRE(graph.steps.size() == 4);
  CHECK(graph.steps[1].instruction == "ONBUILD");
  CHECK(graph.steps[1].value == "RUN echo child");
  CHECK(graph.steps[3].instruction == "RUN");
  CHECK(graph.steps[3].stage == 1);

  resolver.images["bad:1"] = {"", {}, "", {}, {"COPY --nope a b"}};
  const DockerfileError e = LowerError("FROM scratch\nFROM bad:1\n", options);
  CHECK(e.location().line == 2);
  CHECK_THAT(e.message(), Catch::Matchers::Contains("unknown flag: --nope"));
}

TEST_CASE("Base image env is used for expansion", "[lowering]") {
  TestResolver resolver;
  resolver.images["golang:1.22"] = {"", {{"GOPATH", "/go"}}, "/go", {}, {}};
  LowerOptions options;
  options.resolver = &resolver;
  const StepGraph graph = Lower("FROM golang:1.22\nCOPY . $GOPATH/src\n", options);
  CHECK(graph.steps[1].destination == "/go/src");
  CHECK(graph.steps[1].build_args.empty());
}

TEST_CASE("the key text is stable, ignores lines, and follows used arg values", "[lowering]") {
  const std::string dockerfile =
      "FROM alpine\nARG V=1\nARG W=1\nCOPY $W /w\nRUN echo hi\nLABEL a=b\n";
  auto keys = [](const StepGraph& g) {
    std::vector<std::string> out;
    for (const Step& step : g.steps) out.push_back(StepKeyText(step));
    return out;
  };
  auto with = [&](std::map<std::string, std::string> args, const std::string& text) {
    LowerOptions options;
    options.build_args = std::move(args);
    return keys(Lower(text, options));
  };
  const auto base = with({}, dockerfile);
  CHECK(base == with({}, dockerfile));
  CHECK(base == with({}, "# comment\n\n" + dockerfile));
  CHECK(base == with({{"UNUSED", "x"}}, dockerfile));
  CHECK(base == with({{"HTTP_PROXY", "http://p"}}, dockerfile));

  const auto v2 = with({{"V", "2"}}, dockerfile);
  REQUIRE(base.size() == 4);  // FROM, COPY, RUN, LABEL: ARG makes no step
  REQUIRE(v2.size() == 4);
  CHECK(v2[1] == base[1]);  // COPY does not use V
  CHECK(v2[2] != base[2]);  // RUN sees every declared arg
  CHECK(v2[3] == base[3]);
  const auto w2 = with({{"W", "2"}}, dockerfile);
  REQUIRE(w2.size() == 4);
  CHECK(w2[1] != base[1]);
  CHECK_THAT(base[2], Catch::Matchers::Contains("echo hi"));
  CHECK_THAT(base[2], !Catch::Matchers::Contains("\"line\""));
}

TEST_CASE("the key text changes with every field that decides the result", "[lowering]") {
  // Each Dockerfile differs from the first in one thing; every key must differ.
  const std::vector<std::string> runs = {
      "RUN echo hi",
      "RUN echo ho",
      "RUN [\"echo hi\"]",
      "RUN --network=none echo hi",
      "RUN --mount=type=cache,target=/c echo hi",
      "RUN --mount=type=cache,target=/d echo hi",
      "RUN --mount=type=bind,from=base,target=/c echo hi",
      "RUN --mount=type=bind,from=img,target=/c echo hi",
      "RUN <<EOF\necho hi\nEOF",
      "COPY a /b",
      "COPY a b /c",
      "COPY --from=base a /b",
      "COPY --link a /b",
      "ADD a /b",
      "ENV a=b",
      "ENV a=b c=d",
      "ENV ab=",
      "LABEL a=b",
      "CMD echo hi",
      "CMD [\"echo\", \"hi\"]",
      "ENTRYPOINT echo hi",
      "HEALTHCHECK CMD true",
      "HEALTHCHECK --retries=2 CMD true",
      "USER a",
      "WORKDIR /a",
  };
  std::set<std::string> keys;
  for (const std::string& line : runs) {
    const StepGraph g = Lower("FROM alpine AS base\nFROM base\n" + line + "\n");
    INFO(line);
    const std::string key = StepKeyText(g.steps.back());
    CHECK(keys.insert(key).second);
    CHECK_THAT(key, !Catch::Matchers::Contains("\"line\""));
  }
  // Stage numbers do not count, only that a stage is used.
  const StepGraph a = Lower("FROM alpine AS x\nFROM scratch\nCOPY --from=x a /b\n");
  const StepGraph b =
      Lower("FROM alpine AS y\nFROM alpine AS x\nFROM scratch\nCOPY --from=x a /b\n");
  CHECK(StepKeyText(a.steps.back()) == StepKeyText(b.steps.back()));
  // Moving text between fields changes the key.
  CHECK(StepKeyText(Lower("FROM scratch\nENV a=bc\n").steps[1]) !=
        StepKeyText(Lower("FROM scratch\nENV ab=c\n").steps[1]));
}

TEST_CASE("A secret mount with env= and no target keeps an empty target", "[lowering]") {
  const StepGraph g = Lower(
      "FROM scratch\nWORKDIR /app\nRUN --mount=type=secret,id=tok,env=TOKEN true\n"
      "RUN --mount=type=cache,target=cache true\n");
  const std::vector<Step> runs = StepsOf(g, "RUN");
  REQUIRE(runs.size() == 2);
  REQUIRE(runs[0].mounts.size() == 1);
  CHECK(runs[0].mounts[0].target.empty());
  CHECK(runs[0].mounts[0].options.at("env") == "TOKEN");
  CHECK(runs[1].mounts[0].target == "/app/cache");  // relative targets still follow WORKDIR
}

TEST_CASE("A base without PATH gets the default PATH", "[lowering]") {
  const std::string kDefault = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  CHECK(EnvR(Lower("FROM scratch\nENV R=/opt/bin:$PATH\n")) == "/opt/bin:" + kDefault);
  CHECK(EnvR(Lower("FROM unknown:1\nENV R=$PATH\n")) == kDefault);
  TestResolver resolver;
  resolver.images["withpath"] = {"", {{"PATH", "/img/bin"}}, "", {}, {}};
  resolver.images["nopath"] = {"", {{"HOME", "/root"}}, "", {}, {}};
  LowerOptions options;
  options.resolver = &resolver;
  CHECK(EnvR(Lower("FROM withpath\nENV R=$PATH\n", options)) == "/img/bin");
  CHECK(EnvR(Lower("FROM nopath\nENV R=$PATH\n", options)) == kDefault);
  // A stage based on another inherits what that one had.
  CHECK(EnvR(Lower("FROM scratch AS a\nENV PATH=/x\nFROM a\nENV R=$PATH\n")) == "/x");
}

TEST_CASE("ENV records the build args it read even when it sets the same name", "[lowering]") {
  LowerOptions options;
  options.build_args = {{"APP_VERSION", "2.0"}};
  const StepGraph g = Lower(
      "FROM scratch\nARG APP_VERSION=1.0\nENV APP_VERSION=${APP_VERSION}\n"
      "LABEL v=$APP_VERSION\n",
      options);
  const std::vector<Step> envs = StepsOf(g, "ENV");
  REQUIRE(envs.size() == 1);
  CHECK(envs[0].env == std::vector<std::pair<std::string, std::string>>{{"APP_VERSION", "2.0"}});
  CHECK(envs[0].build_args == std::map<std::string, std::string>{{"APP_VERSION", "2.0"}});
  // After the ENV the name is the ENV's: LABEL uses no build arg.
  const std::vector<Step> labels = StepsOf(g, "LABEL");
  REQUIRE(labels.size() == 1);
  CHECK(labels[0].labels[0].second == "2.0");
  CHECK(labels[0].build_args.empty());
}

TEST_CASE("ARG and ENV of one name: ENV wins whichever comes first", "[lowering]") {
  CHECK(EnvR(Lower("FROM scratch\nENV A=e\nARG A=a\nENV R=$A\n")) == "e");
  CHECK(EnvR(Lower("FROM scratch\nARG A=a\nENV A=e\nENV R=$A\n")) == "e");
  CHECK(EnvR(Lower("FROM scratch\nARG A=a\nARG A\nENV R=${A-unset}\n")) == "unset");
  CHECK(EnvR(Lower("FROM scratch\nARG A=a\nFROM scratch\nENV R=${A-unset}\n")) == "unset");
}

TEST_CASE("Step texts read like the Dockerfile after expansion", "[lowering]") {
  const StepGraph graph = Lower(
      "FROM scratch\nARG U=1\n"
      "COPY --chown=$U:$U --chmod=644 --link src/ /opt/src/\n"
      "ENV A=b C=\"d e\"\n"
      "RUN --mount=type=cache,target=/c make -C /src\n"
      "CMD [\"a\", \"b\"]\n"
      "EXPOSE 80 53/udp\n"
      "HEALTHCHECK --interval=5s CMD curl -f x\n"
      "SHELL [\"/bin/bash\", \"-c\"]\n");
  std::vector<std::string> texts;
  for (const Step& step : graph.steps) texts.push_back(step.text);
  CHECK(texts == std::vector<std::string>{
                     "FROM scratch",
                     "COPY --chown=1:1 --chmod=644 --link src/ /opt/src/",
                     "ENV A=b C=\"d e\"",
                     "RUN --mount=type=cache,target=/c make -C /src",
                     "CMD [\"a\",\"b\"]",
                     "EXPOSE 80/tcp 53/udp",
                     "HEALTHCHECK --interval=5s CMD curl -f x",
                     "SHELL [\"/bin/bash\",\"-c\"]",
                 });
  for (size_t i = 1; i < graph.steps.size(); ++i) CHECK(graph.steps[i].parent == int(i) - 1);
}

TEST_CASE("Expansion errors point at the word", "[lowering]") {
  const DockerfileError e = LowerError("FROM scratch\nCOPY a ${X:?must be set} /b\n");
  CHECK(e.location().line == 2);
  CHECK(e.location().column == 8);
  CHECK_THAT(std::string(e.what()), Catch::Matchers::StartsWith("Dockerfile:2:8: "));
}

TEST_CASE("LoadStepGraph reads the Dockerfile and its ignore file", "[lowering]") {
  MemoryFileSystem fs;
  fs.files["/ctx/Dockerfile"] = "FROM scratch\nCOPY . /\n";
  fs.files["/ctx/.dockerignore"] = "# comment\n*.log\n!keep.log\n";
  LowerOptions options;
  options.dockerfile = "/ctx/Dockerfile";
  options.context = "/ctx";
  options.build_args = {{"A", "1"}};
  const StepGraph graph = LoadStepGraph(fs, options);
  CHECK(graph.dockerfile == "/ctx/Dockerfile");
  CHECK(graph.context == "/ctx");
  CHECK(graph.ignore_patterns == std::vector<std::string>{"*.log", "!keep.log"});
  CHECK(graph.build_args == std::map<std::string, std::string>{{"A", "1"}});
  CHECK(graph.steps.size() == 2);

  options.dockerfile = "/ctx/missing";
  CHECK_THROWS_AS(LoadStepGraph(fs, options), DockerfileError);
}

}  // namespace
}  // namespace kiln
