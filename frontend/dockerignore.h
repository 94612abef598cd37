// .dockerignore rules, also used for COPY --exclude: Go filepath.Match wildcards (`*`, `?`,
// `[...]`), `**` across directories, `!` exceptions, last match wins.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "frontend/file_system.h"

namespace kiln {

class IgnoreRules {
 public:
  IgnoreRules() = default;
  /// `patterns` are ignore-file lines, `!` kept on exceptions; each is normalized as Parse
  /// does. Throws std::invalid_argument on a malformed pattern (`[`, trailing `\`, lone `!`).
  explicit IgnoreRules(std::vector<std::string> patterns);

  /// Parses ignore-file text: `#` comments and blank lines dropped, surrounding spaces trimmed,
  /// leading `/` and `./` removed, paths cleaned (`a//b/../c` -> `a/c`). As in Docker, only a
  /// `#` in the first column starts a comment. Throws as the constructor does.
  static IgnoreRules Parse(std::string_view text);

  const std::vector<std::string>& patterns() const { return patterns_; }

  /// True when `path` (relative to the context root, `/`-separated, no leading `./`) is
  /// excluded. A path is also excluded when one of its parent directories matches a pattern
  /// that no later exception undoes.
  bool Excludes(std::string_view path) const;

  /// True when an exception could re-include something below the excluded directory `dir`,
  /// so a walk must still descend into it.
  bool MayIncludeUnder(std::string_view dir) const;

 private:
  std::vector<std::string> patterns_;
};

/// Go's filepath.Match on `/`-separated paths plus `**` matching any number of directories
/// (moby/patternmatcher); `[!a]` is a class of `!` and `a`, only `[^a]` negates. No parent
/// directory matching. Throws std::invalid_argument on a malformed pattern.
bool MatchPathPattern(std::string_view pattern, std::string_view path);

/// The ignore file for a build: `<dockerfile>.dockerignore` beside the Dockerfile wins over
/// `<context>/.dockerignore`. Returns "" when neither exists.
std::string ReadIgnoreFile(const FileSystem& fs, const std::string& dockerfile_path,
                           const std::string& context_dir);

}  // namespace kiln
