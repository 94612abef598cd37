// Paths inside a root: the injected pattern matcher (ignore rules, COPY globs, --exclude),
// source-path cleaning, the --parents pivot and symlink resolution that never leaves the root.
// The engine does not know the .dockerignore syntax; the cli injects the frontend's matcher.
#pragma once

#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace kiln {

/// Pattern matching supplied by the caller (the cli passes the frontend's .dockerignore matcher).
/// Paths are relative to the source root, '/'-separated, without a leading "./".
struct PathMatcher {
  /// Go filepath.Match plus `**`; required for wildcard sources and --exclude.
  std::function<bool(std::string_view pattern, std::string_view path)> match;
  /// Context ignore rules; empty = nothing excluded.
  std::function<bool(std::string_view path)> excluded;
  /// True when an ignore exception may re-include something below the excluded dir `dir`.
  std::function<bool(std::string_view dir)> may_include_under;

  bool Matches(std::string_view pattern, std::string_view path) const;
  bool Excludes(std::string_view path) const { return excluded && excluded(path); }
  bool MayIncludeUnder(std::string_view dir) const {
    return may_include_under && may_include_under(dir);
  }
};

/// A COPY/ADD source that is missing or ignored. The message follows Docker's classic wording.
class SourceNotFoundError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Throws SourceNotFoundError for `source` (as the user wrote it). `from_context` selects the
/// ".dockerignore" hint: "COPY failed: file not found in build context or excluded by
/// .dockerignore: stat missing.txt: file does not exist".
[[noreturn]] void ThrowSourceNotFound(std::string_view instruction, std::string_view source,
                                      bool from_context);

/// Cleans `path` as Docker does for sources: lexically, relative to the root, so `..` can never
/// climb above it ("../x" -> "x", "/a/./b/" -> "a/b"). The root itself is "".
std::string CleanRelativePath(std::string_view path);

/// True when `path` holds an unescaped Go filepath.Match metacharacter (`*`, `?`, `[`).
bool HasWildcard(std::string_view path);

/// A source split at its BuildKit `--parents` pivot: "a/./b/c" -> {"a", "b/c"}; without a pivot
/// the whole cleaned path is kept: {"", "a/b/c"}. Both parts are cleaned.
struct PivotedSource {
  std::string base;  ///< the part dropped at the destination
  std::string kept;  ///< the part recreated under the destination
  std::string Joined() const;
};
PivotedSource SplitParentsPivot(std::string_view source);

/// True when `relative` or one of its parent directories matches one of `patterns`.
bool MatchesAnyOrParent(const PathMatcher& matcher, const std::vector<std::string>& patterns,
                        std::string_view relative);

/// Reads the target of the symlink at a root-relative path whose parents hold no symlinks;
/// nullopt when that path is not a symlink (or does not exist).
using SymlinkReader = std::function<std::optional<std::string>(const std::string& relative)>;

/// Resolves symlinks in the root-relative `path` as if the root were "/": absolute targets
/// restart at the root and `..` stops there, so the result never leaves it. The last component
/// is followed only when `follow_last`. Throws std::runtime_error after 255 links (a loop).
std::string ResolveInRoot(std::string_view path, bool follow_last, const SymlinkReader& readlink);

/// "a/b/c" -> "c"; "" -> "".
std::string_view BaseName(std::string_view path);

}  // namespace kiln
