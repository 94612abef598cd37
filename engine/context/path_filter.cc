#include "engine/context/path_filter.h"

#include <deque>

namespace kiln {
namespace {

/// Splits on '/', dropping empty components.
std::vector<std::string_view> Components(std::string_view path) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    if (end > start) parts.push_back(path.substr(start, end - start));
    start = end + 1;
  }
  return parts;
}

std::string JoinRelative(std::string_view a, std::string_view b) {
  if (a.empty()) return std::string(b);
  if (b.empty()) return std::string(a);
  std::string out;
  out.reserve(a.size() + 1 + b.size());
  out.append(a).append("/").append(b);
  return out;
}

}  // namespace

bool PathMatcher::Matches(std::string_view pattern, std::string_view path) const {
  if (!match) throw std::logic_error("PathMatcher::match is required for wildcard patterns");
  return match(pattern, path);
}

void ThrowSourceNotFound(std::string_view instruction, std::string_view source, bool from_context) {
  std::string message(instruction);
  message += " failed: ";
  if (from_context) message += "file not found in build context or excluded by .dockerignore: ";
  message += "stat ";
  message += source;
  message += ": file does not exist";
  throw SourceNotFoundError(message);
}

std::string CleanRelativePath(std::string_view path) {
  std::vector<std::string_view> kept;
  for (std::string_view part : Components(path)) {
    if (part == ".") continue;
    if (part == "..") {
      if (!kept.empty()) kept.pop_back();
      continue;
    }
    kept.push_back(part);
  }
  std::string out;
  for (std::string_view part : kept) {
    if (!out.empty()) out += '/';
    out += part;
  }
  return out;
}

bool HasWildcard(std::string_view path) {
  for (size_t i = 0; i < path.size(); ++i) {
    if (path[i] == '\\') {
      ++i;
    } else if (path[i] == '*' || path[i] == '?' || path[i] == '[') {
      return true;
    }
  }
  return false;
}

std::string PivotedSource::Joined() const {
  return JoinRelative(base, kept);
}

PivotedSource SplitParentsPivot(std::string_view source) {
  // A leading "./" is not a pivot: only "/./" after some parent path is.
  while (source.substr(0, 2) == "./") source.remove_prefix(2);
  const size_t pivot = source.find("/./");
  if (pivot == std::string_view::npos) return {"", CleanRelativePath(source)};
  return {CleanRelativePath(source.substr(0, pivot)), CleanRelativePath(source.substr(pivot + 3))};
}

bool MatchesAnyOrParent(const PathMatcher& matcher, const std::vector<std::string>& patterns,
                        std::string_view relative) {
  if (patterns.empty()) return false;
  for (size_t end = relative.find('/');; end = relative.find('/', end + 1)) {
    const std::string_view prefix = relative.substr(0, end);
    for (const std::string& pattern : patterns) {
      if (matcher.Matches(pattern, prefix)) return true;
    }
    if (end == std::string_view::npos) return false;
  }
}

std::string ResolveInRoot(std::string_view path, bool follow_last, const SymlinkReader& readlink) {
  std::deque<std::string> pending;
  for (std::string_view part : Components(path)) pending.emplace_back(part);
  std::string current;
  int links = 0;
  while (!pending.empty()) {
    const std::string part = std::move(pending.front());
    pending.pop_front();
    if (part == ".") continue;
    if (part == "..") {
      const size_t slash = current.rfind('/');
      current.resize(slash == std::string::npos ? 0 : slash);
      continue;
    }
    std::string candidate = JoinRelative(current, part);
    const bool last = pending.empty();
    std::optional<std::string> target;
    if (!last || follow_last) target = readlink(candidate);
    if (!target) {
      current = std::move(candidate);
      continue;
    }
    if (++links > 255) {
      throw std::runtime_error("too many levels of symbolic links resolving " + std::string(path));
    }
    if (!target->empty() && target->front() == '/') current.clear();
    std::vector<std::string_view> parts = Components(*target);
    for (auto it = parts.rbegin(); it != parts.rend(); ++it) pending.emplace_front(*it);
  }
  return current;
}

std::string_view BaseName(std::string_view path) {
  const size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

}  // namespace kiln
