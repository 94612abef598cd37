#include "frontend/syntax_tree_json.h"

#include <string>

namespace kiln {
namespace {

template <typename Json>
Json OptionalToJson(const std::optional<std::string>& value) {
  return value ? Json(*value) : Json(nullptr);
}

// One implementation for both key orders: sorted for comparisons, as written for people.
template <typename Json>
Json NodeTo(const Node& node) {
  Json out = Json::object();
  out["instruction"] = node.instruction;
  out["line"] = node.line;
  out["end_line"] = node.end_line;
  out["column"] = node.column;
  out["flags"] = node.flags;
  out["form"] = ArgFormName(node.form);
  out["args"] = node.args;
  if (node.instruction == "ENV" || node.instruction == "LABEL") {
    Json pairs = Json::array();
    for (const KeyValue& pair : node.pairs) {
      Json p = Json::object();
      p["key"] = pair.key;
      p["value"] = pair.value;
      p["legacy"] = pair.legacy;
      pairs.push_back(std::move(p));
    }
    out["pairs"] = std::move(pairs);
  }
  if (!node.heredocs.empty()) {
    Json heredocs = Json::array();
    for (const Heredoc& heredoc : node.heredocs) {
      Json h = Json::object();
      h["name"] = heredoc.name;
      h["content"] = heredoc.content;
      h["expand"] = heredoc.expand;
      h["chomp"] = heredoc.chomp;
      heredocs.push_back(std::move(h));
    }
    out["heredocs"] = std::move(heredocs);
  }
  if (node.onbuild) out["onbuild"] = NodeTo<Json>(*node.onbuild);
  return out;
}

template <typename Json>
Json TreeTo(const SyntaxTree& tree) {
  Json directives = Json::object();
  directives["escape"] = std::string(1, tree.directives.escape);
  directives["syntax"] = OptionalToJson<Json>(tree.directives.syntax);
  directives["check"] = OptionalToJson<Json>(tree.directives.check);
  Json instructions = Json::array();
  for (const Node& node : tree.instructions) instructions.push_back(NodeTo<Json>(node));
  Json out = Json::object();
  out["directives"] = std::move(directives);
  out["instructions"] = std::move(instructions);
  return out;
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
  return NodeTo<nlohmann::json>(node);
}

nlohmann::json SyntaxTreeToJson(const SyntaxTree& tree) {
  return TreeTo<nlohmann::json>(tree);
}

nlohmann::ordered_json SyntaxTreeToOrderedJson(const SyntaxTree& tree) {
  return TreeTo<nlohmann::ordered_json>(tree);
}

}  // namespace kiln
