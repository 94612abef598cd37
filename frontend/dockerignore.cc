#include "frontend/dockerignore.h"

#include <algorithm>
#include <stdexcept>
#include <utility>

#include "frontend/text.h"

namespace kiln {
namespace {

std::string_view TrimSpace(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

/// Length of the UTF-8 sequence starting at s[i] (1 for invalid bytes).

std::vector<std::string_view> SplitPath(std::string_view path) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (true) {
    const size_t slash = path.find('/', start);
    parts.push_back(path.substr(start, slash - start));
    if (slash == std::string_view::npos) return parts;
    start = slash + 1;
  }
}

/// Go's path.Clean: single slashes, no `.` elements, `..` resolved lexically, "." if empty.
std::string CleanPath(std::string_view path) {
  const bool rooted = !path.empty() && path[0] == '/';
  std::vector<std::string_view> kept;
  for (std::string_view part : SplitPath(path)) {
    if (part.empty() || part == ".") continue;
    if (part != "..") {
      kept.push_back(part);
    } else if (!kept.empty() && kept.back() != "..") {
      kept.pop_back();
    } else if (!rooted) {
      kept.push_back(part);
    }
  }
  std::string out = rooted ? "/" : "";
  for (size_t i = 0; i < kept.size(); ++i) {
    if (i > 0) out += '/';
    out += kept[i];
  }
  return out.empty() ? "." : out;
}

[[noreturn]] void BadPattern(std::string_view pattern) {
  throw std::invalid_argument("syntax error in pattern \"" + std::string(pattern) + "\"");
}

/// Reads one possibly escaped class member at pattern[*i] (Go filepath.Match's getEsc).
std::string_view ClassMember(std::string_view pattern, size_t* i) {
  if (*i >= pattern.size() || pattern[*i] == '-' || pattern[*i] == ']') BadPattern(pattern);
  if (pattern[*i] == '\\' && ++*i >= pattern.size()) BadPattern(pattern);
  const size_t n = RuneLength(pattern, *i);
  const std::string_view member = pattern.substr(*i, n);
  *i += n;
  return member;
}

/// Parses the bracket expression starting at pattern[start] (`[`, optional `^`, at least one
/// `c` or `lo-hi`, `]`; Go's syntax, so `!` is an ordinary member) and tells whether the
/// character `rune` is in it. Sets `end` to the index after `]`; throws on bad syntax.
bool MatchClass(std::string_view pattern, size_t start, std::string_view rune, size_t* end) {
  size_t i = start + 1;
  const bool negate = i < pattern.size() && pattern[i] == '^';
  if (negate) ++i;
  bool matched = false;
  do {
    const std::string_view lo = ClassMember(pattern, &i);
    std::string_view hi = lo;
    if (i < pattern.size() && pattern[i] == '-') {
      ++i;
      hi = ClassMember(pattern, &i);
    }
    // Byte-wise comparison of UTF-8 sequences orders code points correctly.
    if (!rune.empty() && lo <= rune && rune <= hi) matched = true;
  } while (i < pattern.size() && pattern[i] != ']');
  if (i >= pattern.size()) BadPattern(pattern);
  *end = i + 1;
  return matched != negate;
}

/// Rejects what Go's filepath.Match rejects: bad bracket expressions and a trailing `\`.
void ValidatePattern(std::string_view pattern) {
  for (size_t i = 0; i < pattern.size();) {
    if (pattern[i] == '\\') {
      if (i + 1 >= pattern.size()) BadPattern(pattern);
      i += 2;
    } else if (pattern[i] == '[') {
      MatchClass(pattern, i, "", &i);
    } else {
      ++i;
    }
  }
}

/// patternmatcher's regexp semantics, interpreted directly: `*` and `?` stay within one path
/// element, `**` followed by `/` (or by more pattern) spans zero or more whole directories,
/// a trailing `**` matches everything.
bool MatchFrom(std::string_view pattern, size_t pi, std::string_view path, size_t si) {
  while (pi < pattern.size()) {
    const char c = pattern[pi];
    if (c == '*' && pi + 1 < pattern.size() && pattern[pi + 1] == '*') {
      pi += 2;
      if (pi < pattern.size() && pattern[pi] == '/') ++pi;
      if (pi == pattern.size()) return true;
      if (MatchFrom(pattern, pi, path, si)) return true;
      for (size_t k = si; k < path.size(); ++k) {
        if (path[k] == '/' && MatchFrom(pattern, pi, path, k + 1)) return true;
      }
      return false;
    }
    if (c == '*') {
      for (size_t k = si;; ++k) {
        if (MatchFrom(pattern, pi + 1, path, k)) return true;
        if (k == path.size() || path[k] == '/') return false;
      }
    }
    if (si >= path.size()) return false;
    const size_t rune = RuneLength(path, si);
    if (c == '?') {
      if (path[si] == '/') return false;
      ++pi;
    } else if (c == '[') {
      if (!MatchClass(pattern, pi, path.substr(si, rune), &pi)) return false;
    } else {
      const size_t literal = c == '\\' ? pi + 1 : pi;
      if (path.substr(si, rune) != pattern.substr(literal, RuneLength(pattern, literal))) {
        return false;
      }
      pi = literal + rune;
    }
    si += rune;
  }
  return si == path.size();
}

/// patternmatcher's "suffix match" shortcut: a pattern `**` + literal text matches any
/// path ending in that text, so `**file` matches `dir/xfile` (Docker's behaviour).
bool IsSuffixPattern(std::string_view pattern) {
  return pattern.starts_with("**") && pattern.find_first_of("*?[]\\", 2) == std::string_view::npos;
}

bool MatchValidated(std::string_view pattern, std::string_view path) {
  if (IsSuffixPattern(pattern)) {
    const std::string_view suffix = pattern.substr(2);
    return path.ends_with(suffix) ||
           (!suffix.empty() && suffix[0] == '/' && path == suffix.substr(1));
  }
  return MatchFrom(pattern, 0, path, 0);
}

/// The pattern matches `path` itself or one of its parent directories.
bool MatchesOrParentMatches(std::string_view pattern, std::string_view path) {
  if (MatchValidated(pattern, path)) return true;
  for (size_t slash = path.find('/'); slash != std::string_view::npos;
       slash = path.find('/', slash + 1)) {
    if (MatchValidated(pattern, path.substr(0, slash))) return true;
  }
  return false;
}

bool IsException(std::string_view pattern) {
  return !pattern.empty() && pattern[0] == '!';
}

/// dockerignore.ReadAll's normalization of one pattern: trimmed, `!` split off and the rest
/// trimmed, cleaned, one leading `/` dropped. "" for a blank line.
std::string NormalizePattern(std::string_view line) {
  std::string_view pattern = TrimSpace(line);
  if (pattern.empty()) return "";
  const bool exception = pattern[0] == '!';
  if (exception) pattern = TrimSpace(pattern.substr(1));
  if (pattern.empty()) throw std::invalid_argument("illegal exclusion pattern: \"!\"");
  std::string cleaned = CleanPath(pattern);
  if (cleaned.size() > 1 && cleaned[0] == '/') cleaned.erase(0, 1);
  ValidatePattern(cleaned);
  return exception ? "!" + cleaned : cleaned;
}

}  // namespace

IgnoreRules::IgnoreRules(std::vector<std::string> patterns) {
  for (const std::string& line : patterns) {
    std::string pattern = NormalizePattern(line);
    if (!pattern.empty()) patterns_.push_back(std::move(pattern));
  }
}

IgnoreRules IgnoreRules::Parse(std::string_view text) {
  static constexpr std::string_view kUtf8Bom = "\xEF\xBB\xBF";
  if (text.starts_with(kUtf8Bom)) text.remove_prefix(kUtf8Bom.size());
  std::vector<std::string> lines;
  while (!text.empty()) {
    const size_t newline = text.find('\n');
    const std::string_view line = text.substr(0, newline);
    text = newline == std::string_view::npos ? std::string_view() : text.substr(newline + 1);
    // As in Docker, only a `#` in the very first column starts a comment.
    if (!line.starts_with('#')) lines.emplace_back(line);
  }
  return IgnoreRules(std::move(lines));
}

bool IgnoreRules::Excludes(std::string_view path) const {
  const std::string file = CleanPath(path);
  if (file == ".") return false;  // the context root itself is never excluded
  bool excluded = false;
  for (const std::string& pattern : patterns_) {
    const bool exception = IsException(pattern);
    // Only a pattern that could change the verdict needs evaluating.
    if (exception != excluded) continue;
    const std::string_view body = std::string_view(pattern).substr(exception ? 1 : 0);
    if (MatchesOrParentMatches(body, file)) excluded = !exception;
  }
  return excluded;
}

bool IgnoreRules::MayIncludeUnder(std::string_view dir) const {
  const std::string cleaned = CleanPath(dir);
  const std::vector<std::string_view> dir_parts =
      cleaned == "." ? std::vector<std::string_view>() : SplitPath(cleaned);
  for (const std::string& pattern : patterns_) {
    if (!IsException(pattern)) continue;
    // The exception can match below `dir` unless one of its leading elements, compared
    // with the directories of `dir`, rules that out. `**` can stand for anything.
    const std::vector<std::string_view> parts = SplitPath(std::string_view(pattern).substr(1));
    bool possible = true;
    for (size_t i = 0; possible && i < std::min(parts.size(), dir_parts.size()); ++i) {
      if (parts[i].find("**") != std::string_view::npos) break;
      possible = MatchValidated(parts[i], dir_parts[i]);
    }
    if (possible) return true;
  }
  return false;
}

bool MatchPathPattern(std::string_view pattern, std::string_view path) {
  ValidatePattern(pattern);
  return MatchValidated(pattern, path);
}

std::string ReadIgnoreFile(const FileSystem& fs, const std::string& dockerfile_path,
                           const std::string& context_dir) {
  if (!dockerfile_path.empty()) {
    if (auto own = fs.ReadFile(dockerfile_path + ".dockerignore")) return *own;
  }
  std::string shared = context_dir;
  if (!shared.empty() && shared.back() != '/') shared += '/';
  shared += ".dockerignore";
  return fs.ReadFile(shared).value_or("");
}

}  // namespace kiln
