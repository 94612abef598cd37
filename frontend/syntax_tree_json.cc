#include "frontend/syntax_tree_json.h"

#include <string>

#include "frontend/json_writer.h"

namespace kiln {
namespace {

void WriteOptional(const std::optional<std::string>& value, JsonWriter& out) {
  if (value)
    out.String(*value);
  else
    out.Null();
}

// The one description of the document: the nlohmann forms are parsed from this text.
void WriteNode(const Node& node, JsonWriter& out) {
  out.BeginObject();
  out.Key("instruction");
  out.String(node.instruction);
  out.Key("line");
  out.Int(node.line);
  out.Key("end_line");
  out.Int(node.end_line);
  out.Key("column");
  out.Int(node.column);
  out.Key("flags");
  out.Strings(node.flags);
  out.Key("form");
  out.String(ArgFormName(node.form));
  out.Key("args");
  out.Strings(node.args);
  if (node.instruction == "ENV" || node.instruction == "LABEL") {
    out.Key("pairs");
    out.BeginArray();
    for (const KeyValue& pair : node.pairs) {
      out.BeginObject();
      out.Key("key");
      out.String(pair.key);
      out.Key("value");
      out.String(pair.value);
      out.Key("legacy");
      out.Bool(pair.legacy);
      out.EndObject();
    }
    out.EndArray();
  }
  if (!node.heredocs.empty()) {
    out.Key("heredocs");
    out.BeginArray();
    for (const Heredoc& heredoc : node.heredocs) {
      out.BeginObject();
      out.Key("name");
      out.String(heredoc.name);
      out.Key("content");
      out.String(heredoc.content);
      out.Key("expand");
      out.Bool(heredoc.expand);
      out.Key("chomp");
      out.Bool(heredoc.chomp);
      out.EndObject();
    }
    out.EndArray();
  }
  if (node.onbuild) {
    out.Key("onbuild");
    WriteNode(*node.onbuild, out);
  }
  out.EndObject();
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

namespace {

void WriteTree(const SyntaxTree& tree, JsonWriter& out) {
  out.BeginObject();
  out.Key("directives");
  out.BeginObject();
  out.Key("escape");
  out.String(std::string(1, tree.directives.escape));
  out.Key("syntax");
  WriteOptional(tree.directives.syntax, out);
  out.Key("check");
  WriteOptional(tree.directives.check, out);
  out.EndObject();
  out.Key("instructions");
  out.BeginArray();
  for (const Node& node : tree.instructions) WriteNode(node, out);
  out.EndArray();
  out.EndObject();
}

}  // namespace

std::string SyntaxTreeToJsonText(const SyntaxTree& tree, int indent) {
  std::string text;
  JsonWriter out(&text, indent);
  WriteTree(tree, out);
  return text;
}

void WriteSyntaxTreeJson(const SyntaxTree& tree, int indent, std::FILE* file) {
  JsonWriter out(file, indent);
  WriteTree(tree, out);
}

nlohmann::json NodeToJson(const Node& node) {
  std::string text;
  JsonWriter out(&text);
  WriteNode(node, out);
  return nlohmann::json::parse(text);
}

nlohmann::json SyntaxTreeToJson(const SyntaxTree& tree) {
  return nlohmann::json::parse(SyntaxTreeToJsonText(tree));
}

nlohmann::ordered_json SyntaxTreeToOrderedJson(const SyntaxTree& tree) {
  return nlohmann::ordered_json::parse(SyntaxTreeToJsonText(tree));
}

}  // namespace kiln
