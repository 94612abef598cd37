#include "frontend/syntax_tree_json.h"

#include <string>

namespace kiln {
namespace {

nlohmann::json OptionalToJson(const std::optional<std::string>& value) {
  return value ? nlohmann::json(*value) : nlohmann::json(nullptr);
}

}  // namespace

std::string_view ArgFormName(ArgForm form) {
  switch (form) {
    case ArgForm::kShell:
      return "shell";
    case ArgForm::kExec:
      return "exec";
    case ArgForm::kWords:
      return "words";
    case ArgForm::kPairs:
      return "pairs";
  }
  return "shell";
}

nlohmann::json NodeToJson(const Node& node) {
  nlohmann::json out = {
      {"instruction", node.instruction},
      {"line", node.line},
      {"end_line", node.end_line},
      {"column", node.column},
      {"flags", node.flags},
      {"form", ArgFormName(node.form)},
      {"args", node.args},
  };
  if (node.instruction == "ENV" || node.instruction == "LABEL") {
    nlohmann::json pairs = nlohmann::json::array();
    for (const KeyValue& pair : node.pairs)
      pairs.push_back({{"key", pair.key}, {"value", pair.value}, {"legacy", pair.legacy}});
    out["pairs"] = std::move(pairs);
  }
  if (!node.heredocs.empty()) {
    nlohmann::json heredocs = nlohmann::json::array();
    for (const Heredoc& heredoc : node.heredocs)
      heredocs.push_back({{"name", heredoc.name},
                          {"content", heredoc.content},
                          {"expand", heredoc.expand},
                          {"chomp", heredoc.chomp}});
    out["heredocs"] = std::move(heredocs);
  }
  if (node.onbuild) out["onbuild"] = NodeToJson(*node.onbuild);
  return out;
}

nlohmann::json SyntaxTreeToJson(const SyntaxTree& tree) {
  nlohmann::json instructions = nlohmann::json::array();
  for (const Node& node : tree.instructions) instructions.push_back(NodeToJson(node));
  return {
      {"directives",
       {{"escape", std::string(1, tree.directives.escape)},
        {"syntax", OptionalToJson(tree.directives.syntax)},
        {"check", OptionalToJson(tree.directives.check)}}},
      {"instructions", std::move(instructions)},
  };
}

}  // namespace kiln
