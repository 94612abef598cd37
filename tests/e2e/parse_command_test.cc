// End-to-end tests of `kiln parse`: the built program, real files, exit codes and output.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/e2e/e2e_support.h"

namespace kiln::e2e {
namespace {
namespace fs = std::filesystem;

/// Runs `kiln parse ARGS` with `input` on its standard input.
CommandResult Parse(const std::vector<std::string>& args, const std::string& input = "") {
  std::vector<std::string> argv = {KILN_BINARY, "parse"};
  argv.insert(argv.end(), args.begin(), args.end());
  return Run(argv, {}, input);
}

TEST_CASE("kiln parse --json prints the syntax tree of the heredoc corpus", "[e2e][parse]") {
  const CommandResult r =
      Parse({"--json", std::string(KILN_TEST_DATA_DIR) + "/corpus/heredocs.Dockerfile"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const nlohmann::json tree = nlohmann::json::parse(r.out);
  CHECK(tree["directives"]["syntax"] == "docker/dockerfile:1");
  CHECK(tree["directives"]["escape"] == "\\");
  CHECK(tree["directives"]["check"].is_null());
  const nlohmann::json& instructions = tree["instructions"];
  REQUIRE(instructions.size() >= 2);
  CHECK(instructions[0]["instruction"] == "FROM");
  CHECK(instructions[0]["line"] == 3);
  // The COPY that writes two files from heredocs.
  const nlohmann::json* copy = nullptr;
  for (const nlohmann::json& node : instructions)
    if (node.contains("heredocs") && node["heredocs"].size() == 2) copy = &node;
  REQUIRE(copy != nullptr);
  CHECK((*copy)["instruction"] == "COPY");
  CHECK((*copy)["args"] ==
        nlohmann::json({"<<robots.txt", "<<humans.txt", "/usr/share/nginx/html/"}));
  CHECK((*copy)["heredocs"][0]["content"] == "User-agent: *\nDisallow: /admin\n");
  CHECK((*copy)["heredocs"][1]["name"] == "humans.txt");
  CHECK(instructions.back()["form"] == "exec");
  // Indented by 2, as documented.
  CHECK(r.out.rfind("{\n  \"directives\": {\n    ", 0) == 0);
}

TEST_CASE("kiln parse prints a readable tree", "[e2e][parse]") {
  TempDir dir;
  const fs::path file = dir / "Dockerfile";
  WriteFile(file,
            "FROM alpine AS build\n"
            "COPY --from=build \\\n"
            "  a b /dst\n"
            "ONBUILD RUN <<EOF\n"
            "echo hi\n"
            "EOF\n");
  const CommandResult r = Parse({file.string()});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Contains("1 FROM words: alpine AS build\n"));
  CHECK_THAT(r.out, Catch::Contains("2-3 COPY [--from=build] words: a b /dst\n"));
  CHECK_THAT(r.out, Catch::Contains("4-6 ONBUILD shell: RUN <<EOF\n"));
  CHECK_THAT(r.out, Catch::Contains("    4-6 RUN shell: <<EOF\n"));
  CHECK_THAT(r.out, Catch::Contains("| echo hi\n"));
}

TEST_CASE("kiln parse reads standard input with -", "[e2e][parse]") {
  const CommandResult r = Parse({"--json", "-"}, "# escape=`\nFROM a\nRUN echo `\n  hi\n");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const nlohmann::json tree = nlohmann::json::parse(r.out);
  CHECK(tree["directives"]["escape"] == "`");
  CHECK(tree["instructions"][1]["args"] == nlohmann::json({"echo   hi"}));
  CHECK(tree["instructions"][1]["end_line"] == 4);
}

TEST_CASE("kiln parse --json shows text that is not UTF-8 with U+FFFD", "[e2e][parse]") {
  TempDir dir;
  WriteFile(dir / "Dockerfile", "FROM a\nRUN echo caf\xE9\n");
  const CommandResult r = Parse({"--json", (dir / "Dockerfile").string()});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const nlohmann::json tree = nlohmann::json::parse(r.out);
  CHECK(tree["instructions"][1]["args"] == nlohmann::json({"echo caf\xEF\xBF\xBD"}));
}

TEST_CASE("kiln parse reports Dockerfile errors with place and caret", "[e2e][parse]") {
  TempDir dir;
  const fs::path file = dir / "Dockerfile";
  WriteFile(file, "FROM a\nCOPPY . /app\n");
  const CommandResult r = Parse({"--json", file.string()});
  CHECK(r.exit_code == 1);
  CHECK(r.out.empty());
  CHECK_THAT(r.err, Catch::StartsWith("Error: " + file.string() + ":2:1: "));
  CHECK_THAT(r.err, Catch::Contains("unknown instruction: COPPY (did you mean COPY?)"));
  CHECK_THAT(r.err, Catch::Contains(" 2 | COPPY . /app\n   | ^"));

  const fs::path heredoc = dir / "Heredoc";
  WriteFile(heredoc, "FROM a\nRUN <<EOF\necho\n");
  const CommandResult unterminated = Parse({heredoc.string()});
  CHECK(unterminated.exit_code == 1);
  CHECK_THAT(unterminated.err, Catch::Contains(":2:5: unterminated heredoc"));
}

TEST_CASE("kiln parse usage errors", "[e2e][parse]") {
  TempDir dir;
  struct Case {
    std::vector<std::string> args;
    int exit_code;
    std::string err;
  };
  const Case cases[] = {
      {{}, 2, "Usage:  kiln parse [--json] FILE"},
      {{"--json"}, 2, "requires exactly 1 argument"},
      {{"--bogus", "Dockerfile"}, 2, "unknown flag: --bogus"},
      {{"a", "b"}, 2, "requires exactly 1 argument"},
      {{(dir / "missing").string()}, 1, "Error: cannot read"},
  };
  for (const Case& c : cases) {
    INFO(Catch::Detail::stringify(c.args));
    const CommandResult r = Parse(c.args);
    CHECK(r.exit_code == c.exit_code);
    CHECK_THAT(r.err, Catch::Contains(c.err));
  }
  const CommandResult help = Parse({"--help"});
  CHECK(help.exit_code == 0);
  CHECK_THAT(help.out, Catch::Contains("Usage:  kiln parse [--json] FILE"));
}

}  // namespace
}  // namespace kiln::e2e
