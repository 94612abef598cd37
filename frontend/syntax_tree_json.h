// The JSON rendering of a syntax tree printed by `kiln parse --json`: a stable interface.
#pragma once

#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "frontend/syntax_tree.h"

namespace kiln {

/// "shell", "exec", "words" or "pairs".
std::string_view ArgFormName(ArgForm form);

/// One instruction:
///   {"instruction", "line", "end_line", "column", "flags": [...], "form", "args": [...],
///    "pairs": [{"key", "value", "legacy"}]          (ENV and LABEL only),
///    "heredocs": [{"name", "content", "expand", "chomp"}]  (only when there are any),
///    "onbuild": NODE                                 (ONBUILD only)}
nlohmann::json NodeToJson(const Node& node);

/// {"directives": {"escape": "\\", "syntax": null|"...", "check": null|"..."},
///  "instructions": [NODE, ...]}
nlohmann::json SyntaxTreeToJson(const SyntaxTree& tree);

/// The same document with keys in the order documented above, for people to read.
nlohmann::ordered_json SyntaxTreeToOrderedJson(const SyntaxTree& tree);

/// SyntaxTreeToOrderedJson(tree).dump(indent), written directly (several times faster); bytes
/// that are not UTF-8 become U+FFFD.
std::string SyntaxTreeToJsonText(const SyntaxTree& tree, int indent = -1);

/// Writes SyntaxTreeToJsonText(tree, indent) to `file` in chunks, without holding it all in
/// memory.
void WriteSyntaxTreeJson(const SyntaxTree& tree, int indent, std::FILE* file);

}  // namespace kiln
