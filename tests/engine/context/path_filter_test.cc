#include "engine/context/path_filter.h"

#include <catch2/catch.hpp>
#include <map>

#include "tests/engine/context/copy_test_support.h"

namespace kiln {
namespace {

TEST_CASE("source paths are cleaned inside the root", "[path_filter]") {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"a/b.c", "a/b.c"}, {"/a/./b/", "a/b"}, {"../x", "x"}, {"../../a/../b", "b"},
      {".", ""},          {"/", ""},          {"", ""},      {"a//b", "a/b"},
      {"./src/", "src"},  {"a/..", ""},       {"..", ""},    {"a/b/../../..", ""},
  };
  for (const auto& [input, cleaned] : cases) {
    INFO(input);
    CHECK(CleanRelativePath(input) == cleaned);
  }
}

TEST_CASE("wildcards and the --parents pivot", "[path_filter]") {
  CHECK(HasWildcard("*.txt"));
  CHECK(HasWildcard("a/b?/c"));
  CHECK(HasWildcard("[ab].c"));
  CHECK_FALSE(HasWildcard("plain/path.txt"));
  CHECK_FALSE(HasWildcard("escaped\\*.txt"));

  const PivotedSource none = SplitParentsPivot("./x/y/a.txt");
  CHECK(none.base == "");
  CHECK(none.kept == "x/y/a.txt");
  const PivotedSource pivot = SplitParentsPivot("x/./y/*.txt");
  CHECK(pivot.base == "x");
  CHECK(pivot.kept == "y/*.txt");
  CHECK(pivot.Joined() == "x/y/*.txt");
}

TEST_CASE("exclude patterns match a path or one of its parents", "[path_filter]") {
  const PathMatcher matcher = testing::TestMatcher();
  const std::vector<std::string> patterns = {"*.md", "build"};
  CHECK(MatchesAnyOrParent(matcher, patterns, "README.md"));
  CHECK(MatchesAnyOrParent(matcher, patterns, "build/out/x.o"));
  CHECK_FALSE(MatchesAnyOrParent(matcher, patterns, "docs/guide.md"));
  CHECK_FALSE(MatchesAnyOrParent(matcher, {}, "anything"));
}

TEST_CASE("symlinks resolve without leaving the root", "[path_filter]") {
  const std::map<std::string, std::string> links = {
      {"abs", "/etc"},     {"up", "../../../.."}, {"lib64", "lib"},
      {"lib/cur", "./v2"}, {"loop", "loop"},      {"var/run", "/run"},
  };
  const SymlinkReader reader = [&](const std::string& path) -> std::optional<std::string> {
    const auto it = links.find(path);
    if (it == links.end()) return std::nullopt;
    return it->second;
  };
  const std::vector<std::tuple<std::string, bool, std::string>> cases = {
      {"abs/passwd", true, "etc/passwd"},
      {"up/etc/shadow", true, "etc/shadow"},
      {"lib64/cur/libc.so", true, "lib/v2/libc.so"},
      {"lib64", false, "lib64"},
      {"lib64", true, "lib"},
      {"var/run/x.pid", true, "run/x.pid"},
      {"a/../../b", true, "b"},
  };
  for (const auto& [path, follow, resolved] : cases) {
    INFO(path);
    CHECK(ResolveInRoot(path, follow, reader) == resolved);
  }
  CHECK_THROWS_WITH(ResolveInRoot("loop", true, reader), Catch::Contains("too many levels"));
}

TEST_CASE("not-found errors use Docker's wording", "[path_filter]") {
  CHECK_THROWS_WITH(ThrowSourceNotFound("COPY", "missing.txt", true),
                    "COPY failed: file not found in build context or excluded by .dockerignore: "
                    "stat missing.txt: file does not exist");
  CHECK_THROWS_AS(ThrowSourceNotFound("ADD", "x", false), SourceNotFoundError);
}

}  // namespace
}  // namespace kiln
