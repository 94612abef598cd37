#include "frontend/instruction_flags.h"

#include <algorithm>

#include "frontend/instructions.h"
#include "frontend/text.h"

namespace kiln {
namespace {

enum class FlagType { kBool, kString, kStrings };

struct FlagSpec {
  std::string_view name;
  FlagType type;
};

const std::map<std::string_view, std::vector<FlagSpec>>& FlagTable() {
  using enum FlagType;
  static const std::map<std::string_view, std::vector<FlagSpec>> table = {
      {"FROM", {{"platform", kString}}},
      {"RUN", {{"mount", kStrings}, {"network", kString}, {"security", kString}}},
      {"COPY",
       {{"from", kString},
        {"chown", kString},
        {"chmod", kString},
        {"link", kBool},
        {"exclude", kStrings},
        {"parents", kBool}}},
      {"ADD",
       {{"chown", kString},
        {"chmod", kString},
        {"link", kBool},
        {"exclude", kStrings},
        {"checksum", kString},
        {"keep-git-dir", kBool}}},
      {"HEALTHCHECK",
       {{"interval", kString},
        {"timeout", kString},
        {"start-period", kString},
        {"start-interval", kString},
        {"retries", kString}}},
  };
  return table;
}

/// " (did you mean --NAME?)" for a likely typo of one of `specs`, else "".
std::string FlagSuggestion(std::string_view name, const std::vector<FlagSpec>& specs) {
  for (const FlagSpec& spec : specs)
    if (EditDistance(name, spec.name) <= std::max<size_t>(1, spec.name.size() / 3))
      return " (did you mean --" + std::string(spec.name) + "?)";
  return {};
}

bool IsFlagOfAnyInstruction(std::string_view name) {
  for (const auto& [keyword, specs] : FlagTable())
    for (const FlagSpec& spec : specs)
      if (spec.name == name) return true;
  return false;
}

}  // namespace

Flags ParseFlags(const Node& node, const SyntaxTree& tree) {
  static const std::vector<FlagSpec> none;
  const auto table_it = FlagTable().find(node.instruction);
  const std::vector<FlagSpec>& specs = table_it == FlagTable().end() ? none : table_it->second;
  Flags flags;
  for (const std::string& word : node.flags) {
    if (!word.starts_with("--"))
      throw ErrorAt(tree, node, "flag should start with --: " + word, word);
    const std::string_view body = std::string_view(word).substr(2);
    const size_t eq = body.find('=');
    const std::string name(body.substr(0, eq));
    const bool has_value = eq != std::string_view::npos;
    std::string value = has_value ? std::string(body.substr(eq + 1)) : std::string();
    const auto spec =
        std::find_if(specs.begin(), specs.end(), [&](const FlagSpec& s) { return s.name == name; });
    if (spec == specs.end()) {
      if (IsFlagOfAnyInstruction(name))
        throw ErrorAt(tree, node, "flag --" + name + " is not valid for " + node.instruction, word);
      throw ErrorAt(tree, node, "unknown flag: --" + name + FlagSuggestion(name, specs), word);
    }
    if (flags.Has(name) && spec->type != FlagType::kStrings)
      throw ErrorAt(tree, node, "duplicate flag specified: --" + name, word);
    if (spec->type == FlagType::kBool) {
      if (has_value && value.empty())
        throw ErrorAt(tree, node, "flag --" + name + " expects a value", word);
      value = Lower(value);
      if (value.empty()) value = "true";
      if (value != "true" && value != "false")
        throw ErrorAt(tree, node,
                      "expecting boolean value for flag --" + name +
                          ", not: " + std::string(body.substr(eq + 1)),
                      word);
    } else if (value.empty()) {
      throw ErrorAt(tree, node, "flag --" + name + " expects a value", word);
    }
    flags.Add(name, std::move(value), word);
  }
  return flags;
}

}  // namespace kiln
