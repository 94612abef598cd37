#include "frontend/instructions.h"

#include <catch2/catch.hpp>

#include "frontend/parser.h"
#include "frontend/shell_word.h"

namespace kiln {
namespace {

/// The last instruction of `text`, typed.
Instruction Typed(const std::string& text, const WordExpander* expander = nullptr) {
  const SyntaxTree tree = ParseDockerfile(text);
  REQUIRE_FALSE(tree.instructions.empty());
  return ParseInstruction(tree.instructions.back(), tree, expander);
}

template <class T>
T TypedAs(const std::string& text, const WordExpander* expander = nullptr) {
  const Instruction typed = Typed(text, expander);
  REQUIRE(std::holds_alternative<T>(typed.value));
  return std::get<T>(typed.value);
}

/// Expands with fixed variables, as lowering does with the ones in scope.
class FixedExpander : public WordExpander {
 public:
  explicit FixedExpander(Variables vars) : vars_(std::move(vars)) {}
  std::string Word(std::string_view raw) const override { return shell_.ExpandWord(raw, vars_); }
  std::vector<std::string> Words(std::string_view raw) const override {
    return shell_.ExpandWords(raw, vars_);
  }

 private:
  Variables vars_;
  ShellWordExpander shell_;
};

TEST_CASE("FROM: image, stage name and platform", "[instructions]") {
  auto from = TypedAs<FromInstruction>("FROM alpine:3.19");
  CHECK(from.image == "alpine:3.19");
  CHECK(from.stage_name.empty());
  CHECK(from.platform.empty());

  from = TypedAs<FromInstruction>("FROM --platform=linux/arm64 golang:1.22 as Build-1");
  CHECK(from.image == "golang:1.22");
  CHECK(from.stage_name == "build-1");
  CHECK(from.platform == "linux/arm64");

  const FixedExpander vars(Variables{{"V", "3.20"}, {"P", "linux/amd64"}});
  from = TypedAs<FromInstruction>("FROM --platform=$P alpine:${V} AS x", &vars);
  CHECK(from.image == "alpine:3.20");
  CHECK(from.platform == "linux/amd64");
}

TEST_CASE("ARG: names with and without defaults", "[instructions]") {
  const auto arg = TypedAs<ArgInstruction>("ARG A\nARG B=1 C=two");
  REQUIRE(arg.args.size() == 2);
  CHECK(arg.args[0].name == "B");
  CHECK(arg.args[0].default_value == "1");
  CHECK(arg.args[1].name == "C");
  CHECK(arg.args[1].default_value == "two");
  const auto bare = TypedAs<ArgInstruction>("ARG A");
  REQUIRE(bare.args.size() == 1);
  CHECK_FALSE(bare.args[0].default_value);
  const FixedExpander vars(Variables{{"X", "1"}});
  CHECK(TypedAs<ArgInstruction>("ARG B=\"${X} 2\"", &vars).args[0].default_value == "1 2");
}

TEST_CASE("RUN: shell and exec forms, network and security", "[instructions]") {
  auto run = TypedAs<RunInstruction>("RUN make -C /src all");
  CHECK(run.command.shell_form);
  CHECK(run.command.args == std::vector<std::string>{"make -C /src all"});
  CHECK(run.mounts.empty());

  run = TypedAs<RunInstruction>(R"(RUN --network=none --security=insecure ["echo", "$HOME"])");
  CHECK_FALSE(run.command.shell_form);
  CHECK(run.command.args == std::vector<std::string>{"echo", "$HOME"});
  CHECK(run.network == "none");
  CHECK(run.security == "insecure");

  run = TypedAs<RunInstruction>("RUN <<EOF\necho $HOME\nEOF\n");
  REQUIRE(run.heredocs.size() == 1);
  CHECK(run.heredocs[0].name == "EOF");
  CHECK(run.heredocs[0].content == "echo $HOME\n");
}

TEST_CASE("RUN --mount: types, defaults and options", "[instructions]") {
  const auto run = TypedAs<RunInstruction>(
      "RUN --mount=target=/src "
      "--mount=type=cache,dst=/root/.cache,sharing=locked,mode=0700,uid=1000,gid=1000 "
      "--mount=type=tmpfs,destination=/tmp,size=64m "
      "--mount=type=secret,id=npmrc,required=true "
      "--mount=type=secret,target=/run/token,env=TOKEN "
      "--mount=type=ssh "
      "--mount=type=bind,from=builder,source=/out,target=/in,rw "
      "--mount=type=cache,target=/var/cache,ro,id=shared "
      "true");
  REQUIRE(run.mounts.size() == 8);
  const RunMount& bind = run.mounts[0];
  CHECK(bind.type == "bind");
  CHECK(bind.target == "/src");
  CHECK(bind.options.at("readonly") == "true");

  const RunMount& cache = run.mounts[1];
  CHECK(cache.type == "cache");
  CHECK(cache.target == "/root/.cache");
  CHECK(cache.options.at("sharing") == "locked");
  CHECK(cache.options.at("mode") == "0700");
  CHECK(cache.options.at("uid") == "1000");
  CHECK(cache.options.at("id") == "/root/.cache");
  CHECK(cache.options.at("readonly") == "false");

  CHECK(run.mounts[2].type == "tmpfs");
  CHECK(run.mounts[2].options.at("size") == "64m");

  const RunMount& secret = run.mounts[3];
  CHECK(secret.target == "/run/secrets/npmrc");
  CHECK(secret.options.at("id") == "npmrc");
  CHECK(secret.options.at("required") == "true");
  CHECK(secret.options.at("readonly") == "true");

  CHECK(run.mounts[4].options.at("id") == "token");
  CHECK(run.mounts[4].options.at("env") == "TOKEN");

  CHECK(run.mounts[5].type == "ssh");
  CHECK(run.mounts[5].options.at("id") == "default");
  CHECK(run.mounts[5].target == "/run/buildkit/ssh_agent.0");

  const RunMount& from = run.mounts[6];
  CHECK(from.from_image == "builder");
  CHECK(from.options.at("source") == "/out");
  CHECK(from.options.at("readonly") == "false");

  CHECK(run.mounts[7].options.at("readonly") == "true");
  CHECK(run.mounts[7].options.at("id") == "shared");
  CHECK(run.mounts[7].options.at("sharing") == "shared");
}

TEST_CASE("RUN --mount values are expanded", "[instructions]") {
  const FixedExpander vars(Variables{{"CACHE", "/cache"}, {"STAGE", "build"}});
  const auto run = TypedAs<RunInstruction>(
      "RUN --mount=type=cache,target=$CACHE,from=${STAGE} echo $CACHE", &vars);
  CHECK(run.mounts[0].target == "/cache");
  CHECK(run.mounts[0].from_image == "build");
  CHECK(run.command.args[0] == "echo $CACHE");  // the shell expands RUN, not Docker
}

TEST_CASE("CMD and ENTRYPOINT: exec and shell forms", "[instructions]") {
  auto cmd = TypedAs<CmdInstruction>(R"(CMD ["nginx", "-g", "daemon off;"])");
  CHECK_FALSE(cmd.command.shell_form);
  CHECK(cmd.command.args == std::vector<std::string>{"nginx", "-g", "daemon off;"});
  cmd = TypedAs<CmdInstruction>("CMD echo $HOME");
  CHECK(cmd.command.shell_form);
  CHECK(cmd.command.args == std::vector<std::string>{"echo $HOME"});
  auto entrypoint = TypedAs<EntrypointInstruction>(R"(ENTRYPOINT ["/bin/app"])");
  CHECK(entrypoint.command.args == std::vector<std::string>{"/bin/app"});
  entrypoint = TypedAs<EntrypointInstruction>("ENTRYPOINT exec /bin/app");
  CHECK(entrypoint.command.shell_form);
}

TEST_CASE("COPY: every flag, exec form and heredocs", "[instructions]") {
  auto copy = TypedAs<CopyInstruction>(
      "COPY --from=build --chown=app:app --chmod=0644 --link --parents --exclude=*.md "
      "--exclude=tmp/ a b /dst/");
  CHECK(copy.from == "build");
  CHECK(copy.chown == "app:app");
  CHECK(copy.chmod == "0644");
  CHECK(copy.link);
  CHECK(copy.parents);
  CHECK(copy.excludes == std::vector<std::string>{"*.md", "tmp/"});
  CHECK(copy.sources == std::vector<std::string>{"a", "b"});
  CHECK(copy.destination == "/dst/");

  copy = TypedAs<CopyInstruction>("COPY --link=false [\"my file\", \"/d st/\"]");
  CHECK_FALSE(copy.link);
  CHECK(copy.sources == std::vector<std::string>{"my file"});
  CHECK(copy.destination == "/d st/");

  const FixedExpander vars(Variables{{"NAME", "world"}});
  copy = TypedAs<CopyInstruction>(
      "COPY <<EOF <<'RAW' /etc/\nhello \"$NAME\" \\$x\nEOF\n$NAME\nRAW\n", &vars);
  CHECK(copy.sources == std::vector<std::string>{"<<EOF", "<<RAW"});
  REQUIRE(copy.heredocs.size() == 2);
  CHECK(copy.heredocs[0].content == "hello \"world\" $x\n");
  CHECK(copy.heredocs[1].content == "$NAME\n");
}

TEST_CASE("COPY flag values are expanded", "[instructions]") {
  const FixedExpander vars(Variables{{"U", "1000"}, {"M", "755"}, {"S", "src"}});
  const auto copy =
      TypedAs<CopyInstruction>("COPY --chown=$U:$U --chmod=$M --from=$S ${S}/ /app", &vars);
  CHECK(copy.chown == "1000:1000");
  CHECK(copy.chmod == "755");
  CHECK(copy.from == "src");
  CHECK(copy.sources == std::vector<std::string>{"src/"});
}

TEST_CASE("ADD: checksum, keep-git-dir, link", "[instructions]") {
  const std::string digest = "sha256:" + std::string(64, 'a');
  auto add = TypedAs<AddInstruction>("ADD --checksum=" + digest +
                                     " --chown=1:2 https://example.org/a.tgz /a.tgz");
  CHECK(add.checksum == digest);
  CHECK(add.chown == "1:2");
  CHECK(add.sources == std::vector<std::string>{"https://example.org/a.tgz"});
  add = TypedAs<AddInstruction>("ADD --keep-git-dir=true --link git@host:repo.git /src");
  CHECK(add.keep_git_dir);
  CHECK(add.link);
}

TEST_CASE("ENV and LABEL pairs, both syntaxes", "[instructions]") {
  auto env = TypedAs<EnvInstruction>("ENV A=1 B=\"two words\"");
  CHECK(env.env ==
        std::vector<std::pair<std::string, std::string>>{{"A", "1"}, {"B", "\"two words\""}});
  env = TypedAs<EnvInstruction>("ENV PATH /usr/bin:/bin");
  CHECK(env.env == std::vector<std::pair<std::string, std::string>>{{"PATH", "/usr/bin:/bin"}});
  const FixedExpander vars(Variables{{"V", "1.0"}});
  const auto label = TypedAs<LabelInstruction>("LABEL version=$V \"a b\"=\"c d\"", &vars);
  CHECK(label.labels ==
        std::vector<std::pair<std::string, std::string>>{{"version", "1.0"}, {"a b", "c d"}});
}

TEST_CASE("EXPOSE: ports, protocols and ranges", "[instructions]") {
  const auto expose = TypedAs<ExposeInstruction>("EXPOSE 80 53/udp 443/TCP 8000-8002/sctp");
  CHECK(expose.ports == std::vector<std::string>{"80/tcp", "53/udp", "443/tcp", "8000/sctp",
                                                 "8001/sctp", "8002/sctp"});
  const FixedExpander vars(Variables{{"PORTS", "1 2"}});
  CHECK(TypedAs<ExposeInstruction>("EXPOSE $PORTS", &vars).ports ==
        std::vector<std::string>{"1/tcp", "2/tcp"});
}

TEST_CASE("VOLUME, USER, WORKDIR, STOPSIGNAL, MAINTAINER", "[instructions]") {
  CHECK(TypedAs<VolumeInstruction>("VOLUME /data /logs").paths ==
        std::vector<std::string>{"/data", "/logs"});
  CHECK(TypedAs<VolumeInstruction>(R"(VOLUME ["/var/lib/db"])").paths ==
        std::vector<std::string>{"/var/lib/db"});
  CHECK(TypedAs<UserInstruction>("USER app:staff").user == "app:staff");
  CHECK(TypedAs<UserInstruction>("USER 1000").user == "1000");
  CHECK(TypedAs<WorkdirInstruction>("WORKDIR src/app").path == "src/app");
  CHECK(TypedAs<StopsignalInstruction>("STOPSIGNAL SIGTERM").signal == "SIGTERM");
  CHECK(TypedAs<StopsignalInstruction>("STOPSIGNAL 9").signal == "9");
  CHECK(TypedAs<StopsignalInstruction>("STOPSIGNAL SIGRTMIN+3").signal == "SIGRTMIN+3");
  CHECK(TypedAs<MaintainerInstruction>("MAINTAINER Jane Doe <jane@example.org>").name ==
        "Jane Doe <jane@example.org>");
}

TEST_CASE("HEALTHCHECK: NONE, exec and shell CMD, durations", "[instructions]") {
  auto health = TypedAs<HealthcheckInstruction>("HEALTHCHECK NONE");
  CHECK(health.check.test == std::vector<std::string>{"NONE"});

  health = TypedAs<HealthcheckInstruction>(
      "HEALTHCHECK --interval=1m30s --timeout=500ms --start-period=2s --start-interval=1.5s "
      "--retries=4 CMD curl -f http://localhost/ || exit 1");
  CHECK(health.check.test ==
        std::vector<std::string>{"CMD-SHELL", "curl -f http://localhost/ || exit 1"});
  CHECK(health.check.interval_ns == 90'000'000'000);
  CHECK(health.check.timeout_ns == 500'000'000);
  CHECK(health.check.start_period_ns == 2'000'000'000);
  CHECK(health.check.start_interval_ns == 1'500'000'000);
  CHECK(health.check.retries == 4);

  health = TypedAs<HealthcheckInstruction>(R"(HEALTHCHECK --interval=0 CMD ["/bin/check", "-q"])");
  CHECK(health.check.test == std::vector<std::string>{"CMD", "/bin/check", "-q"});
  CHECK(health.check.interval_ns == 0);
}

TEST_CASE("SHELL and ONBUILD", "[instructions]") {
  CHECK(TypedAs<ShellInstruction>(R"(SHELL ["/bin/bash", "-euo", "pipefail", "-c"])").shell ==
        std::vector<std::string>{"/bin/bash", "-euo", "pipefail", "-c"});
  const auto onbuild = TypedAs<OnbuildInstruction>("ONBUILD COPY --chown=1:1 . /app/$X");
  CHECK(onbuild.trigger == "COPY --chown=1:1 . /app/$X");
  REQUIRE(onbuild.inner);
  CHECK(onbuild.inner->keyword == "COPY");
  const auto& inner = std::get<CopyInstruction>(onbuild.inner->value);
  CHECK(inner.destination == "/app/$X");  // triggers are expanded when they fire, not here
  CHECK(inner.chown == "1:1");
}

TEST_CASE("Without an expander, values holding variables are checked later", "[instructions]") {
  // ONBUILD triggers are typed as written; their values are expanded when they fire.
  const auto onbuild = TypedAs<OnbuildInstruction>("ONBUILD COPY --chmod=$MODE a b");
  CHECK(std::get<CopyInstruction>(onbuild.inner->value).chmod == "$MODE");
  CHECK(TypedAs<ExposeInstruction>("EXPOSE $PORT").ports == std::vector<std::string>{"$PORT"});
  CHECK(TypedAs<StopsignalInstruction>("STOPSIGNAL $SIG").signal == "$SIG");
  CHECK(TypedAs<RunInstruction>("RUN --mount=type=cache,target=/c,uid=$UID true")
            .mounts[0]
            .options.at("uid") == "$UID");
  // With an expander the expanded value is checked.
  const FixedExpander vars(Variables{{"MODE", "rwx"}});
  CHECK_THROWS_WITH(Typed("COPY --chmod=$MODE a b", &vars),
                    Catch::Matchers::Contains("invalid chmod parameter: rwx"));
}

TEST_CASE("ExpandsVariables names exactly Docker's list", "[instructions]") {
  for (const char* k :
       {"ADD", "COPY", "ENV", "EXPOSE", "FROM", "LABEL", "STOPSIGNAL", "USER", "VOLUME", "WORKDIR"})
    CHECK(ExpandsVariables(k));
  for (const char* k :
       {"RUN", "CMD", "ENTRYPOINT", "SHELL", "HEALTHCHECK", "ONBUILD", "ARG", "MAINTAINER"})
    CHECK_FALSE(ExpandsVariables(k));
}

TEST_CASE("ParseGoDuration follows Go's time.ParseDuration", "[instructions]") {
  struct Case {
    const char* text;
    std::optional<int64_t> ns;
  };
  const Case cases[] = {
      {"0", 0},
      {"30s", 30'000'000'000},
      {"1m30s", 90'000'000'000},
      {"500ms", 500'000'000},
      {"1.5h", 5'400'000'000'000},
      {"2us", 2000},
      {"10ns", 10},
      {"-1s", -1'000'000'000},
      {".5s", 500'000'000},
      {"", std::nullopt},
      {"5", std::nullopt},
      {"abc", std::nullopt},
      {"1d", std::nullopt},
      {"s", std::nullopt},
      {"1.s", 1'000'000'000},
  };
  for (const Case& c : cases) {
    INFO(c.text);
    CHECK(ParseGoDuration(c.text) == c.ns);
  }
}

TEST_CASE("Malformed instructions give Docker-like errors at their line", "[instructions]") {
  const std::string digest = "sha256:" + std::string(64, 'b');
  struct Case {
    std::string instruction;  // placed on line 2, after FROM scratch
    std::string message;      // expected to be contained in the error message
    int column = 0;           // 0: not checked
  };
  const Case cases[] = {
      {"COPY --foo a b", "unknown flag: --foo", 6},
      {"COPY --chmdo=644 a b", "unknown flag: --chmdo (did you mean --chmod?)", 6},
      {"RUN --mout=type=cache,target=/x true", "unknown flag: --mout (did you mean --mount?)"},
      {"COPY --checksum=" + digest + " a b", "flag --checksum is not valid for COPY", 6},
      {"RUN --from=x true", "flag --from is not valid for RUN", 5},
      {"COPY --chmod a b", "flag --chmod expects a value", 6},
      {"COPY --chown= a b", "flag --chown expects a value"},
      {"COPY --chmod=999 a b", "invalid chmod parameter: 999", 6},
      {"COPY --chmod=u+x a b", "invalid chmod parameter: u+x"},
      {"COPY --link=maybe a b", "expecting boolean value for flag --link, not: maybe"},
      {"ADD --keep-git-dir=yes a b", "expecting boolean value for flag --keep-git-dir, not: yes"},
      {"COPY --from=a --from=b x y", "duplicate flag specified: --from"},
      {"COPY onlyone", "COPY requires at least two arguments"},
      {"ADD --checksum=md5:abc https://x.org/y /y", "invalid checksum digest format: md5:abc"},
      {"ADD --checksum=sha256:ABC https://x.org/y /y", "invalid checksum digest format"},
      {"ADD --checksum=" + digest + " local.tgz /y",
       "checksum can't be specified for non-HTTP(S) sources: local.tgz", 88},
      {"RUN --mount=type=foo,target=/x true", "unsupported mount type \"foo\""},
      {"RUN --mount=type=cache true", "mount type=cache requires a target"},
      {"RUN --mount=type=cache,target=/x,sharing=all true", "unsupported sharing value \"all\""},
      {"RUN --mount=type=bind,target=/x,bogus=1 true", "unexpected key 'bogus'"},
      {"RUN --mount=type=tmpfs,target=/x,from=y true",
       "unexpected key 'from' for mount type 'tmpfs'"},
      {"RUN --mount=type=bind,target=/x,size=1m true",
       "unexpected key 'size' for mount type 'bind'"},
      {"RUN --mount=type=cache,target=/x,mode=999 true", "invalid value 999 for mode"},
      {"RUN --mount=type=cache,target=/x,uid=root true", "invalid value root for uid"},
      {"RUN --mount=type=secret true", "secret mount requires an id or a target"},
      {"RUN --mount=type=bind,target=/x,ro=perhaps true", "invalid value for ro: perhaps"},
      {"RUN --network=bridge true", "unsupported network mode \"bridge\"", 5},
      {"RUN --security=root true", "unsupported security mode \"root\""},
      {"FROM a b", "FROM requires either one or three arguments"},
      {"FROM a AS 1st", "invalid name for build stage: \"1st\"", 11},
      {"FROM a AS my/stage", "invalid name for build stage"},
      {"FROM --platform a", "flag --platform expects a value"},
      {"HEALTHCHECK --interval=abc CMD true", "invalid duration for --interval: abc", 13},
      {"HEALTHCHECK --timeout=-1s CMD true", "--timeout cannot be negative: -1s"},
      {"HEALTHCHECK --interval=500us CMD true", "--interval cannot be less than 1ms: 500us"},
      {"HEALTHCHECK --retries=x CMD true", "invalid value for --retries: x"},
      {"HEALTHCHECK --retries=-2 CMD true", "--retries cannot be negative (-2)"},
      {"HEALTHCHECK --interval=1s NONE", "HEALTHCHECK NONE takes no flags"},
      {"HEALTHCHECK --timeout=1s CMD", "Missing command after HEALTHCHECK CMD"},
      {"EXPOSE 80/xyz", "invalid proto: xyz", 8},
      {"EXPOSE 99999", "invalid containerPort: 99999"},
      {"EXPOSE http", "invalid containerPort: http"},
      {"EXPOSE 90-80", "invalid range specified for containerPort: 90-80"},
      {"STOPSIGNAL SIGFOO", "Invalid signal: SIGFOO"},
      {"STOPSIGNAL 0", "Invalid signal: 0"},
      {"USER a:b:c", "invalid user: \"a:b:c\""},
      {"USER :staff", "invalid user"},
      {"ONBUILD ONBUILD RUN x", "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed"},
      {"ONBUILD FROM alpine", "FROM isn't allowed as an ONBUILD trigger"},
      {"ONBUILD COPY --bogus a b", "unknown flag: --bogus"},
  };
  for (const Case& c : cases) {
    INFO(c.instruction);
    const std::string text = "FROM scratch\n" + c.instruction + "\n";
    try {
      // Some of these the parser already refuses; either pass must report them the same way.
      const SyntaxTree tree = ParseDockerfile(text);
      REQUIRE(tree.instructions.size() == 2);
      ParseInstruction(tree.instructions[1], tree);
      FAIL("no error for: " << c.instruction);
    } catch (const DockerfileError& e) {
      CHECK_THAT(e.message(), Catch::Matchers::Contains(c.message));
      CHECK(e.location().line == 2);
      if (c.column > 0) CHECK(e.location().column == c.column);
      CHECK_THAT(std::string(e.what()), Catch::Matchers::StartsWith("Dockerfile:2:"));
    }
  }
}

TEST_CASE("NodeText writes an instruction back as one line", "[instructions]") {
  const SyntaxTree tree =
      ParseDockerfile("COPY --chown=1:1 a b /c\nRUN [\"a\", \"b c\"]\nENV A=1 B=2\nENV C d\n");
  CHECK(NodeText(tree.instructions[0]) == "COPY --chown=1:1 a b /c");
  CHECK(NodeText(tree.instructions[1]) == "RUN [\"a\",\"b c\"]");
  CHECK(NodeText(tree.instructions[2]) == "ENV A=1 B=2");
  CHECK(NodeText(tree.instructions[3]) == "ENV C d");
}

}  // namespace
}  // namespace kiln
