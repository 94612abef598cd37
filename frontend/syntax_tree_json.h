// The JSON rendering of a syntax tree printed by `kiln parse --json`: a stable interface.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "frontend/syntax_tree.h"

namespace kiln {

/// "shell", "exec", "words" or "pairs".
std::string_view ArgFormName(ArgForm form);

/// One instruction, keys in this order:
///   {"instruction", "line", "end_line", "column", "flags": [...], "form", "args": [...],
///    "pairs": [{"key", "value", "legacy"}]          (ENV and LABEL only),
///    "heredocs": [{"name", "content", "expand", "chomp"}]  (only when there are any),
///    "onbuild": NODE                                 (ONBUILD only)}
nlohmann::ordered_json NodeToOrderedJson(const Node& node);

/// {"directives": {"escape": "\\", "syntax": null|"...", "check": null|"..."},
///  "instructions": [NODE, ...]}, keys in this order: the document `kiln parse --json` prints.
nlohmann::ordered_json SyntaxTreeToOrderedJson(const SyntaxTree& tree);

/// The same documents with their keys sorted, for comparing.
nlohmann::json NodeToJson(const Node& node);
nlohmann::json SyntaxTreeToJson(const SyntaxTree& tree);

/// The one writer of the tree's JSON text: SyntaxTreeToOrderedJson(tree).dump(indent) and a
/// newline, with bytes that are not UTF-8 replaced by U+FFFD (a Latin-1 comment is shown, not
/// refused), handed to `out` in consecutive pieces (an instruction at a time).
void WriteSyntaxTreeJson(const SyntaxTree& tree, int indent,
                         const std::function<void(std::string_view)>& out);

/// The text WriteSyntaxTreeJson writes, as one string.
std::string SyntaxTreeToJsonText(const SyntaxTree& tree, int indent = -1);

}  // namespace kiln
