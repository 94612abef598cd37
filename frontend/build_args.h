// Docker's ARG scoping: meta args before the first FROM, per-stage declarations, --build-arg
// overrides, the predefined proxy args and the automatic platform args.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "frontend/shell_word.h"

namespace kiln {

/// HTTP_PROXY, https_proxy, NO_PROXY, ALL_PROXY, ... : usable by RUN without an ARG, never
/// reported unused, and kept out of cache keys unless declared.
bool IsProxyArg(std::string_view name);

/// TARGETPLATFORM, TARGETOS, TARGETARCH, TARGETVARIANT and the BUILD* ones for `platform`
/// ("os/arch[/variant]"); the build platform is taken to be the target platform.
Variables PlatformArgs(std::string_view platform);

/// The build's args across stages.
class BuildArgs {
 public:
  BuildArgs(std::map<std::string, std::string> given, std::string_view platform);

  /// Declares an ARG before the first FROM; `default_value` is already expanded (with
  /// MetaVariables()). A --build-arg of the same name wins over the default.
  void DeclareMeta(const std::string& name, const std::optional<std::string>& default_value);

  /// What FROM lines expand with: the platform args and the meta args that have a value.
  const Variables& MetaVariables() const { return meta_; }

  /// The value of an ARG declared inside a stage: its --build-arg, else its own default, else
  /// the value of the meta arg (or platform arg) of that name; nullopt when there is none.
  std::optional<std::string> StageValue(const std::string& name,
                                        const std::optional<std::string>& default_value) const;

  /// The proxy args given with --build-arg: RUN sees them as environment without an ARG.
  Variables GivenProxyArgs() const;

  /// Sorted names given with --build-arg that are neither in `declared` nor proxy args.
  std::vector<std::string> Unconsumed(const std::set<std::string>& declared) const;

  /// The names declared before the first FROM.
  const std::set<std::string>& meta_names() const { return meta_names_; }

 private:
  std::map<std::string, std::string> given_;
  Variables platform_;
  Variables meta_;
  std::set<std::string> meta_names_;
};

/// The ARGs declared so far in one stage, in scope for the instructions after them.
class StageArgs {
 public:
  void Declare(const std::string& name, std::optional<std::string> value);
  bool IsDeclared(const std::string& name) const { return args_.count(name) > 0; }
  /// The value of a declared arg; null when it is not declared or has no value.
  const std::string* Value(const std::string& name) const;
  /// Every declared arg, nullopt for those without a value.
  const std::map<std::string, std::optional<std::string>>& declared() const { return args_; }
  /// The declared args that have a value.
  Variables Values() const;
  std::set<std::string> Names() const;

 private:
  std::map<std::string, std::optional<std::string>> args_;
};

}  // namespace kiln
