// Docker-style command-line flags: `--name value`, `--name=value`, `-n value`, `-nvalue`,
// combined short booleans (`-aq`), `--` ending flags, flags and arguments in any order.
#pragma once

#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

namespace kiln::cli {

/// A malformed command line; the command prints it with its usage and exits 2.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class FlagSet {
 public:
  /// `short_name` may be 0. The value is stored when the flag appears.
  void String(const std::string& name, char short_name, std::string* value);
  /// Every occurrence is appended.
  void Strings(const std::string& name, char short_name, std::vector<std::string>* values);
  /// `--name`, `--name=true|false`.
  void Bool(const std::string& name, char short_name, bool* value);
  void Int(const std::string& name, char short_name, int* value);

  /// Parses `args`; returns the positional arguments in order. Throws UsageError for an unknown
  /// flag or a missing or malformed value. `--help`/`-h` set help_requested() instead.
  std::vector<std::string> Parse(const std::vector<std::string>& args);
  bool help_requested() const { return help_; }

 private:
  struct Flag {
    std::string name;
    char short_name;
    bool takes_value;
    std::function<void(const std::string&)> set;
  };
  const Flag* Find(const std::string& name) const;
  const Flag* FindShort(char c) const;

  std::vector<Flag> flags_;
  bool help_ = false;
};

}  // namespace kiln::cli
