#include "frontend/syntax_tree_json.h"

#include <string>

namespace kiln {
namespace {

using nlohmann::ordered_json;

ordered_json OptionalToJson(const std::optional<std::string>& value) {
  return value ? ordered_json(*value) : ordered_json(nullptr);
}

ordered_json PairsToJson(const std::vector<KeyValue>& pairs) {
  ordered_json out = ordered_json::array();
  for (const KeyValue& pair : pairs)
    out.push_back({{"key", pair.key}, {"value", pair.value}, {"legacy", pair.legacy}});
  return out;
}

ordered_json HeredocsToJson(const std::vector<Heredoc>& heredocs) {
  ordered_json out = ordered_json::array();
  for (const Heredoc& heredoc : heredocs)
    out.push_back({{"name", heredoc.name},
                   {"content", heredoc.content},
                   {"expand", heredoc.expand},
                   {"chomp", heredoc.chomp}});
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

ordered_json NodeToOrderedJson(const Node& node) {
  ordered_json out = {{"instruction", node.instruction},
                      {"line", node.line},
                      {"end_line", node.end_line},
                      {"column", node.column},
                      {"flags", node.flags},
                      {"form", ArgFormName(node.form)},
                      {"args", node.args}};
  if (node.instruction == "ENV" || node.instruction == "LABEL")
    out.emplace("pairs", PairsToJson(node.pairs));
  if (!node.heredocs.empty()) out.emplace("heredocs", HeredocsToJson(node.heredocs));
  if (node.onbuild) out.emplace("onbuild", NodeToOrderedJson(*node.onbuild));
  return out;
}

ordered_json SyntaxTreeToOrderedJson(const SyntaxTree& tree) {
  ordered_json instructions = ordered_json::array();
  instructions.get_ref<ordered_json::array_t&>().reserve(tree.instructions.size());
  for (const Node& node : tree.instructions) instructions.push_back(NodeToOrderedJson(node));
  return {{"directives",
           {{"escape", std::string(1, tree.directives.escape)},
            {"syntax", OptionalToJson(tree.directives.syntax)},
            {"check", OptionalToJson(tree.directives.check)}}},
          {"instructions", std::move(instructions)}};
}

nlohmann::json NodeToJson(const Node& node) {
  return nlohmann::json(NodeToOrderedJson(node));
}

nlohmann::json SyntaxTreeToJson(const SyntaxTree& tree) {
  return nlohmann::json(SyntaxTreeToOrderedJson(tree));
}

std::string SyntaxTreeToJsonText(const SyntaxTree& tree, int indent) {
  return SyntaxTreeToOrderedJson(tree).dump(indent, ' ', false,
                                            ordered_json::error_handler_t::replace) +
         "\n";
}

}  // namespace kiln
