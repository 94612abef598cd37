#include "frontend/parser.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "frontend/dockerfile_error.h"

namespace kiln {
namespace {

using Strings = std::vector<std::string>;

/// Parses `text` and returns its only instruction.
Node ParseOne(const std::string& text) {
  const SyntaxTree tree = ParseDockerfile(text);
  REQUIRE(tree.instructions.size() == 1);
  return tree.instructions[0];
}

/// The DockerfileError `text` throws; fails the test when it parses.
DockerfileError ParseError(const std::string& text) {
  try {
    ParseDockerfile(text, "Dockerfile");
  } catch (const DockerfileError& error) {
    return error;
  }
  FAIL("expected a DockerfileError for:\n" << text);
  throw;  // unreachable
}

struct FormCase {
  std::string text;
  std::string instruction;
  ArgForm form;
  Strings args;
  Strings flags;
};

TEST_CASE("every instruction in each of its forms", "[parser]") {
  const std::vector<FormCase> cases = {
      {"FROM alpine:3.20", "FROM", ArgForm::kWords, {"alpine:3.20"}, {}},
      {"FROM --platform=$BUILDPLATFORM golang:1.22 AS build",
       "FROM",
       ArgForm::kWords,
       {"golang:1.22", "AS", "build"},
       {"--platform=$BUILDPLATFORM"}},
      {"from\talpine", "FROM", ArgForm::kWords, {"alpine"}, {}},
      {"RUN echo  hello   world", "RUN", ArgForm::kShell, {"echo  hello   world"}, {}},
      {"run [\"echo\", \"hi\"]", "RUN", ArgForm::kExec, {"echo", "hi"}, {}},
      {"RUN [ \"sh\" , \"-c\", \"echo \\\"x\\\"\" ]  ",
       "RUN",
       ArgForm::kExec,
       {"sh", "-c", "echo \"x\""},
       {}},
      {"RUN --mount=type=cache,target=/root/.cache --network=none make",
       "RUN",
       ArgForm::kShell,
       {"make"},
       {"--mount=type=cache,target=/root/.cache", "--network=none"}},
      {"RUN --mount=type=bind,target=/src [\"make\"]",
       "RUN",
       ArgForm::kExec,
       {"make"},
       {"--mount=type=bind,target=/src"}},
      {"CMD [\"nginx\", \"-g\", \"daemon off;\"]",
       "CMD",
       ArgForm::kExec,
       {"nginx", "-g", "daemon off;"},
       {}},
      {"CMD []", "CMD", ArgForm::kExec, {}, {}},
      {"CMD nginx -g 'daemon off;'", "CMD", ArgForm::kShell, {"nginx -g 'daemon off;'"}, {}},
      {"ENTRYPOINT [\"/entry.sh\"]", "ENTRYPOINT", ArgForm::kExec, {"/entry.sh"}, {}},
      {"ENTRYPOINT exec /entry.sh", "ENTRYPOINT", ArgForm::kShell, {"exec /entry.sh"}, {}},
      {"SHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"]",
       "SHELL",
       ArgForm::kExec,
       {"/bin/bash", "-o", "pipefail", "-c"},
       {}},
      {"MAINTAINER Jane Doe <jane@example.com>",
       "MAINTAINER",
       ArgForm::kWords,
       {"Jane", "Doe", "<jane@example.com>"},
       {}},
      {"EXPOSE 80/tcp  443 ${PORT}", "EXPOSE", ArgForm::kWords, {"80/tcp", "443", "${PORT}"}, {}},
      {"COPY --from=build --chown=app:app /out/app \"/usr/local/bin/\"",
       "COPY",
       ArgForm::kWords,
       {"/out/app", "\"/usr/local/bin/\""},
       {"--from=build", "--chown=app:app"}},
      {"COPY [\"my file.txt\", \"/dst dir/\"]",
       "COPY",
       ArgForm::kExec,
       {"my file.txt", "/dst dir/"},
       {}},
      {"COPY --link [\"a\", \"b\"]", "COPY", ArgForm::kExec, {"a", "b"}, {"--link"}},
      {"ADD https://example.com/x.tgz /opt/",
       "ADD",
       ArgForm::kWords,
       {"https://example.com/x.tgz", "/opt/"},
       {}},
      {"ADD --checksum=sha256:abc [\"x.tgz\", \"/opt/\"]",
       "ADD",
       ArgForm::kExec,
       {"x.tgz", "/opt/"},
       {"--checksum=sha256:abc"}},
      {"VOLUME /data /logs", "VOLUME", ArgForm::kWords, {"/data", "/logs"}, {}},
      {"VOLUME [\"/data\", \"/var/log app\"]",
       "VOLUME",
       ArgForm::kExec,
       {"/data", "/var/log app"},
       {}},
      {"USER app:app", "USER", ArgForm::kWords, {"app:app"}, {}},
      {"WORKDIR /srv/${APP}", "WORKDIR", ArgForm::kWords, {"/srv/${APP}"}, {}},
      {"ARG VERSION", "ARG", ArgForm::kWords, {"VERSION"}, {}},
      {"ARG A=1 B=\"two words\" C", "ARG", ArgForm::kWords, {"A=1", "B=\"two words\"", "C"}, {}},
      {"ARG MSG='a b' X=a\\ b Y=\"q\\\"x y\"",
       "ARG",
       ArgForm::kWords,
       {"MSG='a b'", "X=a\\ b", "Y=\"q\\\"x y\""},
       {}},
      // A single quote escapes nothing, so `'it\'` closes and `s'...` runs to the end.
      {"ARG M='it\\'s' X", "ARG", ArgForm::kWords, {"M='it\\'s' X"}, {}},
      {"STOPSIGNAL SIGTERM", "STOPSIGNAL", ArgForm::kWords, {"SIGTERM"}, {}},
      {"HEALTHCHECK NONE", "HEALTHCHECK", ArgForm::kWords, {"NONE"}, {}},
      {"HEALTHCHECK --interval=5s --retries=3 CMD curl -f http://localhost/ || exit 1",
       "HEALTHCHECK",
       ArgForm::kShell,
       {"CMD", "curl -f http://localhost/ || exit 1"},
       {"--interval=5s", "--retries=3"}},
      {"healthcheck cmd [\"/bin/check\", \"--fast\"]",
       "HEALTHCHECK",
       ArgForm::kExec,
       {"CMD", "/bin/check", "--fast"},
       {}},
      {"ONBUILD RUN make", "ONBUILD", ArgForm::kShell, {"RUN make"}, {}},
  };
  for (const FormCase& c : cases) {
    INFO(c.text);
    const Node node = ParseOne(c.text);
    CHECK(node.instruction == c.instruction);
    CHECK(node.form == c.form);
    CHECK(node.args == c.args);
    CHECK(node.flags == c.flags);
    CHECK(node.line == 1);
    CHECK(node.end_line == 1);
    CHECK(node.column == 1);
    CHECK(node.heredocs.empty());
  }
}

TEST_CASE("the 18 keywords are known, case-insensitively", "[parser]") {
  const Strings expected = {"FROM",    "RUN", "CMD",     "LABEL",      "MAINTAINER",  "EXPOSE",
                            "ENV",     "ADD", "COPY",    "ENTRYPOINT", "VOLUME",      "USER",
                            "WORKDIR", "ARG", "ONBUILD", "STOPSIGNAL", "HEALTHCHECK", "SHELL"};
  CHECK(InstructionKeywords() == expected);
  CHECK(ParseOne("wOrKdIr /x").instruction == "WORKDIR");
}

TEST_CASE("keyword suggestions only for close typos", "[parser]") {
  CHECK(SuggestInstruction("COPPY") == std::optional<std::string>("COPY"));
  CHECK(SuggestInstruction("form") == std::optional<std::string>("FROM"));
  CHECK(SuggestInstruction("ENTRYPIONT") == std::optional<std::string>("ENTRYPOINT"));
  CHECK(SuggestInstruction("HEALTHCEK") == std::optional<std::string>("HEALTHCHECK"));
  CHECK(SuggestInstruction("RUNN") == std::optional<std::string>("RUN"));
  CHECK_FALSE(SuggestInstruction("COPY"));
  CHECK_FALSE(SuggestInstruction("BANANA"));
  CHECK_FALSE(SuggestInstruction("XY"));
}

TEST_CASE("ENV and LABEL pairs keep raw values", "[parser]") {
  struct PairCase {
    std::string text;
    std::vector<KeyValue> pairs;
  };
  const std::vector<PairCase> cases = {
      {"ENV A=1", {{"A", "1", false}}},
      {"ENV A=1 B=\"x y\" C='z' D=", {{"A", "1"}, {"B", "\"x y\""}, {"C", "'z'"}, {"D", ""}}},
      {"ENV PATH=/opt/bin:$PATH E=a\\ b", {{"PATH", "/opt/bin:$PATH"}, {"E", "a\\ b"}}},
      {"ENV NAME value with  spaces", {{"NAME", "value with  spaces", true}}},
      {"ENV NAME \"quoted value\"", {{"NAME", "\"quoted value\"", true}}},
      {"LABEL org.opencontainers.image.title=\"My App\" version=1.0",
       {{"org.opencontainers.image.title", "\"My App\""}, {"version", "1.0"}}},
      {"LABEL description This is legacy", {{"description", "This is legacy", true}}},
      {"LABEL \"com.example.vendor\"=\"ACME Inc\"", {{"\"com.example.vendor\"", "\"ACME Inc\""}}},
  };
  for (const PairCase& c : cases) {
    INFO(c.text);
    const Node node = ParseOne(c.text);
    CHECK(node.form == ArgForm::kPairs);
    CHECK(node.args.empty());
    REQUIRE(node.pairs.size() == c.pairs.size());
    for (size_t i = 0; i < c.pairs.size(); ++i) {
      CHECK(node.pairs[i].key == c.pairs[i].key);
      CHECK(node.pairs[i].value == c.pairs[i].value);
      CHECK(node.pairs[i].legacy == c.pairs[i].legacy);
    }
  }
}

TEST_CASE("directives", "[parser]") {
  SECTION("all three, case-insensitive keys, whitespace tolerant") {
    const SyntaxTree tree = ParseDockerfile(
        "# syntax=docker/dockerfile:1.7\n"
        "#ESCAPE = `\n"
        "  #  Check =skip=all;error=true  \n"
        "FROM a\n");
    CHECK(tree.directives.syntax == std::optional<std::string>("docker/dockerfile:1.7"));
    CHECK(tree.directives.check == std::optional<std::string>("skip=all;error=true"));
    CHECK(tree.directives.escape == '`');
    REQUIRE(tree.instructions.size() == 1);
    CHECK(tree.instructions[0].line == 4);
  }
  SECTION("defaults") {
    const SyntaxTree tree = ParseDockerfile("FROM a\n");
    CHECK(tree.directives.escape == '\\');
    CHECK_FALSE(tree.directives.syntax);
    CHECK_FALSE(tree.directives.check);
  }
  SECTION("after a comment they are plain comments") {
    const SyntaxTree tree = ParseDockerfile("# hello\n# escape=`\n# syntax=x\nFROM a\n");
    CHECK(tree.directives.escape == '\\');
    CHECK_FALSE(tree.directives.syntax);
  }
  SECTION("after a blank line or an instruction they are plain comments") {
    CHECK(ParseDockerfile("\n# escape=`\nFROM a\n").directives.escape == '\\');
    const SyntaxTree tree = ParseDockerfile("FROM a\n# escape=`\n# escape=`\n");
    CHECK(tree.directives.escape == '\\');
  }
  SECTION("an unknown directive is a comment and ends the directives") {
    const SyntaxTree tree = ParseDockerfile("# foo=bar\n# escape=`\nFROM a\n");
    CHECK(tree.directives.escape == '\\');
    CHECK(ParseDockerfile("# syntax=x\n# foo=bar\nFROM a\n").directives.syntax ==
          std::optional<std::string>("x"));
  }
  SECTION("a byte-order mark before the first directive") {
    CHECK(ParseDockerfile("\xEF\xBB\xBF# escape=`\nFROM a\n").directives.escape == '`');
  }
}

TEST_CASE("backtick escape with Windows paths", "[parser]") {
  const SyntaxTree tree = ParseDockerfile(
      "# escape=`\n"
      "FROM mcr.microsoft.com/windows/servercore\n"
      "WORKDIR C:\\app\\\n"
      "COPY testfile.txt C:\\\n"
      "RUN dir c:\\ `\n"
      "    && echo done\n"
      "ENV DIR=C:\\a` b\n");
  REQUIRE(tree.instructions.size() == 5);
  CHECK(tree.instructions[1].args == Strings{"C:\\app\\"});
  CHECK(tree.instructions[2].args == Strings{"testfile.txt", "C:\\"});
  CHECK(tree.instructions[3].args == Strings{"dir c:\\     && echo done"});
  CHECK(tree.instructions[3].line == 5);
  CHECK(tree.instructions[3].end_line == 6);
  REQUIRE(tree.instructions[4].pairs.size() == 1);
  CHECK(tree.instructions[4].pairs[0].value == "C:\\a` b");
}

TEST_CASE("comments, blank lines and continuations", "[parser]") {
  SECTION("comments and blank lines between instructions") {
    const SyntaxTree tree =
        ParseDockerfile("# c\n\nFROM a\n   # indented comment\n\n\t\nRUN x # not a comment\n");
    REQUIRE(tree.instructions.size() == 2);
    CHECK(tree.instructions[1].line == 7);
    CHECK(tree.instructions[1].args == Strings{"x # not a comment"});
  }
  SECTION("joined directly, escape and newline removed") {
    const Node node = ParseOne("RUN apt-get update && \\\n    apt-get install -y curl\n");
    CHECK(node.args == Strings{"apt-get update &&     apt-get install -y curl"});
    CHECK(node.line == 1);
    CHECK(node.end_line == 2);
  }
  SECTION("no space before the escape") {
    CHECK(ParseOne("RUN echo a\\\nb").args == Strings{"echo ab"});
  }
  SECTION("trailing whitespace after the escape") {
    CHECK(ParseOne("RUN echo a \\  \t\n  b\n").args == Strings{"echo a   b"});
  }
  SECTION("comment lines and empty lines inside are skipped") {
    const Node node = ParseOne(
        "RUN a \\\n"
        "# comment\n"
        "    # indented comment \\\n"
        "\n"
        "   \n"
        "  b\n");
    CHECK(node.args == Strings{"a   b"});
    CHECK(node.end_line == 6);
  }
  SECTION("continuation at end of file") {
    const SyntaxTree tree = ParseDockerfile("FROM a\nRUN echo hi \\");
    REQUIRE(tree.instructions.size() == 2);
    CHECK(tree.instructions[1].args == Strings{"echo hi"});
    CHECK(tree.instructions[1].end_line == 2);
    const SyntaxTree trailing = ParseDockerfile("FROM a\nRUN echo hi \\\n\n# c\n");
    REQUIRE(trailing.instructions.size() == 2);
    CHECK(trailing.instructions[1].args == Strings{"echo hi"});
    CHECK(trailing.instructions[1].end_line == 4);
  }
  SECTION("continued keyword arguments and flags") {
    const Node node = ParseOne("COPY \\\n  --from=build \\\n  /a \\\n  /b\n");
    CHECK(node.flags == Strings{"--from=build"});
    CHECK(node.args == Strings{"/a", "/b"});
    CHECK(node.end_line == 4);
  }
  SECTION("CRLF line endings") {
    const SyntaxTree tree = ParseDockerfile("FROM a\r\nRUN x \\\r\n  y\r\n");
    REQUIRE(tree.instructions.size() == 2);
    CHECK(tree.instructions[1].args == Strings{"x   y"});
    CHECK(tree.lines[0] == "FROM a");
  }
  SECTION("indented instructions report the keyword column") {
    const SyntaxTree tree = ParseDockerfile("FROM a\n    RUN x\n");
    CHECK(tree.instructions[1].column == 5);
  }
  SECTION("continued ENV pairs") {
    const Node node = ParseOne("ENV A=1 \\\n    B=2\n");
    REQUIRE(node.pairs.size() == 2);
    CHECK(node.pairs[1].key == "B");
  }
}

TEST_CASE("flags", "[parser]") {
  SECTION("bare -- ends flags") {
    const Node node = ParseOne("RUN --network=none -- --not-a-flag x");
    CHECK(node.flags == Strings{"--network=none"});
    CHECK(node.args == Strings{"--not-a-flag x"});
  }
  SECTION("quotes and escapes in flags are removed as BuildKit does") {
    const Node node = ParseOne("COPY --chown=\"app user\" --chmod='0755' --x=a\\ b src dst");
    CHECK(node.flags == Strings{"--chown=app user", "--chmod=0755", "--x=a b"});
    CHECK(node.args == Strings{"src", "dst"});
  }
  SECTION("flags on any instruction are kept for later validation") {
    const Node node = ParseOne("ENV --bogus A=1");
    CHECK(node.flags == Strings{"--bogus"});
    REQUIRE(node.pairs.size() == 1);
  }
  SECTION("a single dash is an argument") {
    CHECK(ParseOne("RUN -x").flags.empty());
  }
}

TEST_CASE("heredocs", "[parser]") {
  SECTION("RUN with one heredoc, body verbatim") {
    const SyntaxTree tree = ParseDockerfile(
        "FROM a\n"
        "RUN <<EOF\n"
        "echo \"$HOME\" \\\n"
        "# not a comment\n"
        "\n"
        "EOF\n"
        "RUN next\n");
    REQUIRE(tree.instructions.size() == 3);
    const Node& run = tree.instructions[1];
    CHECK(run.args == Strings{"<<EOF"});
    CHECK(run.line == 2);
    CHECK(run.end_line == 6);
    REQUIRE(run.heredocs.size() == 1);
    CHECK(run.heredocs[0].name == "EOF");
    CHECK(run.heredocs[0].content == "echo \"$HOME\" \\\n# not a comment\n\n");
    CHECK(run.heredocs[0].expand);
    CHECK_FALSE(run.heredocs[0].chomp);
    CHECK(tree.instructions[2].line == 7);
  }
  SECTION("<<- strips leading tabs of body and terminator") {
    const Node node = ParseOne("RUN <<-EOT bash\n\techo a\n\t\techo b\n  spaces stay\n\t\tEOT\n");
    REQUIRE(node.heredocs.size() == 1);
    CHECK(node.heredocs[0].chomp);
    CHECK(node.heredocs[0].content == "echo a\necho b\n  spaces stay\n");
    CHECK(node.args == Strings{"<<-EOT bash"});
    CHECK(node.end_line == 5);
  }
  SECTION("without <<- an indented terminator does not end the body") {
    const Node node = ParseOne("RUN <<EOF\n\tEOF\nEOF\n");
    CHECK(node.heredocs[0].content == "\tEOF\n");
  }
  SECTION("quoted delimiters do not expand") {
    const std::vector<std::pair<std::string, std::string>> quoted = {
        {"<<\"EOF\"", "EOF"}, {"<<'EOF'", "EOF"}, {"<<-\"EOF\"", "EOF"}, {"<<E\"O\"F", "EOF"}};
    for (const auto& [marker, name] : quoted) {
      INFO(marker);
      const Node node = ParseOne("RUN cat " + marker + "\n$X\nEOF\n");
      REQUIRE(node.heredocs.size() == 1);
      CHECK(node.heredocs[0].name == name);
      CHECK_FALSE(node.heredocs[0].expand);
      CHECK(node.heredocs[0].content == "$X\n");
    }
  }
  SECTION("several heredocs on one line, bodies in order") {
    const Node node = ParseOne(
        "RUN <<FILE1 cat > /f1 && <<FILE2 cat > /f2\n"
        "one\n"
        "FILE1\n"
        "two\n"
        "FILE2\n");
    REQUIRE(node.heredocs.size() == 2);
    CHECK(node.heredocs[0].name == "FILE1");
    CHECK(node.heredocs[0].content == "one\n");
    CHECK(node.heredocs[1].name == "FILE2");
    CHECK(node.heredocs[1].content == "two\n");
    CHECK(node.end_line == 5);
  }
  SECTION("COPY creating files") {
    const Node node = ParseOne(
        "COPY --chmod=755 <<robots.txt <<'run.sh' /dst/\n"
        "User-agent: *\n"
        "robots.txt\n"
        "#!/bin/sh\n"
        "echo $1\n"
        "run.sh\n");
    CHECK(node.form == ArgForm::kWords);
    CHECK(node.args == Strings{"<<robots.txt", "<<'run.sh'", "/dst/"});
    CHECK(node.flags == Strings{"--chmod=755"});
    REQUIRE(node.heredocs.size() == 2);
    CHECK(node.heredocs[0].name == "robots.txt");
    CHECK(node.heredocs[0].expand);
    CHECK(node.heredocs[1].name == "run.sh");
    CHECK_FALSE(node.heredocs[1].expand);
    CHECK(node.heredocs[1].content == "#!/bin/sh\necho $1\n");
  }
  SECTION("ADD and an empty body") {
    const Node node = ParseOne("ADD <<EOF /x\nEOF\n");
    REQUIRE(node.heredocs.size() == 1);
    CHECK(node.heredocs[0].content.empty());
  }
  SECTION("heredoc line with a continuation before the body") {
    const Node node = ParseOne("RUN <<EOF \\\n  bash\nbody\nEOF\n");
    CHECK(node.args == Strings{"<<EOF   bash"});
    CHECK(node.heredocs[0].content == "body\n");
    CHECK(node.end_line == 4);
  }
  SECTION("not heredocs: quoted, inside a word, exec form, other instructions") {
    CHECK(ParseOne("RUN echo '<<EOF' \"<<X\"").heredocs.empty());
    CHECK(ParseOne("RUN echo a<<EOF").heredocs.empty());
    CHECK(ParseOne("RUN [\"cat\", \"<<EOF\"]").heredocs.empty());
    CHECK(ParseOne("CMD cat <<EOF").heredocs.empty());
    CHECK(ParseOne("RUN echo <<<word").heredocs.empty());
    CHECK(ParseOne("RUN echo << x").heredocs.empty());
  }
  SECTION("file descriptor prefix") {
    const Node node = ParseOne("RUN cat 3<<EOF\nx\nEOF\n");
    REQUIRE(node.heredocs.size() == 1);
    CHECK(node.heredocs[0].name == "EOF");
  }
  SECTION("ONBUILD RUN heredoc") {
    const Node node = ParseOne("ONBUILD RUN <<EOF\necho hi\nEOF\n");
    REQUIRE(node.onbuild);
    REQUIRE(node.onbuild->heredocs.size() == 1);
    CHECK(node.onbuild->heredocs[0].content == "echo hi\n");
    CHECK(node.end_line == 3);
    CHECK(node.onbuild->end_line == 3);
    // The trigger text carries the body, so it parses again on its own.
    CHECK(node.args == Strings{"RUN <<EOF\necho hi\nEOF"});
    const Node again = ParseOne(node.args[0]);
    CHECK(again.instruction == "RUN");
    REQUIRE(again.heredocs.size() == 1);
    CHECK(again.heredocs[0].content == "echo hi\n");
  }
  SECTION("the corpus file") {
    const SyntaxTree tree = ParseDockerfile(
        "FROM debian\n"
        "RUN <<-\"SCRIPT\" bash\n"
        "\tset -e\n"
        "\tfor d in a b; do\n"
        "\t\techo \"$d\"\n"
        "\tdone\n"
        "\tSCRIPT\n"
        "RUN python3 - <<PY || true\n"
        "print(1)\n"
        "PY\n");
    REQUIRE(tree.instructions.size() == 3);
    CHECK(tree.instructions[1].heredocs[0].content ==
          "set -e\nfor d in a b; do\necho \"$d\"\ndone\n");
    CHECK(tree.instructions[2].heredocs[0].name == "PY");
    CHECK(tree.instructions[2].args == Strings{"python3 - <<PY || true"});
  }
}

TEST_CASE("exec form fallback", "[parser]") {
  const std::vector<std::pair<std::string, std::string>> fallbacks = {
      {"RUN [\"echo\", 'hi']", "[\"echo\", 'hi']"}, {"RUN [echo]", "[echo]"},
      {"RUN [\"a\"] && b", "[\"a\"] && b"},         {"CMD [\"unterminated\"", "[\"unterminated\""},
      {"ENTRYPOINT [ \"x\", ]", "[ \"x\", ]"},
  };
  for (const auto& [text, shell] : fallbacks) {
    INFO(text);
    const Node node = ParseOne(text);
    CHECK(node.form == ArgForm::kShell);
    CHECK(node.args == Strings{shell});
  }
  const Node copy = ParseOne("COPY [a, b] /dst");
  CHECK(copy.form == ArgForm::kWords);
  CHECK(copy.args == Strings{"[a,", "b]", "/dst"});
  const Node json = ParseOne("RUN [\"echo\", \"\\u00e9\\t\"]");
  CHECK(json.args == Strings{"echo", "\xC3\xA9\t"});
}

TEST_CASE("ONBUILD", "[parser]") {
  const SyntaxTree tree = ParseDockerfile(
      "FROM a\n"
      "ONBUILD COPY --from=x . /app\n"
      "onbuild  env A=1 \\\n"
      "   B=2\n");
  REQUIRE(tree.instructions.size() == 3);
  const Node& copy = tree.instructions[1];
  CHECK(copy.instruction == "ONBUILD");
  CHECK(copy.args == Strings{"COPY --from=x . /app"});
  REQUIRE(copy.onbuild);
  CHECK(copy.onbuild->instruction == "COPY");
  CHECK(copy.onbuild->flags == Strings{"--from=x"});
  CHECK(copy.onbuild->args == Strings{".", "/app"});
  CHECK(copy.onbuild->line == 2);
  CHECK(copy.onbuild->column == 9);
  const Node& env = tree.instructions[2];
  REQUIRE(env.onbuild);
  CHECK(env.onbuild->instruction == "ENV");
  CHECK(env.onbuild->pairs.size() == 2);
  CHECK(env.onbuild->column == 10);
  CHECK(env.end_line == 4);
  CHECK(env.onbuild->end_line == 4);
}

TEST_CASE("source lines and file name are kept", "[parser]") {
  const SyntaxTree tree = ParseDockerfile("FROM a\nRUN b\n", "sub/Dockerfile.dev");
  CHECK(tree.file == "sub/Dockerfile.dev");
  CHECK(tree.lines == std::vector<std::string_view>{"FROM a", "RUN b"});
}

TEST_CASE("a copy of a tree keeps its source lines after the original is gone", "[parser]") {
  SyntaxTree copy;
  {
    const SyntaxTree tree = ParseDockerfile(
        "\xEF\xBB\xBF"
        "FROM a\nRUN b\n");
    copy = tree;
  }
  CHECK(copy.lines == std::vector<std::string_view>{"FROM a", "RUN b"});
}

struct MalformedCase {
  std::string text;
  std::string message;
  int line;
  int column;
};

TEST_CASE("malformed Dockerfiles", "[parser]") {
  const std::vector<MalformedCase> cases = {
      {"FROM a\nCOPPY . /app\n", "unknown instruction: COPPY (did you mean COPY?)", 2, 1},
      {"FROM a\n  runn x\n", "unknown instruction: RUNN (did you mean RUN?)", 2, 3},
      {"FROM a\nBANANA split\n", "unknown instruction: BANANA", 2, 1},
      {"FROM a\nRUN x \\\n  && y\nFOO=bar\n", "unknown instruction: FOO=BAR", 4, 1},
      {"# escape=x\nFROM a\n", "invalid escape token 'x' does not match ` or \\", 1, 10},
      {"# escape=\\\n# escape=`\nFROM a\n", "only one escape parser directive can be used", 2, 1},
      {"# syntax=a\n# syntax=b\nFROM a\n", "only one syntax parser directive can be used", 2, 1},
      {"# check=a\n#CHECK=b\nFROM a\n", "only one check parser directive can be used", 2, 1},
      {"FROM a\nRUN\n", "RUN requires at least one argument", 2, 1},
      {"FROM\n", "FROM requires at least one argument", 1, 1},
      {"FROM a\nRUN --mount=type=cache,target=/x\n", "RUN requires at least one argument", 2, 1},
      {"FROM a\nEXPOSE \\\n\n", "EXPOSE requires at least one argument", 2, 1},
      {"FROM a\nENV A\n", "ENV must have two arguments", 2, 5},
      {"FROM a\nLABEL only-key\n", "LABEL must have two arguments", 2, 7},
      {"FROM a\nENV A=1 B\n", "Syntax error - can't find = in \"B\"", 2, 9},
      {"FROM a\nENV =x\n", "ENV names can not be blank", 2, 5},
      {"FROM a\nARG A=1 =2\n", "ARG names can not be blank", 2, 9},
      {"FROM a\nSHELL /bin/sh -c\n", "SHELL requires the arguments to be in JSON form", 2, 7},
      {"FROM a\nSHELL []\n", "SHELL requires at least one argument", 2, 1},
      {"FROM a\nCMD [\"a\", 1]\n",
       "when using JSON array syntax, arrays must be comprised of strings only", 2, 5},
      {"FROM a\nCOPY /only\n", "COPY requires at least two arguments", 2, 1},
      {"FROM a\nADD [\"x\"]\n", "ADD requires at least two arguments", 2, 1},
      {"FROM a\nRUN <<EOF\necho\n", "unterminated heredoc", 2, 5},
      {"FROM a\nRUN <<A <<B\na\nA\nb\n", "unterminated heredoc", 2, 9},
      {"FROM a\nRUN <<\"EOF\ncat\n", "unterminated quote in heredoc delimiter", 2, 5},
      {"FROM a\nONBUILD ONBUILD RUN x\n", "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed", 2,
       9},
      {"FROM a\nONBUILD FROM b\n", "FROM isn't allowed as an ONBUILD trigger", 2, 9},
      {"FROM a\nonbuild maintainer me\n", "MAINTAINER isn't allowed as an ONBUILD trigger", 2, 9},
      {"FROM a\nONBUILD\n", "ONBUILD requires at least one argument", 2, 1},
      {"FROM a\nONBUILD COPPY x y\n", "unknown instruction: COPPY (did you mean COPY?)", 2, 9},
      {"FROM a\nHEALTHCHECK PING x\n", "Unknown type \"PING\" in HEALTHCHECK (try CMD)", 2, 13},
      {"FROM a\nHEALTHCHECK NONE x\n", "HEALTHCHECK NONE takes no arguments", 2, 18},
      {"FROM a\nHEALTHCHECK --interval=1s CMD\n", "Missing command after HEALTHCHECK CMD", 2, 30},
      {"FROM a\nHEALTHCHECK CMD []\n", "Missing command after HEALTHCHECK CMD", 2, 17},
      {"# only a comment\n\n", "file with no instructions", 0, 0},
      {"", "file with no instructions", 0, 0},
  };
  for (const MalformedCase& c : cases) {
    INFO(c.text);
    const DockerfileError error = ParseError(c.text);
    CHECK_THAT(error.message(), Catch::Contains(c.message));
    CHECK(error.location().file == "Dockerfile");
    CHECK(error.location().line == c.line);
    CHECK(error.location().column == c.column);
  }
}

TEST_CASE("errors inside continuations point at the physical line", "[parser]") {
  const DockerfileError error = ParseError("FROM a\nENV A=1 \\\n    B=2 \\\n    C\n");
  CHECK_THAT(error.message(), Catch::Contains("can't find = in \"C\""));
  CHECK(error.location().line == 4);
  CHECK(error.location().column == 5);
  // The report carries the source line and a caret under the column.
  CHECK_THAT(std::string(error.what()), Catch::Contains(" 4 |     C\n   |     ^"));
}

}  // namespace
}  // namespace kiln
