#include "frontend/dockerignore.h"

#include <catch2/catch.hpp>

#include <stdexcept>

namespace kiln {
namespace {

struct ExcludeCase {
  const char* ignore_file;  // the text of a .dockerignore
  const char* path;
  bool excluded;
};

// clang-format off
const ExcludeCase kExcludeCases[] = {
    // `*` stays within one path element.
    {"*.go", "main.go", true},
    {"*.go", "cmd/main.go", false},
    {"*", "anything", true},
    {"*", "dir/file", true},  // through the parent `dir`
    {"a*/b", "abc/b", true},
    {"a*/b", "a/c/b", false},
    {"*/*.txt", "docs/a.txt", true},
    {"*/*.txt", "a.txt", false},
    {"*/*.txt", "docs/sub/a.txt", false},
    {"abc.def", "abcXdef", false},
    {".*", ".git", true},
    {".*", "foo", false},
    // `?` is one character, never `/`.
    {"file?.txt", "file1.txt", true},
    {"file?.txt", "file10.txt", false},
    {"a?b", "a/b", false},
    {"a?b", "a\xE2\x98\xBA" "b", true},  // a☺b: one character, three bytes
    // Bracket expressions, Go syntax: only `^` negates.
    {"a[b-d]e", "ace", true},
    {"a[b-d]e", "aae", false},
    {"a[^b-d]e", "aze", true},
    {"a[^b-d]e", "ace", false},
    {"[!a]x", "!x", true},
    {"[!a]x", "bx", false},
    {"[\\]a]", "]", true},
    {"[x\\-]", "-", true},
    {"ab[c]", "abc", true},
    // Escapes.
    {"a\\*b", "a*b", true},
    {"a\\*b", "axb", false},
    {"a\\\\", "a\\", true},
    // `**` leading, in the middle and trailing.
    {"**/*.go", "main.go", true},
    {"**/*.go", "a/b/c.go", true},
    {"**/*.go", "a/b/c.txt", false},
    {"dir/**", "dir/a/b", true},
    {"dir/**", "dir", false},
    {"a/**/b", "a/b", true},
    {"a/**/b", "a/x/y/b", true},
    {"a/**/b", "a/x/y/c", false},
    {"a/**/b", "a/x/y/b/deeper", true},
    {"**", "any/thing", true},
    {"**/dir", "dir/file", true},
    {"**/foo/bar", "dir/dir2/foo/bar", true},
    {"**/.foo", "bar.foo", false},
    {"a**/*.txt", "a/dir/file.txt", true},
    {"**/dir2/*", "dir/dir2/file", true},
    {"**file", "dir/xfile", true},  // Docker's suffix shortcut for `**` + literal
    {"**/file*", "dir/xfile", false},
    // Exceptions; the last matching pattern wins.
    {"*.go\n!main.go", "main.go", false},
    {"*.go\n!main.go", "util.go", true},
    {"!main.go\n*.go", "main.go", true},
    {"docs\n!docs/README.md", "docs/README.md", false},
    {"docs\n!docs/README.md", "docs/other.md", true},
    {"docs/*\n!docs/README.md", "docs/README.md", false},
    {"**\n!keep/**\nkeep/tmp", "keep/tmp/x", true},
    {"**\n!keep/**\nkeep/tmp", "keep/src/x", false},
    {"**\n!util/docker/web", "util/docker/web/foo", false},
    {"*\n!src\nsrc/*.o", "src/a.o", true},
    {"*\n!src\nsrc/*.o", "src/a.c", false},
    // A directory pattern excludes everything below it, only at its own place.
    {"node_modules", "node_modules/a/b/c.js", true},
    {"node_modules", "src/node_modules/x", false},
    {"build/", "build/out.o", true},
    // Comments, blank lines, spaces, CRLF, BOM.
    {"# comment\n*.log", "x.log", true},
    {"# *.log", "x.log", false},
    {" # not a comment", "# not a comment", true},
    {"\n  *.tmp  \n\n", "a.tmp", true},
    {"*.tmp\r\n", "a.tmp", true},
    {"\xEF\xBB\xBF*.md", "a.md", true},
    // Leading `/` and `./`, cleaning.
    {"/secret", "secret", true},
    {"./secret", "secret", true},
    {"*\n! /keep", "keep", false},
    {"a//b/../c", "a/c", true},
    {"a/./b", "a/b", true},
    {"*.go", "./main.go", true},
    // The context root itself is never excluded.
    {"*", ".", false},
    {"", "x", false},
};
// clang-format on

TEST_CASE("IgnoreRules excludes as Docker's patternmatcher does", "[dockerignore]") {
  STATIC_REQUIRE(sizeof(kExcludeCases) / sizeof(kExcludeCases[0]) >= 50);
  for (const ExcludeCase& c : kExcludeCases) {
    INFO("patterns: " << c.ignore_file << "\npath: " << c.path);
    CHECK(IgnoreRules::Parse(c.ignore_file).Excludes(c.path) == c.excluded);
  }
}

TEST_CASE("Parse normalizes lines as dockerignore.ReadAll", "[dockerignore]") {
  const IgnoreRules rules = IgnoreRules::Parse(
      "test1\n/test2\n/a/file/here\n\nlastfile\n# this is a comment\n! /inverted/abs/path\n"
      "  ./x/../y//z/  \n!  ./keep\n/\n");
  CHECK(rules.patterns() == std::vector<std::string>{"test1", "test2", "a/file/here", "lastfile",
                                                     "!inverted/abs/path", "y/z", "!keep", "/"});
}

TEST_CASE("The constructor normalizes like Parse", "[dockerignore]") {
  const IgnoreRules rules({" /a/ ", "", "!./b", "c/d/.."});
  CHECK(rules.patterns() == std::vector<std::string>{"a", "!b", "c"});
}

TEST_CASE("Malformed patterns are rejected", "[dockerignore]") {
  for (const char* text : {"!", "! ", "[", "a[", "[^", "[]a]", "[-]", "[x-]", "[a-b-c]", "a\\"}) {
    INFO("pattern: " << text);
    CHECK_THROWS_AS(IgnoreRules::Parse(text), std::invalid_argument);
  }
  CHECK_THROWS_WITH(IgnoreRules::Parse("ok\n!"), Catch::Contains("illegal exclusion pattern"));
  CHECK_THROWS_WITH(IgnoreRules::Parse("a["), Catch::Contains("syntax error in pattern"));
}

struct MayIncludeCase {
  const char* ignore_file;
  const char* dir;
  bool may_include;
};

TEST_CASE("MayIncludeUnder tells when an exception may reach below a directory", "[dockerignore]") {
  const MayIncludeCase cases[] = {
      {"vendor\n!vendor/keep.txt", "vendor", true},
      {"vendor\n!vendor/keep.txt", "vendor/sub", false},
      {"vendor", "vendor", false},
      {"**\n!*/keep", "a", true},
      {"**\n!*/keep", "a/b", false},
      {"**\n!**/keep", "a/b/c", true},
      {"docs\n!docs", "docs/sub", true},
      {"*\n!src/**/*.go", "src/x/y", true},
      {"*\n!src/**/*.go", "lib", false},
      {"*\n!*.go", "vendor", false},
      {"*\n!s[a-c]c/x", "sbc", true},
      {"*\n!s[a-c]c/x", "sdc", false},
  };
  for (const MayIncludeCase& c : cases) {
    INFO("patterns: " << c.ignore_file << "\ndir: " << c.dir);
    CHECK(IgnoreRules::Parse(c.ignore_file).MayIncludeUnder(c.dir) == c.may_include);
  }
}

TEST_CASE("MatchPathPattern matches one path without parent matching", "[dockerignore]") {
  CHECK(MatchPathPattern("**/*.go", "a/b.go"));
  CHECK(MatchPathPattern("src/*.txt", "src/a.txt"));
  CHECK_FALSE(MatchPathPattern("src/*.txt", "src/a/b.txt"));
  CHECK_FALSE(MatchPathPattern("dir", "dir/file"));
  CHECK(MatchPathPattern("dir/**", "dir/file"));
  CHECK(MatchPathPattern("**", "x/y/z"));
  CHECK(MatchPathPattern("**/dir", "dir"));
  CHECK_FALSE(MatchPathPattern("abc/**", "abc"));
  CHECK_THROWS_AS(MatchPathPattern("[", "x"), std::invalid_argument);
}

TEST_CASE("ReadIgnoreFile prefers the Dockerfile's own ignore file", "[dockerignore]") {
  MemoryFileSystem fs;
  fs.files["ctx/.dockerignore"] = "shared";
  fs.files["ctx/dir/Dockerfile.dockerignore"] = "own";

  CHECK(ReadIgnoreFile(fs, "ctx/dir/Dockerfile", "ctx") == "own");
  CHECK(ReadIgnoreFile(fs, "ctx/Dockerfile", "ctx") == "shared");
  CHECK(ReadIgnoreFile(fs, "ctx/Dockerfile", "ctx/") == "shared");
  CHECK(ReadIgnoreFile(fs, "", "ctx") == "shared");

  fs.files["ctx/Dockerfile.dockerignore"] = "root own";
  CHECK(ReadIgnoreFile(fs, "ctx/Dockerfile", "ctx") == "root own");

  fs.files.erase("ctx/.dockerignore");
  CHECK(ReadIgnoreFile(fs, "ctx/other.Dockerfile", "ctx").empty());
  CHECK(ReadIgnoreFile(fs, "elsewhere/Dockerfile", "nowhere").empty());

  MemoryFileSystem here;
  here.files[".dockerignore"] = "cwd";
  CHECK(ReadIgnoreFile(here, "Dockerfile", "") == "cwd");
}

}  // namespace
}  // namespace kiln
