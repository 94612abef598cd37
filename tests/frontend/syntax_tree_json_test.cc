#include "frontend/syntax_tree_json.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "frontend/parser.h"

namespace kiln {
namespace {

using nlohmann::json;

TEST_CASE("syntax tree JSON has the documented shape", "[syntax_tree_json]") {
  const SyntaxTree tree = ParseDockerfile(
      "# syntax=docker/dockerfile:1\n"
      "FROM golang AS build\n"
      "COPY --from=build \\\n"
      "  /out /dst\n"
      "ENV A=\"x y\" B=1\n"
      "LABEL legacy value here\n"
      "RUN <<-'EOF'\n"
      "\techo $A\n"
      "\tEOF\n"
      "CMD [\"app\"]\n"
      "ONBUILD RUN make\n");
  const json expected = json::parse(R"({
    "directives": {"escape": "\\", "syntax": "docker/dockerfile:1", "check": null},
    "instructions": [
      {"instruction": "FROM", "line": 2, "end_line": 2, "column": 1, "flags": [],
       "form": "words", "args": ["golang", "AS", "build"]},
      {"instruction": "COPY", "line": 3, "end_line": 4, "column": 1, "flags": ["--from=build"],
       "form": "words", "args": ["/out", "/dst"]},
      {"instruction": "ENV", "line": 5, "end_line": 5, "column": 1, "flags": [],
       "form": "pairs", "args": [],
       "pairs": [{"key": "A", "value": "\"x y\"", "legacy": false},
                 {"key": "B", "value": "1", "legacy": false}]},
      {"instruction": "LABEL", "line": 6, "end_line": 6, "column": 1, "flags": [],
       "form": "pairs", "args": [],
       "pairs": [{"key": "legacy", "value": "value here", "legacy": true}]},
      {"instruction": "RUN", "line": 7, "end_line": 9, "column": 1, "flags": [],
       "form": "shell", "args": ["<<-'EOF'"],
       "heredocs": [{"name": "EOF", "content": "echo $A\n", "expand": false, "chomp": true}]},
      {"instruction": "CMD", "line": 10, "end_line": 10, "column": 1, "flags": [],
       "form": "exec", "args": ["app"]},
      {"instruction": "ONBUILD", "line": 11, "end_line": 11, "column": 1, "flags": [],
       "form": "shell", "args": ["RUN make"],
       "onbuild": {"instruction": "RUN", "line": 11, "end_line": 11, "column": 9, "flags": [],
                   "form": "shell", "args": ["make"]}}
    ]
  })");
  const json actual = SyntaxTreeToJson(tree);
  INFO(actual.dump(2));
  CHECK(actual == expected);
}

TEST_CASE("escape and check directives in JSON", "[syntax_tree_json]") {
  const json j = SyntaxTreeToJson(ParseDockerfile("# escape=`\n# check=skip=all\nFROM a\n"));
  CHECK(j["directives"] == json{{"escape", "`"}, {"syntax", nullptr}, {"check", "skip=all"}});
}

TEST_CASE("the ordered rendering keeps the documented key order", "[syntax_tree_json]") {
  const SyntaxTree tree = ParseDockerfile("ONBUILD ENV A=1\n");
  const nlohmann::ordered_json ordered = SyntaxTreeToOrderedJson(tree);
  CHECK(json::parse(ordered.dump()) == SyntaxTreeToJson(tree));
  std::vector<std::string> keys;
  for (const auto& item : ordered.items()) keys.push_back(item.key());
  CHECK(keys == std::vector<std::string>{"directives", "instructions"});
  keys.clear();
  for (const auto& item : ordered["instructions"][0]["onbuild"].items()) keys.push_back(item.key());
  CHECK(keys == std::vector<std::string>{"instruction", "line", "end_line", "column", "flags",
                                         "form", "args", "pairs"});
}

TEST_CASE("the text rendering is the ordered JSON dumped, with a newline", "[syntax_tree_json]") {
  const SyntaxTree tree = ParseDockerfile(
      "# syntax=docker/dockerfile:1\n"
      "FROM golang AS build\n"
      "ENV A=\"x y\" B=1\n"
      "RUN <<-'EOF'\n"
      "\techo \"$A\" \\\n"
      "\tEOF\n"
      "ONBUILD COPY --link a b\n"
      "CMD []\n");
  for (int indent : {-1, 2}) {
    INFO("indent " << indent);
    CHECK(SyntaxTreeToJsonText(tree, indent) == SyntaxTreeToOrderedJson(tree).dump(indent) + "\n");
  }
  CHECK(json::parse(SyntaxTreeToJsonText(tree, 2)) == SyntaxTreeToJson(tree));
}

TEST_CASE("the text rendering replaces bytes that are not UTF-8", "[syntax_tree_json]") {
  const SyntaxTree tree = ParseDockerfile("FROM a\nRUN echo caf\xE9\n");
  const json j = json::parse(SyntaxTreeToJsonText(tree));
  CHECK(j["instructions"][1]["args"] == json({"echo caf\xEF\xBF\xBD"}));
}

TEST_CASE("form names", "[syntax_tree_json]") {
  CHECK(ArgFormName(ArgForm::kShell) == "shell");
  CHECK(ArgFormName(ArgForm::kExec) == "exec");
  CHECK(ArgFormName(ArgForm::kWords) == "words");
  CHECK(ArgFormName(ArgForm::kPairs) == "pairs");
}

TEST_CASE("optional keys appear only when they apply", "[syntax_tree_json]") {
  const json run = NodeToJson(ParseDockerfile("RUN x\n").instructions[0]);
  CHECK_FALSE(run.contains("pairs"));
  CHECK_FALSE(run.contains("heredocs"));
  CHECK_FALSE(run.contains("onbuild"));
  // ENV always has pairs, even through ONBUILD.
  const json onbuild = NodeToJson(ParseDockerfile("ONBUILD ENV A=1\n").instructions[0]);
  CHECK_FALSE(onbuild.contains("pairs"));
  CHECK(onbuild["onbuild"]["pairs"].size() == 1);
}

}  // namespace
}  // namespace kiln
