#include "frontend/syntax_tree_json.h"

#include <string>

#include "frontend/json_text.h"

namespace kiln {
namespace {

using nlohmann::ordered_json;

ordered_json OptionalToJson(const std::optional<std::string>& value) {
  return value ? ordered_json(*value) : ordered_json(nullptr);
}

/// Builds an object member by member, in the order given. Cheaper than an initializer list of
/// pairs, which copies each member once more: a large tree has many small objects.
class Object {
 public:
  Object& Add(const char* key, ordered_json value) {
    object_.Container::emplace_back(key, std::move(value));  // keys known to be new
    return *this;
  }
  ordered_json Done() { return ordered_json(std::move(object_)); }

 private:
  ordered_json::object_t object_;
};

ordered_json PairsToJson(const std::vector<KeyValue>& pairs) {
  ordered_json out = ordered_json::array();
  for (const KeyValue& pair : pairs)
    out.push_back(
        Object().Add("key", pair.key).Add("value", pair.value).Add("legacy", pair.legacy).Done());
  return out;
}

ordered_json HeredocsToJson(const std::vector<Heredoc>& heredocs) {
  ordered_json out = ordered_json::array();
  for (const Heredoc& heredoc : heredocs)
    out.push_back(Object()
                      .Add("name", heredoc.name)
                      .Add("content", heredoc.content)
                      .Add("expand", heredoc.expand)
                      .Add("chomp", heredoc.chomp)
                      .Done());
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
  Object out;
  out.Add("instruction", node.instruction)
      .Add("line", node.line)
      .Add("end_line", node.end_line)
      .Add("column", node.column)
      .Add("flags", node.flags)
      .Add("form", ArgFormName(node.form))
      .Add("args", node.args);
  if (node.instruction == "ENV" || node.instruction == "LABEL")
    out.Add("pairs", PairsToJson(node.pairs));
  if (!node.heredocs.empty()) out.Add("heredocs", HeredocsToJson(node.heredocs));
  if (node.onbuild) out.Add("onbuild", NodeToOrderedJson(*node.onbuild));
  return out.Done();
}

namespace {

/// The document with an empty "instructions".
ordered_json TreeWithoutInstructions(const SyntaxTree& tree) {
  return Object()
      .Add("directives", Object()
                             .Add("escape", std::string(1, tree.directives.escape))
                             .Add("syntax", OptionalToJson(tree.directives.syntax))
                             .Add("check", OptionalToJson(tree.directives.check))
                             .Done())
      .Add("instructions", ordered_json::array())
      .Done();
}

}  // namespace

ordered_json SyntaxTreeToOrderedJson(const SyntaxTree& tree) {
  ordered_json document = TreeWithoutInstructions(tree);
  ordered_json& instructions = document["instructions"];
  for (const Node& node : tree.instructions) instructions.push_back(NodeToOrderedJson(node));
  return document;
}

nlohmann::json NodeToJson(const Node& node) {
  return nlohmann::json(NodeToOrderedJson(node));
}

nlohmann::json SyntaxTreeToJson(const SyntaxTree& tree) {
  return nlohmann::json(SyntaxTreeToOrderedJson(tree));
}

void WriteSyntaxTreeJson(const SyntaxTree& tree, int indent,
                         const std::function<void(std::string_view)>& out) {
  const auto node = [&tree](size_t i) { return NodeToOrderedJson(tree.instructions[i]); };
  DumpWithLargeArray(TreeWithoutInstructions(tree), "instructions", tree.instructions.size(), node,
                     indent, out);
  out("\n");
}

std::string SyntaxTreeToJsonText(const SyntaxTree& tree, int indent) {
  std::string text;
  WriteSyntaxTreeJson(tree, indent, [&text](std::string_view piece) { text.append(piece); });
  return text;
}

}  // namespace kiln
