// The Dockerfile syntax tree: what the parser produces and `kiln parse --json` prints.
// It holds text only; flags are not validated and words are not expanded here.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kiln {

/// How an instruction's arguments were written.
enum class ArgForm {
  kShell,  ///< one string: the raw text after keyword and flags, continuations joined
  kExec,   ///< a JSON array of strings
  kWords,  ///< whitespace-separated raw words (FROM, EXPOSE, COPY sources and destination, ...)
  kPairs,  ///< ENV and LABEL key/value pairs
};

/// One `<<NAME` here-document attached to RUN, COPY or ADD.
struct Heredoc {
  std::string name;
  std::string content;  ///< the body, ending with a newline per line
  bool expand = true;   ///< false when the delimiter was quoted
  bool chomp = false;   ///< `<<-`: leading tabs stripped
};

/// One ENV or LABEL pair; values are raw (quotes kept) so the expander sees them as written.
struct KeyValue {
  std::string key;
  std::string value;
  bool legacy = false;  ///< written `KEY value` rather than `KEY=value`
};

/// One instruction as written.
struct Node {
  std::string instruction;         ///< canonical upper-case keyword
  int line = 0;                    ///< 1-based first line
  int end_line = 0;                ///< 1-based last line (continuations and heredocs included)
  int column = 1;                  ///< 1-based column of the keyword
  std::vector<std::string> flags;  ///< raw `--name=value` / `--name` words, in order
  ArgForm form = ArgForm::kShell;
  std::vector<std::string> args;
  std::vector<KeyValue> pairs;
  std::vector<Heredoc> heredocs;
  std::shared_ptr<Node> onbuild;  ///< the wrapped instruction of ONBUILD
};

/// Parser directives from the top of the file.
struct Directives {
  char escape = '\\';
  std::optional<std::string> syntax;
  std::optional<std::string> check;
};

struct SyntaxTree {
  std::string file;  ///< name used in error messages
  /// The source lines (without line breaks), for error excerpts; they point into `source`.
  std::vector<std::string_view> lines;
  /// The text `lines` point into, shared by copies of the tree.
  std::shared_ptr<const std::string> source;
  Directives directives;
  std::vector<Node> instructions;
};

}  // namespace kiln
