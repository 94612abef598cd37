// End-to-end tests of `kiln parse`: the built program, real files, exit codes and output.
#include <sys/wait.h>

#include <unistd.h>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

namespace {

namespace fs = std::filesystem;

struct Result {
  int exit_code = -1;
  std::string out;
  std::string err;
};

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

/// A scratch directory removed at the end of the test.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "kiln-parse-e2e-XXXXXX").string();
    REQUIRE(mkdtemp(pattern.data()) != nullptr);
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  const fs::path& path() const { return path_; }

  fs::path Write(const std::string& name, const std::string& content) const {
    const fs::path file = path_ / name;
    std::ofstream(file, std::ios::binary) << content;
    return file;
  }

  /// Runs `kiln <args>` through the shell; `args` is shell text.
  Result Kiln(const std::string& args) const {
    const fs::path out = path_ / "stdout", err = path_ / "stderr";
    const std::string command =
        std::string(KILN_BINARY) + " " + args + " >" + out.string() + " 2>" + err.string();
    const int status = std::system(command.c_str());
    Result r;
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.out = ReadFile(out);
    r.err = ReadFile(err);
    return r;
  }

 private:
  fs::path path_;
};

TEST_CASE("kiln parse --json prints the syntax tree of the heredoc corpus", "[e2e][parse]") {
  TempDir dir;
  const Result r =
      dir.Kiln("parse --json " + std::string(KILN_TEST_DATA_DIR) + "/corpus/heredocs.Dockerfile");
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
  const fs::path file = dir.Write("Dockerfile",
                                  "FROM alpine AS build\n"
                                  "COPY --from=build \\\n"
                                  "  a b /dst\n"
                                  "ONBUILD RUN <<EOF\n"
                                  "echo hi\n"
                                  "EOF\n");
  const Result r = dir.Kiln("parse " + file.string());
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Contains("1 FROM words: alpine AS build\n"));
  CHECK_THAT(r.out, Catch::Contains("2-3 COPY [--from=build] words: a b /dst\n"));
  CHECK_THAT(r.out, Catch::Contains("4-6 ONBUILD shell: RUN <<EOF\n"));
  CHECK_THAT(r.out, Catch::Contains("    4-6 RUN shell: <<EOF\n"));
  CHECK_THAT(r.out, Catch::Contains("| echo hi\n"));
}

TEST_CASE("kiln parse reads standard input with -", "[e2e][parse]") {
  TempDir dir;
  const fs::path file = dir.Write("in", "# escape=`\nFROM a\nRUN echo `\n  hi\n");
  const Result r = dir.Kiln("parse --json - <" + file.string());
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const nlohmann::json tree = nlohmann::json::parse(r.out);
  CHECK(tree["directives"]["escape"] == "`");
  CHECK(tree["instructions"][1]["args"] == nlohmann::json({"echo   hi"}));
  CHECK(tree["instructions"][1]["end_line"] == 4);
}

TEST_CASE("kiln parse --json shows text that is not UTF-8 with U+FFFD", "[e2e][parse]") {
  TempDir dir;
  const fs::path file = dir.Write("Dockerfile", "FROM a\nRUN echo caf\xE9\n");
  const Result r = dir.Kiln("parse --json " + file.string());
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const nlohmann::json tree = nlohmann::json::parse(r.out);
  CHECK(tree["instructions"][1]["args"] == nlohmann::json({"echo caf\xEF\xBF\xBD"}));
}

TEST_CASE("kiln parse reports Dockerfile errors with place and caret", "[e2e][parse]") {
  TempDir dir;
  const fs::path file = dir.Write("Dockerfile", "FROM a\nCOPPY . /app\n");
  const Result r = dir.Kiln("parse --json " + file.string());
  CHECK(r.exit_code == 1);
  CHECK(r.out.empty());
  CHECK_THAT(r.err, Catch::StartsWith("Error: " + file.string() + ":2:1: "));
  CHECK_THAT(r.err, Catch::Contains("unknown instruction: COPPY (did you mean COPY?)"));
  CHECK_THAT(r.err, Catch::Contains(" 2 | COPPY . /app\n   | ^"));

  const fs::path heredoc = dir.Write("Heredoc", "FROM a\nRUN <<EOF\necho\n");
  const Result unterminated = dir.Kiln("parse " + heredoc.string());
  CHECK(unterminated.exit_code == 1);
  CHECK_THAT(unterminated.err, Catch::Contains(":2:5: unterminated heredoc"));
}

TEST_CASE("kiln parse usage errors", "[e2e][parse]") {
  TempDir dir;
  struct Case {
    std::string args;
    int exit_code;
    std::string err;
  };
  const Case cases[] = {
      {"parse", 2, "Usage:  kiln parse [--json] FILE"},
      {"parse --json", 2, "requires exactly 1 argument"},
      {"parse --bogus Dockerfile", 2, "unknown flag: --bogus"},
      {"parse a b", 2, "requires exactly 1 argument"},
      {"parse " + (dir.path() / "missing").string(), 1, "Error: cannot read"},
  };
  for (const Case& c : cases) {
    INFO(c.args);
    const Result r = dir.Kiln(c.args);
    CHECK(r.exit_code == c.exit_code);
    CHECK_THAT(r.err, Catch::Contains(c.err));
  }
  const Result help = dir.Kiln("parse --help");
  CHECK(help.exit_code == 0);
  CHECK_THAT(help.out, Catch::Contains("Usage:  kiln parse [--json] FILE"));
}

}  // namespace
