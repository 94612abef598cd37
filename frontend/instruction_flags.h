// The flags of each instruction (`--name=value` words before the arguments), checked the way
// BuildKit checks them: known to the instruction, given once unless they may repeat, booleans
// true or false, values present where a value is needed.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "frontend/syntax_tree.h"

namespace kiln {

/// Parsed flags of one node; booleans hold "true" or "false".
class Flags {
 public:
  /// Whether flag `name` was given.
  bool Has(std::string_view name) const { return values_.find(name) != values_.end(); }
  /// The last value given for `name`; "" when not given.
  std::string Value(std::string_view name) const {
    const auto it = values_.find(name);
    return it == values_.end() ? std::string() : it->second.back();
  }
  /// Every value given for `name` (a repeatable flag such as --mount), in order.
  const std::vector<std::string>& Values(std::string_view name) const {
    static const std::vector<std::string> kNone;
    const auto it = values_.find(name);
    return it == values_.end() ? kNone : it->second;
  }
  /// Whether boolean flag `name` is on.
  bool Bool(std::string_view name) const { return Value(name) == "true"; }
  /// Whether no flag was given.
  bool Empty() const { return values_.empty(); }
  /// The flag word as written, for error columns.
  std::string Word(std::string_view name) const {
    const auto it = words_.find(name);
    return it == words_.end() ? std::string() : it->second;
  }
  /// Records a value of flag `name`, written as `word`.
  void Add(const std::string& name, std::string value, const std::string& word) {
    values_[name].push_back(std::move(value));
    words_[name] = word;
  }

 private:
  // Looked up by string_view without building a std::string each time.
  std::map<std::string, std::vector<std::string>, std::less<>> values_;
  std::map<std::string, std::string, std::less<>> words_;
};

/// The flags of `node`, validated against its instruction's: values as written (not expanded);
/// booleans "true" or "false" (`--link` alone is true). Throws DockerfileError at the offending
/// word: an unknown flag (with a suggestion for a likely typo), a flag of another instruction,
/// a repeated flag that may not repeat, a missing or non-boolean value.
Flags ParseFlags(const Node& node, const SyntaxTree& tree);

}  // namespace kiln
