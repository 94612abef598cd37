#include "driver/context_matcher.h"

#include "frontend/dockerignore.h"

namespace kiln::driver {

PathMatcher MakePathMatcher(const std::vector<std::string>& ignore_patterns) {
  PathMatcher matcher;
  matcher.match = [](std::string_view pattern, std::string_view path) {
    return MatchPathPattern(pattern, path);
  };
  if (!ignore_patterns.empty()) {
    auto rules = std::make_shared<IgnoreRules>(ignore_patterns);
    matcher.excluded = [rules](std::string_view path) { return rules->Excludes(path); };
    matcher.may_include_under = [rules](std::string_view dir) {
      return rules->MayIncludeUnder(dir);
    };
  }
  return matcher;
}

}  // namespace kiln::driver
