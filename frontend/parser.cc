#include "frontend/parser.h"

#include <algorithm>
#include <cctype>
#include <memory>
#include <nlohmann/json.hpp>
#include <utility>

#include "frontend/dockerfile_error.h"
#include "frontend/text.h"

namespace kiln {
namespace {

constexpr std::string_view kUtf8Bom = "\xEF\xBB\xBF";

/// Go's unicode.IsSpace restricted to ASCII: what BuildKit trims lines and words with.

/// BuildKit's reWhitespace `[\t\v\f\r ]+`: what separates keywords and plain words.
bool IsBlank(char c) {
  return c == ' ' || c == '\t' || c == '\v' || c == '\f' || c == '\r';
}

size_t SkipSpaces(std::string_view s, size_t pos) {
  while (pos < s.size() && IsSpace(s[pos])) ++pos;
  return pos;
}

/// Splits text into lines as Go's bufio.ScanLines does (a final newline adds no empty line, a
/// trailing CR is dropped); the lines point into `text`.
std::vector<std::string_view> SplitLines(std::string_view text) {
  std::vector<std::string_view> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.push_back(line);
    start = end + 1;
  }
  return lines;
}

struct Position {
  int line = 0;
  int column = 0;
};

/// One instruction's physical lines joined; every byte remembers where it was written, so errors
/// point into the original text even across continuations.
struct LogicalLine {
  std::string text;
  int last_line = 0;

  void Append(std::string_view part, int line, int first_column) {
    if (part.empty()) return;
    parts_.push_back({text.size(), {line, first_column}});
    text += part;
  }

  Position At(size_t offset) const {
    if (offset < text.size()) {
      // The last part that starts at or before `offset`.
      const auto part = std::prev(std::upper_bound(
          parts_.begin(), parts_.end(), offset,
          [](size_t wanted, const Part& candidate) { return wanted < candidate.offset; }));
      return {part->start.line, part->start.column + static_cast<int>(offset - part->offset)};
    }
    Position end = text.empty() ? Position{last_line, 1} : At(text.size() - 1);
    ++end.column;
    return end;
  }

 private:
  /// Where each appended line's text begins in `text`, and where it was in the file.
  struct Part {
    size_t offset = 0;
    Position start;
  };
  std::vector<Part> parts_;
};

/// Removes a trailing escape character (and the spaces or tabs after it) that continues the line
/// onto the next one. Returns whether the line continues.
bool StripContinuation(std::string_view& line, char escape) {
  size_t end = line.size();
  while (end > 0 && (line[end - 1] == ' ' || line[end - 1] == '\t')) --end;
  if (end == 0 || line[end - 1] != escape) return false;
  line = line.substr(0, end - 1);
  return true;
}

struct Word {
  std::string text;
  size_t offset = 0;  // in the string that was split
};

/// Splits on whitespace outside quotes, keeping quotes and escapes in the words, as BuildKit's
/// parseWords does (ENV, LABEL, ARG) and as its shell lexer finds heredoc words. Single quotes
/// escape nothing; an escape character at the very end is dropped.
std::vector<Word> SplitQuotedWords(std::string_view s, char escape) {
  std::vector<Word> words;
  size_t pos = 0;
  while (true) {
    pos = SkipSpaces(s, pos);
    if (pos >= s.size()) break;
    Word word{"", pos};
    char quote = 0;
    for (; pos < s.size(); ++pos) {
      if (quote == 0) {  // a run of ordinary characters goes in at once
        size_t end = pos;
        while (end < s.size() && !IsSpace(s[end]) && s[end] != escape && s[end] != '\'' &&
               s[end] != '"')
          ++end;
        if (end > pos) {
          word.text.append(s.substr(pos, end - pos));
          pos = end - 1;
          continue;
        }
      }
      const char c = s[pos];
      if (quote == 0 && IsSpace(c)) break;
      if (c == escape && quote != '\'') {
        if (pos + 1 == s.size()) break;  // a lone escape at the end is skipped
        word.text += c;
        word.text += s[++pos];
        continue;
      }
      if (quote == 0 && (c == '\'' || c == '"')) {
        quote = c;
      } else if (c == quote) {
        quote = 0;
      }
      word.text += c;
    }
    if (!word.text.empty()) words.push_back(std::move(word));
    if (pos < s.size() && !IsSpace(s[pos])) ++pos;  // skipped final escape
  }
  return words;
}

/// Splits on runs of blanks, nothing else: BuildKit's parseStringsWhitespaceDelimited.
std::vector<std::string> SplitPlainWords(std::string_view s) {
  std::vector<std::string> words;
  size_t pos = 0;
  while (pos < s.size()) {
    while (pos < s.size() && IsBlank(s[pos])) ++pos;
    const size_t start = pos;
    while (pos < s.size() && !IsBlank(s[pos])) ++pos;
    if (pos > start) words.emplace_back(s.substr(start, pos - start));
  }
  return words;
}

/// Collects leading `--flag` words of `s` from `pos` with quotes and backslash escapes removed,
/// as BuildKit's extractBuilderFlags. Returns the offset where the arguments begin.
size_t ExtractFlags(std::string_view s, size_t pos, std::vector<std::string>& flags) {
  while (true) {
    pos = SkipSpaces(s, pos);
    if (pos + 1 >= s.size() || s[pos] != '-' || s[pos + 1] != '-') return pos;
    std::string word;
    bool quoted = false;
    char quote = 0;
    for (; pos < s.size(); ++pos) {
      if (quote == 0) {  // a run of ordinary characters goes in at once
        size_t end = pos;
        while (end < s.size() && !IsSpace(s[end]) && s[end] != '\\' && s[end] != '\'' &&
               s[end] != '"')
          ++end;
        if (end > pos) {
          word.append(s.substr(pos, end - pos));
          pos = end - 1;
          continue;
        }
      }
      char c = s[pos];
      if (quote == 0 && IsSpace(c)) break;
      if (quote == 0 && (c == '\'' || c == '"')) {
        quote = c;
        quoted = true;
        continue;
      }
      if (quote != 0 && c == quote) {
        quote = 0;
        continue;
      }
      if (c == '\\') {
        if (pos + 1 == s.size()) continue;
        c = s[++pos];
      }
      word += c;
    }
    if (word == "--" && !quoted) return SkipSpaces(s, pos);
    if (quoted || !word.empty()) flags.push_back(std::move(word));
  }
}

/// How an instruction's arguments are read (BuildKit's dispatch table of line parsers).
enum class ArgsRule {
  kMaybeJson,      // RUN, CMD, ENTRYPOINT
  kJsonOnly,       // SHELL
  kMaybeJsonList,  // COPY, ADD, VOLUME
  kPlainWords,     // FROM, EXPOSE, USER, WORKDIR, STOPSIGNAL, MAINTAINER
  kQuotedWords,    // ARG
  kPairs,          // ENV, LABEL
  kHealthcheck,
  kOnbuild,
};

struct InstructionSpec {
  std::string_view name;
  ArgsRule rule;
};

constexpr InstructionSpec kInstructions[] = {
    {"FROM", ArgsRule::kPlainWords},
    {"RUN", ArgsRule::kMaybeJson},
    {"CMD", ArgsRule::kMaybeJson},
    {"LABEL", ArgsRule::kPairs},
    {"MAINTAINER", ArgsRule::kPlainWords},
    {"EXPOSE", ArgsRule::kPlainWords},
    {"ENV", ArgsRule::kPairs},
    {"ADD", ArgsRule::kMaybeJsonList},
    {"COPY", ArgsRule::kMaybeJsonList},
    {"ENTRYPOINT", ArgsRule::kMaybeJson},
    {"VOLUME", ArgsRule::kMaybeJsonList},
    {"USER", ArgsRule::kPlainWords},
    {"WORKDIR", ArgsRule::kPlainWords},
    {"ARG", ArgsRule::kQuotedWords},
    {"ONBUILD", ArgsRule::kOnbuild},
    {"STOPSIGNAL", ArgsRule::kPlainWords},
    {"HEALTHCHECK", ArgsRule::kHealthcheck},
    {"SHELL", ArgsRule::kJsonOnly},
};

const InstructionSpec* FindInstruction(std::string_view upper) {
  for (const InstructionSpec& spec : kInstructions)
    if (spec.name == upper) return &spec;
  return nullptr;
}

bool CanHaveHeredocs(const std::string& instruction) {
  return instruction == "RUN" || instruction == "COPY" || instruction == "ADD";
}

/// A `<<NAME` word: BuildKit's `^(\d*)<<(-?)([^<]*)$` with the quotes of NAME removed.
struct HeredocMarker {
  std::string name;
  bool expand = true;
  bool chomp = false;
};

class Parser {
 public:
  Parser(std::string_view text, const std::string& file) {
    tree_.file = file;
    // The first line loses a UTF-8 byte-order mark.
    if (text.substr(0, kUtf8Bom.size()) == kUtf8Bom) text.remove_prefix(kUtf8Bom.size());
    auto source = std::make_shared<const std::string>(text);
    tree_.lines = SplitLines(*source);
    tree_.source = std::move(source);
  }

  SyntaxTree Parse() {
    ParseDirectives();
    while (std::optional<LogicalLine> line = NextLogicalLine()) {
      // A line that is only an escape character joins the next one, which may start with spaces.
      const size_t begin = SkipSpaces(line->text, 0);
      if (begin == line->text.size()) continue;
      Node node = ParseInstruction(*line, begin);
      node.end_line = line->last_line;
      ReadHeredocs(*line, node);
      tree_.instructions.push_back(std::move(node));
    }
    if (tree_.instructions.empty()) Fail({0, 0}, "file with no instructions");
    return std::move(tree_);
  }

 private:
  [[noreturn]] void Fail(Position at, const std::string& message) const {
    std::string source;
    if (at.line > 0 && at.line <= static_cast<int>(tree_.lines.size()))
      source = tree_.lines[at.line - 1];
    throw DockerfileError({tree_.file, at.line, at.column}, message, source);
  }

  char escape() const { return tree_.directives.escape; }

  // Directives are comments of the form `# key=value` before anything else; the first line that
  // is not a known directive (blank lines included) ends them.
  void ParseDirectives() {
    bool seen_escape = false;
    for (size_t i = 0; i < tree_.lines.size(); ++i) {
      const std::string_view raw = tree_.lines[i];
      const int line = static_cast<int>(i) + 1;
      const size_t hash = SkipSpaces(raw, 0);
      if (hash >= raw.size() || raw[hash] != '#') return;
      size_t pos = SkipSpaces(raw, hash + 1);
      const size_t key_begin = pos;
      if (pos >= raw.size() || !std::isalpha(static_cast<unsigned char>(raw[pos]))) return;
      while (pos < raw.size() && std::isalnum(static_cast<unsigned char>(raw[pos]))) ++pos;
      const std::string key = Lower(raw.substr(key_begin, pos - key_begin));
      pos = SkipSpaces(raw, pos);
      if (pos >= raw.size() || raw[pos] != '=') return;
      const size_t value_begin = SkipSpaces(raw, pos + 1);
      size_t value_end = raw.size();
      while (value_end > value_begin && IsSpace(raw[value_end - 1])) --value_end;
      if (value_end == value_begin) return;
      const std::string value(raw.substr(value_begin, value_end - value_begin));
      const Position at{line, static_cast<int>(hash) + 1};
      Directives& d = tree_.directives;
      if (key == "escape") {
        if (seen_escape) Fail(at, "only one escape parser directive can be used");
        seen_escape = true;
        if (value != "\\" && value != "`")
          Fail({line, static_cast<int>(value_begin) + 1},
               "invalid escape token '" + value + "' does not match ` or \\");
        d.escape = value[0];
      } else if (key == "syntax" || key == "check") {
        std::optional<std::string>& slot = key == "syntax" ? d.syntax : d.check;
        if (slot) Fail(at, "only one " + key + " parser directive can be used");
        slot = value;
      } else {
        return;  // an unknown directive is a comment and ends the directives
      }
    }
  }

  /// The next instruction's lines joined: comments and blank lines between instructions and
  /// inside continuations are skipped; a continuation at the end of the file ends there.
  std::optional<LogicalLine> NextLogicalLine() {
    const std::vector<std::string_view>& lines = tree_.lines;
    while (next_ < lines.size()) {
      const std::string_view raw = lines[next_++];
      const size_t start = SkipSpaces(raw, 0);
      if (start >= raw.size() || raw[start] == '#') continue;
      LogicalLine logical;
      std::string_view part = raw.substr(start);
      bool more = StripContinuation(part, escape());
      logical.Append(part, static_cast<int>(next_), static_cast<int>(start) + 1);
      while (more && next_ < lines.size()) {
        part = lines[next_++];
        const size_t first = SkipSpaces(part, 0);
        if (first >= part.size() || part[first] == '#') continue;
        more = StripContinuation(part, escape());
        logical.Append(part, static_cast<int>(next_), 1);
      }
      logical.last_line = static_cast<int>(next_);
      return logical;
    }
    return std::nullopt;
  }

  /// Parses the instruction starting at `begin` (a non-space byte) of `line`.
  Node ParseInstruction(const LogicalLine& line, size_t begin) {
    std::string_view text = line.text;
    size_t end = text.size();
    while (end > begin && IsSpace(text[end - 1])) --end;
    text = text.substr(0, end);

    size_t keyword_end = begin;
    while (keyword_end < text.size() && !IsBlank(text[keyword_end])) ++keyword_end;
    const std::string keyword = Upper(text.substr(begin, keyword_end - begin));
    const InstructionSpec* spec = FindInstruction(keyword);
    const Position at = line.At(begin);
    if (spec == nullptr) {
      std::string message = "unknown instruction: " + keyword;
      if (std::optional<std::string> suggestion = SuggestInstruction(keyword))
        message += " (did you mean " + *suggestion + "?)";
      Fail(at, message);
    }

    Node node;
    node.instruction = keyword;
    node.line = at.line;
    node.column = at.column;
    node.end_line = line.last_line;
    const size_t args_begin = ExtractFlags(text, keyword_end, node.flags);
    const std::string_view rest = text.substr(args_begin);
    if (rest.empty()) Fail(at, keyword + " requires at least one argument");
    ParseArgs(spec->rule, line, args_begin, rest, node);
    return node;
  }

  void ParseArgs(ArgsRule rule, const LogicalLine& line, size_t offset, std::string_view rest,
                 Node& node) {
    const Position keyword_at{node.line, node.column};
    switch (rule) {
      case ArgsRule::kMaybeJson:
        SetExecOr(line, offset, rest, node, [&] {
          node.form = ArgForm::kShell;
          node.args = {std::string(rest)};
        });
        return;
      case ArgsRule::kJsonOnly:
        SetExecOr(line, offset, rest, node, [&] {
          Fail(line.At(offset), node.instruction + " requires the arguments to be in JSON form");
        });
        if (node.args.empty())
          Fail(keyword_at, node.instruction + " requires at least one argument");
        return;
      case ArgsRule::kMaybeJsonList:
        SetExecOr(line, offset, rest, node, [&] { SetWords(SplitPlainWords(rest), node); });
        if ((node.instruction == "COPY" || node.instruction == "ADD") && node.args.size() < 2)
          Fail(keyword_at, node.instruction +
                               " requires at least two arguments, but only one was provided. "
                               "Destination could not be determined");
        return;
      case ArgsRule::kPlainWords:
        SetWords(SplitPlainWords(rest), node);
        return;
      case ArgsRule::kQuotedWords:
        ParseArgWords(line, offset, rest, node);
        return;
      case ArgsRule::kPairs:
        ParsePairs(line, offset, rest, node);
        return;
      case ArgsRule::kHealthcheck:
        ParseHealthcheck(line, offset, rest, node);
        return;
      case ArgsRule::kOnbuild:
        ParseOnbuild(line, offset, rest, node);
        return;
    }
  }

  /// Exec form when `rest` is a JSON array of strings; `otherwise` runs when it is no JSON
  /// array at all. A JSON array with other elements is an error, as in Docker.
  template <typename Otherwise>
  void SetExecOr(const LogicalLine& line, size_t offset, std::string_view rest, Node& node,
                 Otherwise otherwise) {
    if (rest.front() == '[') {
      const nlohmann::json parsed = nlohmann::json::parse(rest.begin(), rest.end(), nullptr, false);
      if (!parsed.is_discarded() && parsed.is_array()) {
        std::vector<std::string> args;
        for (const nlohmann::json& element : parsed) {
          if (!element.is_string())
            Fail(line.At(offset),
                 "when using JSON array syntax, arrays must be comprised of strings only");
          args.push_back(element.get<std::string>());
        }
        node.form = ArgForm::kExec;
        node.args = std::move(args);
        return;
      }
    }
    otherwise();
  }

  static void SetWords(std::vector<std::string> words, Node& node) {
    node.form = ArgForm::kWords;
    node.args = std::move(words);
  }

  void ParseArgWords(const LogicalLine& line, size_t offset, std::string_view rest, Node& node) {
    node.form = ArgForm::kWords;
    for (Word& word : SplitQuotedWords(rest, escape())) {
      if (word.text.front() == '=')
        Fail(line.At(offset + word.offset), node.instruction + " names can not be blank");
      node.args.push_back(std::move(word.text));
    }
  }

  // `KEY=value ...`, or the legacy `KEY value with spaces` when the first word has no `=`.
  void ParsePairs(const LogicalLine& line, size_t offset, std::string_view rest, Node& node) {
    node.form = ArgForm::kPairs;
    const std::vector<Word> words = SplitQuotedWords(rest, escape());
    if (words.empty()) Fail(line.At(offset), node.instruction + " requires at least one argument");
    if (words.front().text.find('=') == std::string::npos) {
      size_t key_end = 0;
      while (key_end < rest.size() && !IsBlank(rest[key_end])) ++key_end;
      size_t value_begin = key_end;
      while (value_begin < rest.size() && IsBlank(rest[value_begin])) ++value_begin;
      if (value_begin >= rest.size())
        Fail(line.At(offset), node.instruction + " must have two arguments");
      node.pairs.push_back(
          {std::string(rest.substr(0, key_end)), std::string(rest.substr(value_begin)), true});
      return;
    }
    for (const Word& word : words) {
      const Position at = line.At(offset + word.offset);
      const size_t equals = word.text.find('=');
      if (equals == std::string::npos)
        Fail(at, "Syntax error - can't find = in \"" + word.text +
                     "\". Must be of the form: name=value");
      if (equals == 0) Fail(at, node.instruction + " names can not be blank");
      node.pairs.push_back({word.text.substr(0, equals), word.text.substr(equals + 1), false});
    }
  }

  // `HEALTHCHECK NONE` or `HEALTHCHECK CMD command` (exec or shell form).
  void ParseHealthcheck(const LogicalLine& line, size_t offset, std::string_view rest, Node& node) {
    size_t type_end = 0;
    while (type_end < rest.size() && !IsSpace(rest[type_end])) ++type_end;
    const std::string type = Upper(rest.substr(0, type_end));
    const size_t command_begin = SkipSpaces(rest, type_end);
    const std::string_view command = rest.substr(command_begin);
    if (type == "NONE") {
      if (!command.empty())
        Fail(line.At(offset + command_begin), "HEALTHCHECK NONE takes no arguments");
      SetWords({type}, node);
      return;
    }
    if (type != "CMD")
      Fail(line.At(offset), "Unknown type \"" + type + "\" in HEALTHCHECK (try CMD)");
    const Position command_at = line.At(offset + command_begin);
    if (command.empty()) Fail(command_at, "Missing command after HEALTHCHECK CMD");
    SetExecOr(line, offset + command_begin, command, node, [&] {
      node.form = ArgForm::kShell;
      node.args = {std::string(command)};
    });
    if (node.args.empty()) Fail(command_at, "Missing command after HEALTHCHECK CMD");
    node.args.insert(node.args.begin(), type);
  }

  void ParseOnbuild(const LogicalLine& line, size_t offset, std::string_view rest, Node& node) {
    size_t keyword_end = 0;
    while (keyword_end < rest.size() && !IsBlank(rest[keyword_end])) ++keyword_end;
    const std::string trigger = Upper(rest.substr(0, keyword_end));
    if (trigger == "ONBUILD")
      Fail(line.At(offset), "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
    if (trigger == "FROM" || trigger == "MAINTAINER")
      Fail(line.At(offset), trigger + " isn't allowed as an ONBUILD trigger");
    node.form = ArgForm::kShell;
    node.args = {std::string(rest)};
    node.onbuild = std::make_shared<Node>(ParseInstruction(line, offset));
  }

  std::optional<HeredocMarker> ParseHeredocMarker(std::string_view word, Position at) const {
    size_t pos = 0;
    while (pos < word.size() && std::isdigit(static_cast<unsigned char>(word[pos]))) ++pos;
    if (word.substr(pos, 2) != "<<") return std::nullopt;
    pos += 2;
    HeredocMarker marker;
    if (pos < word.size() && word[pos] == '-') {
      marker.chomp = true;
      ++pos;
    }
    const std::string_view rest = word.substr(pos);
    if (rest.empty() || rest.find('<') != std::string_view::npos) return std::nullopt;
    char quote = 0;
    for (size_t i = 0; i < rest.size(); ++i) {
      const char c = rest[i];
      if (quote == 0 && (c == '\'' || c == '"')) {
        quote = c;
        marker.expand = false;
      } else if (c == quote) {
        quote = 0;
      } else if (c == '\\' && quote != '\'' && i + 1 < rest.size()) {
        marker.name += rest[++i];
      } else {
        marker.name += c;
      }
    }
    if (quote != 0) Fail(at, "unterminated quote in heredoc delimiter: " + std::string(word));
    if (marker.name.empty()) Fail(at, "empty heredoc delimiter: " + std::string(word));
    return marker;
  }

  /// Reads the bodies of the `<<NAME` words of a RUN, COPY or ADD (also as an ONBUILD trigger)
  /// from the lines after the instruction, in order; bodies are taken verbatim.
  void ReadHeredocs(const LogicalLine& line, Node& node) {
    Node& target = node.onbuild ? *node.onbuild : node;
    if (!CanHaveHeredocs(target.instruction) || target.form == ArgForm::kExec ||
        line.text.find("<<") == std::string::npos)
      return;
    for (const Word& word : SplitQuotedWords(line.text, '\\')) {
      const Position at = line.At(word.offset);
      std::optional<HeredocMarker> marker = ParseHeredocMarker(word.text, at);
      if (!marker) continue;
      Heredoc heredoc{marker->name, "", marker->expand, marker->chomp};
      bool terminated = false;
      while (!terminated && next_ < tree_.lines.size()) {
        std::string_view body_line = tree_.lines[next_++];
        if (heredoc.chomp)
          body_line.remove_prefix(std::min(body_line.find_first_not_of('\t'), body_line.size()));
        terminated = body_line == heredoc.name;
        if (!terminated) heredoc.content.append(body_line).append("\n");
      }
      if (!terminated) Fail(at, "unterminated heredoc: no line \"" + heredoc.name + "\" ends it");
      // Docker keeps an ONBUILD trigger as text with its bodies, so it can be parsed again.
      if (node.onbuild) node.args[0] += "\n" + heredoc.content + heredoc.name;
      target.heredocs.push_back(std::move(heredoc));
    }
    node.end_line = target.end_line = static_cast<int>(next_);
  }

  SyntaxTree tree_;
  size_t next_ = 0;  // index of the next unread line
};

}  // namespace

SyntaxTree ParseDockerfile(std::string_view text, const std::string& file) {
  return Parser(text, file).Parse();
}

const std::vector<std::string>& InstructionKeywords() {
  static const std::vector<std::string> keywords = [] {
    std::vector<std::string> out;
    for (const InstructionSpec& spec : kInstructions) out.emplace_back(spec.name);
    return out;
  }();
  return keywords;
}

std::optional<std::string> SuggestInstruction(std::string_view word) {
  const std::string upper = Upper(word);
  const size_t limit = std::max<size_t>(1, upper.size() / 3);
  std::optional<std::string> best;
  size_t best_distance = limit + 1;
  for (const std::string& keyword : InstructionKeywords()) {
    const size_t distance = EditDistance(upper, keyword);
    if (distance == 0) return std::nullopt;
    if (distance < best_distance) {
      best_distance = distance;
      best = keyword;
    }
  }
  return best;
}

}  // namespace kiln
