#include "frontend/shell_word.h"

#include <catch2/catch.hpp>

namespace kiln {
namespace {

Variables CommonVars() {
  return {
      {"FOO", "foo"},
      {"BAR", "bar"},
      {"EMPTY", ""},
      {"SP", "a b  c"},
      {"FILE", "archive.tar.gz"},
      {"PATHV", "/usr/local/bin"},
      {"STARS", "a***yy*"},
      {"URL", "http://example.com/x"},
      {"UNI", "h\xC3\xA9llo"},  // "héllo": `?` takes the two-byte é as one character
      {"GLOB", "\\*/"},         // a value used as a pattern keeps its escapes
      {"GLOBBED", "/foo*/*/*.txt"},
  };
}

struct WordCase {
  const char* input;
  const char* expected;
};

// clang-format off
const WordCase kWordCases[] = {
    // Plain text and simple references.
    {"", ""},
    {"plain", "plain"},
    {"$FOO", "foo"},
    {"${FOO}", "foo"},
    {"$FOO$BAR", "foobar"},
    {"${FOO}bar", "foobar"},
    {"$FOObar", ""},  // the name runs on: FOObar is unset
    {"$FOO-bar", "foo-bar"},
    {"$FOO.bar", "foo.bar"},
    {"$FOO/x", "foo/x"},
    {"$UNSET", ""},
    {"x${UNSET}y", "xy"},
    {"$FOO_BAR", ""},
    {"${SP}", "a b  c"},  // ExpandWord never splits
    // `$` not followed by a name stays literal.
    {"$", "$"},
    {"a$", "a$"},
    {"$ x", "$ x"},
    {"$/", "$/"},
    {"$%", "$%"},
    {"$=", "$="},
    // Positional and special parameters are names that are never set.
    {"$1", ""},
    {"$12x", "x"},
    {"${1}", ""},
    {"$0", ""},
    {"$@", ""},
    {"$*", ""},
    {"$#", ""},
    {"$?x", "x"},
    {"$$", ""},
    {"$!", ""},
    {"$-", ""},
    {"${#}", ""},
    // Defaults and alternatives.
    {"${FOO:-def}", "foo"},
    {"${UNSET:-def}", "def"},
    {"${EMPTY:-def}", "def"},
    {"${EMPTY-def}", ""},
    {"${UNSET-def}", "def"},
    {"${FOO-def}", "foo"},
    {"${FOO:+alt}", "alt"},
    {"${EMPTY:+alt}", ""},
    {"${EMPTY+alt}", "alt"},
    {"${UNSET+alt}", ""},
    {"${UNSET:+alt}", ""},
    {"${FOO:?err}", "foo"},
    {"${FOO?err}", "foo"},
    {"${EMPTY?err}", ""},
    {"${UNSET:-}", ""},
    // Nested expansion, quotes and escapes inside the word part.
    {"${UNSET:-$FOO}", "foo"},
    {"${UNSET:-${BAR}x}", "barx"},
    {"${UNSET:-${ALSO:-deep}}", "deep"},
    {"${UNSET:-a b}", "a b"},
    {"${UNSET:-'}'}", "}"},
    {"${UNSET:-\"q $FOO\"}", "q foo"},
    {"${UNSET:-a\\}b}", "a}b"},
    {"${FOO:+${BAR:+both}}", "both"},
    {"pre${FOO:+-$BAR}post", "pre-barpost"},
    // Prefix and suffix removal with shell patterns.
    {"${FILE#*.}", "tar.gz"},
    {"${FILE##*.}", "gz"},
    {"${FILE%.*}", "archive.tar"},
    {"${FILE%%.*}", "archive"},
    {"${FILE#nomatch}", "archive.tar.gz"},
    {"${FILE%nomatch}", "archive.tar.gz"},
    {"${FILE#a?c}", "hive.tar.gz"},
    {"${FILE#[a-c]}", "rchive.tar.gz"},
    {"${FILE#[!a]}", "archive.tar.gz"},
    {"${FILE#[^x]r}", "chive.tar.gz"},
    {"${FILE%[xyz]}", "archive.tar.g"},
    {"${FILE#*}", "archive.tar.gz"},  // shortest match of * is empty
    {"${FILE##*}", ""},
    {"${STARS%\\*}", "a***yy"},
    {"${STARS%%\\**\\*}", "a"},
    {"${PATHV##*/}", "bin"},
    {"${PATHV%/*}", "/usr/local"},
    {"${PATHV#/}", "usr/local/bin"},
    {"${PATHV#$PATHV}", ""},
    {"${FOO#}", "foo"},
    {"${FOO%%}", "foo"},
    {"${UNSET#x}", ""},
    {"${UNI#?}", "\xC3\xA9llo"},
    {"${UNI#h?}", "llo"},
    {"${FOO:#f}", "oo"},  // BuildKit accepts `:#` and `:%` as `#` and `%`
    // Pattern substitution: leftmost, longest match.
    {"${PATHV/local/share}", "/usr/share/bin"},
    {"${PATHV//\\//:}", ":usr:local:bin"},
    {"${FILE/./-}", "archive-tar.gz"},
    {"${FILE//./-}", "archive-tar-gz"},
    {"${FILE/*./X}", "Xgz"},
    {"${FILE/a?c/Q}", "Qhive.tar.gz"},
    {"${FILE//[a-c]/_}", "_r_hive.t_r.gz"},
    {"${FILE/nomatch/x}", "archive.tar.gz"},
    {"${URL/http:\\/\\//https://}", "https://example.com/x"},
    {"${FOO//o/0}", "f00"},
    {"${FOO//*/x}", "x"},
    {"${FOO///}", "foo"},
    {"${FOO/$EMPTY/ww}", "wwfoo"},
    {"${UNSET/a/b}", ""},
    {"${GLOBBED//$GLOB/.}", "/foo..*.txt"},  // pattern \*/ needs a literal "*/"
    {"${PATHV//\\//\\/}", "\\/usr\\/local\\/bin"},  // BuildKit keeps escapes in the replacement
    // Single quotes are literal.
    {"'$FOO'", "$FOO"},
    {"'a\\b'", "a\\b"},
    {"'say \"hi\"'", "say \"hi\""},
    {"''", ""},
    // Double quotes expand and know only a few escapes.
    {"\"$FOO\"", "foo"},
    {"\"${FOO}s\"", "foos"},
    {"\"a\\\"b\"", "a\"b"},
    {"\"a\\$FOO\"", "a$FOO"},
    {"\"a\\\\b\"", "a\\b"},
    {"\"a\\nb\"", "a\\nb"},
    {"\"a\\\nb\"", "a\\\nb"},  // BuildKit does not treat backslash-newline specially
    {"\"it's\"", "it's"},
    {"\"$\"", "$"},
    {"\"\"", ""},
    {"\"$FOO\"'s'", "foos"},
    {"a'b'c\"d\"e", "abcde"},
    // The escape character outside quotes.
    {"\\$FOO", "$FOO"},
    {"\\\\", "\\"},
    {"a\\ b", "a b"},
    {"\\'x", "'x"},
    {"\\\"x", "\"x"},
    {"trail\\", "trail"},
    {"\\${FOO}", "${FOO}"},
};
// clang-format on

TEST_CASE("ExpandWord follows BuildKit's expansion rules", "[shell_word]") {
  const ShellWordExpander expander;
  const Variables vars = CommonVars();
  STATIC_REQUIRE(sizeof(kWordCases) / sizeof(kWordCases[0]) >= 80);
  for (const WordCase& c : kWordCases) {
    INFO("input: " << c.input);
    CHECK(expander.ExpandWord(c.input, vars) == c.expected);
  }
}

struct ErrorCase {
  const char* input;
  const char* message;
  size_t offset;
};

// clang-format off
const ErrorCase kErrorCases[] = {
    {"'abc", "unexpected end of statement while looking for matching single-quote", 0},
    {"$FOO 'x", "matching single-quote", 5},
    {"x\"abc", "unexpected end of statement while looking for matching double-quote", 1},
    {"\"a\\\"", "matching double-quote", 0},
    {"\"a\\", "matching double-quote", 0},
    {"${", "syntax error: missing '}'", 0},
    {"${FOO", "missing '}'", 0},
    {"${FOO:", "missing '}'", 0},
    {"a${FOO:-x", "missing '}'", 1},
    {"x ${A:-${B}", "missing '}'", 2},
    {"${FOO:-\"x}", "missing '}'", 0},  // as BuildKit: an error at the end is the missing brace
    {"${FOO#\\", "missing '}'", 0},
    {"${}", "syntax error: bad substitution", 0},
    {"${:}", "bad substitution", 0},
    {"a${{FOO}}", "bad substitution", 1},
    {"${FOO:x}", "bad substitution: unsupported modifier (:x)", 0},
    {"${1abc}", "bad substitution: unsupported modifier (a)", 0},
    {"${FOO=x}", "unsupported modifier (=)", 0},
    {"${FOO:=x}", "unsupported modifier (:=)", 0},
    {"${ FOO}", "bad substitution", 0},
    {"${#FOO}", "unsupported modifier (F)", 0},
    {"ab${UNSET:?must be set}", "UNSET: must be set", 2},
    {"${UNSET?}", "UNSET: is not allowed to be unset", 0},
    {"${UNSET:?}", "UNSET: is not allowed to be unset", 0},
    {"${EMPTY:?}", "EMPTY: is not allowed to be empty", 0},
    {"${EMPTY:?no $FOO}", "EMPTY: no foo", 0},
    {"${UNSET?msg $FOO}", "UNSET: msg foo", 0},
    {"x ${X:-${UNSET:?inner}}", "UNSET: inner", 7},
    {"${FOO/abc", "syntax error: missing '/' in ${}", 0},
    {"${FOO/a/b", "missing '}'", 0},
};
// clang-format on

TEST_CASE("ExpandWord reports malformed words with their offset", "[shell_word]") {
  const ShellWordExpander expander;
  const Variables vars = CommonVars();
  for (const ErrorCase& c : kErrorCases) {
    INFO("input: " << c.input);
    try {
      expander.ExpandWord(c.input, vars);
      FAIL("expected an ExpansionError");
    } catch (const ExpansionError& e) {
      CHECK_THAT(e.what(), Catch::Contains(c.message));
      CHECK(e.offset() == c.offset);
    }
    // ExpandWords parses the same way.
    CHECK_THROWS_AS(expander.ExpandWords(c.input, vars), ExpansionError);
  }
}

TEST_CASE("A backtick escape character leaves backslashes literal", "[shell_word]") {
  const ShellWordExpander expander('`');
  const Variables vars = CommonVars();
  // clang-format off
  const WordCase cases[] = {
      {"C:\\path\\to", "C:\\path\\to"},
      {"a` b", "a b"},
      {"`$FOO", "$FOO"},
      {"``", "`"},
      {"\"a`\"b\"", "a\"b"},
      {"\"a\\\"", "a\\"},
      {"\"`$FOO\"", "$FOO"},
      {"\"a`b\"", "a`b"},
      {"\\$FOO", "\\foo"},
      {"${UNSET:-c:\\x}", "c:\\x"},
      {"${UNSET:-a`}b}", "a}b"},
      {"trail`", "trail"},
  };
  // clang-format on
  for (const WordCase& c : cases) {
    INFO("input: " << c.input);
    CHECK(expander.ExpandWord(c.input, vars) == c.expected);
  }
  CHECK(expander.ExpandWords("C:\\a` b C:\\c", vars) ==
        std::vector<std::string>{"C:\\a b", "C:\\c"});
}

struct WordsCase {
  const char* input;
  std::vector<std::string> expected;
};

TEST_CASE("ExpandWords splits exactly like BuildKit's ProcessWords", "[shell_word]") {
  const ShellWordExpander expander;
  const Variables vars = CommonVars();
  const WordsCase cases[] = {
      {"a b", {"a", "b"}},
      {"  a   b  ", {"a", "b"}},
      {"a\tb\nc", {"a", "b", "c"}},
      {"\"a b\" c", {"a b", "c"}},
      {"'a b'c", {"a bc"}},
      {"a\\ b", {"a b"}},
      {"$FOO $BAR", {"foo", "bar"}},
      {"${FOO}x ${BAR}", {"foox", "bar"}},
      {"'$FOO' $FOO", {"$FOO", "foo"}},
      // Unquoted expansions are split again after substitution...
      {"$SP", {"a", "b", "c"}},
      {"x$SP", {"xa", "b", "c"}},
      // ...including quotes inside a ${...} word part, whose result is split as a whole.
      {"${UNSET:-\"a b\"}", {"a", "b"}},
      // ...but not inside double quotes.
      {"\"$SP\"", {"a b  c"}},
      // Empty words are dropped, even quoted ones.
      {"", {}},
      {"$EMPTY", {}},
      {"\"\"", {}},
      {"a \"\" b", {"a", "b"}},
      {"\"\"a", {"a"}},
      {"''", {}},
  };
  for (const WordsCase& c : cases) {
    INFO("input: " << c.input);
    CHECK(expander.ExpandWords(c.input, vars) == c.expected);
  }
}

TEST_CASE("Every referenced variable name is reported as used", "[shell_word]") {
  const ShellWordExpander expander;
  Variables vars = CommonVars();
  vars["N"] = "set";

  std::set<std::string> used;
  expander.ExpandWord(
      "$A ${B} ${C:-$D} ${E#$F} ${G/$H/$I} '$J' \\$K \"$L\" $1 ${M:+x} ${N?set} $FOO", vars, &used);
  CHECK(used == std::set<std::string>{"A", "B", "C", "D", "E", "F", "G", "H", "I", "L", "1", "M",
                                      "N", "FOO"});
}

TEST_CASE("Used names are collected by ExpandWords and accumulate", "[shell_word]") {
  const ShellWordExpander expander;
  Variables vars = {{"N", "1"}};
  std::set<std::string> used = {"EARLIER"};
  CHECK(expander.ExpandWords("$N ${OTHER:-x}", vars, &used) == std::vector<std::string>{"1", "x"});
  CHECK(used == std::set<std::string>{"EARLIER", "N", "OTHER"});
  // Names in literal text are not references.
  std::set<std::string> none;
  expander.ExpandWord("'$Q' \\$R NAME", vars, &none);
  CHECK(none.empty());
}

}  // namespace
}  // namespace kiln
