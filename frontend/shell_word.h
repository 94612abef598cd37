// Shell-word expansion with Docker's rules: variables, quotes and escapes in the instructions
// Docker expands (ADD, COPY, ENV, EXPOSE, FROM, LABEL, STOPSIGNAL, USER, VOLUME, WORKDIR).
#pragma once

#include <cstddef>
#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace kiln {

using Variables = std::map<std::string, std::string>;

/// A malformed word; offset() is the 0-based byte offset in the input where the problem starts.
class ExpansionError : public std::runtime_error {
 public:
  ExpansionError(const std::string& message, size_t offset)
      : std::runtime_error(message), offset_(offset) {}
  size_t offset() const { return offset_; }

 private:
  size_t offset_;
};

class ShellWordExpander {
 public:
  explicit ShellWordExpander(char escape = '\\') : escape_(escape) {}

  /// Expands `text` as one word: variables substituted, quotes and escapes removed, no
  /// splitting. Every variable name referenced (set or not) is added to `used` when given.
  /// Throws ExpansionError on bad syntax (unterminated quote or brace, bad substitution,
  /// `${VAR:?msg}` with VAR unset or empty).
  std::string ExpandWord(std::string_view text, const Variables& vars,
                         std::set<std::string>* used = nullptr) const;

  /// Expands `text` and splits it into words, as for COPY sources, EXPOSE ports or VOLUME
  /// paths, exactly as BuildKit's ProcessWords: unquoted text and the values of unquoted `$`
  /// expansions (including whole `${...}` results) split on whitespace; quoted text and
  /// escaped characters do not. Empty words are dropped, even quoted ones (`""` gives none).
  std::vector<std::string> ExpandWords(std::string_view text, const Variables& vars,
                                       std::set<std::string>* used = nullptr) const;

 private:
  char escape_;
};

}  // namespace kiln
