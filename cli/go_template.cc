#include "cli/go_template.h"

#include <algorithm>
#include <cctype>
#include <functional>
#include <map>

#include "cli/image_format.h"

namespace kiln::cli {

using nlohmann::json;

namespace {

const json kMissing = json(json::value_t::discarded);

/// One operand of a command: a field chain (".A.B", "." is an empty chain), a literal, a
/// function name, or a parenthesized pipeline.
struct Operand {
  enum Kind { kField, kLiteral, kFunction } kind = kField;
  std::vector<std::string> fields;
  json literal;
  std::string function;
};
using Command = std::vector<Operand>;
using Pipeline = std::vector<Command>;

[[noreturn]] void Fail(const std::string& message) {
  throw TemplateError("template: " + message);
}

std::string Print(const json& v);

std::string PrintElement(const json& v) {
  return Print(v);
}

std::string Print(const json& v) {
  if (v.is_discarded()) return "<no value>";
  if (v.is_null()) return "<nil>";
  if (v.is_string()) return v.get<std::string>();
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  if (v.is_number_integer() || v.is_number_unsigned()) return v.dump();
  if (v.is_number_float()) {
    const double d = v.get<double>();
    if (d == static_cast<double>(static_cast<int64_t>(d)) && std::abs(d) < 1e21) {
      char buf[64];
      std::snprintf(buf, sizeof buf, "%.*g", d >= 1e6 || d <= -1e6 ? 6 : 17, d);
      return buf;
    }
    return v.dump();
  }
  std::string out;
  if (v.is_array()) {
    out = "[";
    for (size_t i = 0; i < v.size(); ++i) out += (i ? " " : "") + PrintElement(v[i]);
    return out + "]";
  }
  out = "map[";
  bool first = true;
  for (const auto& [k, e] : v.items()) {
    out += (first ? "" : " ") + k + ":" + PrintElement(e);
    first = false;
  }
  return out + "]";
}

bool Truth(const json& v) {
  if (v.is_discarded() || v.is_null()) return false;
  if (v.is_boolean()) return v.get<bool>();
  if (v.is_string()) return !v.get_ref<const std::string&>().empty();
  if (v.is_array() || v.is_object()) return !v.empty();
  if (v.is_number_float()) return v.get<double>() != 0;
  if (v.is_number()) return v.get<int64_t>() != 0;
  return true;
}

}  // namespace

struct GoTemplate::Node {
  enum Kind { kText, kAction, kIf, kRange } kind = kText;
  std::string text;
  Pipeline pipeline;
  std::vector<std::unique_ptr<Node>> body;
  std::vector<std::unique_ptr<Node>> else_body;
};

namespace {

using Node = GoTemplate::Node;
using NodeList = std::vector<std::unique_ptr<Node>>;

/// Splits an action's text into tokens: strings (kept with their quotes), parentheses, '|', and
/// words.
std::vector<std::string> Tokenize(const std::string& s) {
  std::vector<std::string> tokens;
  size_t i = 0;
  while (i < s.size()) {
    const char c = s[i];
    if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
    } else if (c == '"' || c == '`') {
      size_t j = i + 1;
      while (j < s.size() && s[j] != c) j += (c == '"' && s[j] == '\\') ? 2 : 1;
      if (j >= s.size()) Fail("unterminated quoted string in action: " + s);
      tokens.push_back(s.substr(i, j + 1 - i));
      i = j + 1;
    } else if (c == '|' || c == '(' || c == ')') {
      tokens.emplace_back(1, c);
      ++i;
    } else {
      size_t j = i;
      while (j < s.size() && !std::isspace(static_cast<unsigned char>(s[j])) && s[j] != '|' &&
             s[j] != '(' && s[j] != ')')
        ++j;
      tokens.push_back(s.substr(i, j - i));
      i = j;
    }
  }
  return tokens;
}

json Unquote(const std::string& token) {
  if (token[0] == '`') return token.substr(1, token.size() - 2);
  try {
    return json::parse(token);
  } catch (const json::exception&) {
    Fail("malformed string literal: " + token);
  }
}

Operand ParseOperand(const std::string& token) {
  Operand op;
  if (token[0] == '.') {
    op.kind = Operand::kField;
    size_t start = 1;
    while (start < token.size()) {
      size_t dot = token.find('.', start);
      if (dot == std::string::npos) dot = token.size();
      if (dot == start) Fail("bad field name: " + token);
      op.fields.push_back(token.substr(start, dot - start));
      start = dot + 1;
    }
  } else if (token[0] == '"' || token[0] == '`') {
    op.kind = Operand::kLiteral;
    op.literal = Unquote(token);
  } else if (std::isdigit(static_cast<unsigned char>(token[0])) || token[0] == '-') {
    op.kind = Operand::kLiteral;
    try {
      op.literal = json::parse(token);
    } catch (const json::exception&) {
      Fail("bad number syntax: " + token);
    }
  } else if (token == "true" || token == "false" || token == "nil") {
    op.kind = Operand::kLiteral;
    op.literal = token == "nil" ? json(nullptr) : json(token == "true");
  } else if (std::isalpha(static_cast<unsigned char>(token[0]))) {
    op.kind = Operand::kFunction;
    op.function = token;
  } else {
    Fail("unexpected \"" + token + "\" in command");
  }
  return op;
}

Pipeline ParsePipeline(const std::string& text) {
  Pipeline pipeline(1);
  for (const std::string& token : Tokenize(text)) {
    if (token == "(" || token == ")") Fail("parenthesized pipelines are not supported: " + text);
    if (token == "|") {
      if (pipeline.back().empty()) Fail("missing command before '|' in: " + text);
      pipeline.emplace_back();
      continue;
    }
    pipeline.back().push_back(ParseOperand(token));
  }
  if (pipeline.back().empty()) Fail("missing value for command: {{" + text + "}}");
  return pipeline;
}

/// The template's pieces: text and the (trimmed) inside of each {{ }}.
struct Piece {
  bool action;
  std::string text;
};

std::vector<Piece> Lex(const std::string& src) {
  std::vector<Piece> pieces;
  size_t pos = 0;
  while (pos < src.size()) {
    const size_t open = src.find("{{", pos);
    std::string text = src.substr(pos, open == std::string::npos ? std::string::npos : open - pos);
    if (open == std::string::npos) {
      pieces.push_back({false, text});
      break;
    }
    const size_t close = src.find("}}", open + 2);
    if (close == std::string::npos) Fail("unclosed action");
    std::string inner = src.substr(open + 2, close - open - 2);
    if (inner.size() >= 2 && inner[0] == '-' &&
        std::isspace(static_cast<unsigned char>(inner[1]))) {
      inner.erase(0, 1);
      while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())))
        text.pop_back();
    }
    pos = close + 2;
    if (inner.size() >= 2 && inner.back() == '-' &&
        std::isspace(static_cast<unsigned char>(inner[inner.size() - 2]))) {
      inner.pop_back();
      while (pos < src.size() && std::isspace(static_cast<unsigned char>(src[pos]))) ++pos;
    }
    if (!text.empty()) pieces.push_back({false, text});
    const size_t b = inner.find_first_not_of(" \t\r\n");
    const size_t e = inner.find_last_not_of(" \t\r\n");
    pieces.push_back({true, b == std::string::npos ? "" : inner.substr(b, e - b + 1)});
  }
  return pieces;
}

std::string Keyword(const std::string& action) {
  return action.substr(0, action.find(' '));
}

class Parser {
 public:
  explicit Parser(std::vector<Piece> pieces) : pieces_(std::move(pieces)) {}

  NodeList ParseAll() {
    std::string stop;
    NodeList nodes = ParseList(&stop);
    if (!stop.empty()) Fail("unexpected {{" + stop + "}}");
    return nodes;
  }

 private:
  /// Parses until {{end}} or {{else...}} (returned in *stop) or the end of input.
  NodeList ParseList(std::string* stop) {
    NodeList nodes;
    while (next_ < pieces_.size()) {
      const Piece& piece = pieces_[next_++];
      if (!piece.action) {
        auto node = std::make_unique<Node>();
        node->text = piece.text;
        nodes.push_back(std::move(node));
        continue;
      }
      const std::string keyword = Keyword(piece.text);
      if (piece.text.rfind("/*", 0) == 0) continue;  // comment
      if (keyword == "end" || keyword == "else") {
        *stop = piece.text;
        return nodes;
      }
      if (keyword == "if" || keyword == "range") {
        nodes.push_back(ParseBlock(keyword, piece.text.substr(keyword.size())));
        continue;
      }
      if (piece.text.empty()) Fail("missing value for command");
      auto node = std::make_unique<Node>();
      node->kind = Node::kAction;
      node->pipeline = ParsePipeline(piece.text);
      nodes.push_back(std::move(node));
    }
    stop->clear();
    return nodes;
  }

  std::unique_ptr<Node> ParseBlock(const std::string& keyword, const std::string& rest) {
    auto node = std::make_unique<Node>();
    node->kind = keyword == "if" ? Node::kIf : Node::kRange;
    if (rest.find(":=") != std::string::npos) Fail("variables are not supported: " + rest);
    node->pipeline = ParsePipeline(rest);
    std::string stop;
    node->body = ParseList(&stop);
    if (stop.empty()) Fail("unexpected EOF: missing {{end}} for {{" + keyword + "}}");
    if (stop == "else") {
      node->else_body = ParseList(&stop);
    } else if (Keyword(stop) == "else") {
      // {{else if X}} is an {{if}} nested in the else branch, sharing the outer {{end}}.
      const std::string inner = stop.substr(4);
      const size_t b = inner.find_first_not_of(' ');
      const std::string nested = b == std::string::npos ? "" : inner.substr(b);
      if (Keyword(nested) != "if") Fail("unexpected {{" + stop + "}}");
      auto nested_node = std::make_unique<Node>();
      nested_node->kind = Node::kIf;
      nested_node->pipeline = ParsePipeline(nested.substr(2));
      nested_node->body = ParseList(&stop);
      if (stop == "else") nested_node->else_body = ParseList(&stop);
      node->else_body.push_back(std::move(nested_node));
    }
    if (stop != "end") Fail("expected {{end}}, found {{" + stop + "}}");
    return node;
  }

  std::vector<Piece> pieces_;
  size_t next_ = 0;
};

json Field(const json& dot, const std::vector<std::string>& fields) {
  json v = dot;
  for (const std::string& f : fields) {
    if (v.is_object()) {
      auto it = v.find(f);
      if (it == v.end()) return kMissing;
      v = *it;
    } else if (v.is_discarded() || v.is_null()) {
      return kMissing;
    } else {
      Fail("can't evaluate field " + f + " in type " + std::string(v.type_name()));
    }
  }
  return v;
}

std::string Str(const json& v, const std::string& fn) {
  if (!v.is_string()) Fail(fn + ": expected a string, got " + Print(v));
  return v.get<std::string>();
}

json Call(const std::string& fn, const std::vector<json>& args) {
  auto need = [&](size_t n) {
    if (args.size() != n)
      Fail("wrong number of args for " + fn + ": want " + std::to_string(n) + " got " +
           std::to_string(args.size()));
  };
  if (fn == "json") {
    need(1);
    return args[0].is_discarded() ? json("null") : json(args[0].dump());
  }
  if (fn == "lower" || fn == "upper" || fn == "title") {
    need(1);
    std::string s = Str(args[0], fn);
    bool start = true;
    for (char& c : s) {
      const auto u = static_cast<unsigned char>(c);
      if (fn == "lower") c = static_cast<char>(std::tolower(u));
      if (fn == "upper") c = static_cast<char>(std::toupper(u));
      if (fn == "title" && start) c = static_cast<char>(std::toupper(u));
      start = std::isspace(u) != 0;
    }
    return s;
  }
  if (fn == "join") {
    need(2);
    if (!args[0].is_array()) Fail("join: expected a list, got " + Print(args[0]));
    std::string out;
    for (size_t i = 0; i < args[0].size(); ++i)
      out += (i ? Str(args[1], fn) : "") + Print(args[0][i]);
    return out;
  }
  if (fn == "split") {
    need(2);
    const std::string s = Str(args[0], fn), sep = Str(args[1], fn);
    json out = json::array();
    size_t start = 0;
    for (size_t at; !sep.empty() && (at = s.find(sep, start)) != std::string::npos;
         start = at + sep.size())
      out.push_back(s.substr(start, at - start));
    out.push_back(s.substr(start));
    return out;
  }
  if (fn == "index") {
    if (args.empty()) Fail("wrong number of args for index: want at least 1 got 0");
    json v = args[0];
    for (size_t i = 1; i < args.size(); ++i) {
      if (v.is_array() && args[i].is_number_integer()) {
        const auto k = args[i].get<int64_t>();
        if (k < 0 || static_cast<size_t>(k) >= v.size())
          Fail("error calling index: index out of range: " + std::to_string(k));
        v = json(v[static_cast<size_t>(k)]);
      } else if (v.is_object() && args[i].is_string()) {
        auto it = v.find(args[i].get<std::string>());
        v = it == v.end() ? kMissing : json(*it);
      } else if (v.is_null() || v.is_discarded()) {
        v = kMissing;
      } else {
        Fail("error calling index: cannot index " + Print(v) + " with " + Print(args[i]));
      }
    }
    return v;
  }
  if (fn == "len") {
    need(1);
    if (!args[0].is_array() && !args[0].is_object() && !args[0].is_string())
      Fail("error calling len: len of " + Print(args[0]));
    return args[0].is_string() ? args[0].get<std::string>().size() : args[0].size();
  }
  if (fn == "print" || fn == "println") {
    std::string out;
    for (size_t i = 0; i < args.size(); ++i) {
      // Go's print adds spaces only between operands when neither is a string.
      const bool space =
          fn == "println" || (i > 0 && !args[i].is_string() && !args[i - 1].is_string());
      out += (i && space ? " " : "") + Print(args[i]);
    }
    return fn == "println" ? out + "\n" : out;
  }
  if (fn == "not") {
    need(1);
    return !Truth(args[0]);
  }
  if (fn == "and" || fn == "or") {
    if (args.empty()) Fail("wrong number of args for " + fn);
    for (const json& a : args)
      if (Truth(a) == (fn == "or")) return a;
    return args.back();
  }
  if (fn == "eq" || fn == "ne") {
    need(2);
    return (args[0] == args[1]) == (fn == "eq");
  }
  Fail("function \"" + fn + "\" not defined");
}

json EvalCommand(const Command& cmd, const json& dot, const json* piped) {
  const Operand& head = cmd.front();
  auto value = [&](const Operand& op) -> json {
    if (op.kind == Operand::kField) return Field(dot, op.fields);
    if (op.kind == Operand::kLiteral) return op.literal;
    return Call(op.function, {});  // a function used as an argument takes no arguments
  };
  if (head.kind != Operand::kFunction) {
    if (cmd.size() > 1 || piped) Fail("can't give argument to non-function");
    return value(head);
  }
  std::vector<json> args;
  for (size_t i = 1; i < cmd.size(); ++i) args.push_back(value(cmd[i]));
  if (piped) args.push_back(*piped);
  return Call(head.function, args);
}

json EvalPipeline(const Pipeline& pipeline, const json& dot) {
  json v = EvalCommand(pipeline.front(), dot, nullptr);
  for (size_t i = 1; i < pipeline.size(); ++i) v = EvalCommand(pipeline[i], dot, &v);
  return v;
}

void ExecuteList(const NodeList& nodes, const json& dot, std::string& out) {
  for (const auto& node : nodes) {
    switch (node->kind) {
      case Node::kText:
        out += node->text;
        break;
      case Node::kAction:
        out += Print(EvalPipeline(node->pipeline, dot));
        break;
      case Node::kIf:
        ExecuteList(Truth(EvalPipeline(node->pipeline, dot)) ? node->body : node->else_body, dot,
                    out);
        break;
      case Node::kRange: {
        const json v = EvalPipeline(node->pipeline, dot);
        if (!Truth(v)) {
          ExecuteList(node->else_body, dot, out);
        } else if (v.is_array() || v.is_object()) {
          for (const auto& element : v) ExecuteList(node->body, element, out);
        } else {
          Fail("range can't iterate over " + Print(v));
        }
        break;
      }
    }
  }
}

}  // namespace

GoTemplate::GoTemplate(const std::string& format) {
  std::string f = format;
  if (f.rfind("table", 0) == 0) {
    table_ = true;
    f.erase(0, 5);
  }
  const size_t b = f.find_first_not_of(' ');
  const size_t e = f.find_last_not_of(' ');
  f = b == std::string::npos ? "" : f.substr(b, e - b + 1);
  std::string unescaped;
  for (size_t i = 0; i < f.size(); ++i) {
    if (f[i] == '\\' && i + 1 < f.size() && (f[i + 1] == 't' || f[i + 1] == 'n')) {
      unescaped += f[i + 1] == 't' ? '\t' : '\n';
      ++i;
    } else {
      unescaped += f[i];
    }
  }
  nodes_ = Parser(Lex(unescaped)).ParseAll();
}

GoTemplate::~GoTemplate() = default;
GoTemplate::GoTemplate(GoTemplate&&) noexcept = default;
GoTemplate& GoTemplate::operator=(GoTemplate&&) noexcept = default;

std::string GoTemplate::Execute(const json& data) const {
  std::string out;
  ExecuteList(nodes_, data, out);
  return out;
}

std::string RenderRows(const GoTemplate& format, const json& header,
                       const std::vector<json>& rows) {
  std::string text;
  if (format.is_table()) text += format.Execute(header) + "\n";
  for (const json& row : rows) text += format.Execute(row) + "\n";
  return format.is_table() ? AlignTabbedText(text) : text;
}

}  // namespace kiln::cli
