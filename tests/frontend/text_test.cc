#include "frontend/text.h"

#include <catch2/catch.hpp>

namespace kiln {
namespace {

TEST_CASE("Lower and Upper change ASCII letters only", "[text]") {
  CHECK(Lower("FROM Alpine AS Build-1") == "from alpine as build-1");
  CHECK(Upper("copy --from=x") == "COPY --FROM=X");
  CHECK(Lower("CAF\xC3\x89") == "caf\xC3\x89");  // É is not ASCII: unchanged
  CHECK(Upper("") == "");
}

TEST_CASE("IsDigits wants one or more ASCII digits", "[text]") {
  CHECK(IsDigits("0"));
  CHECK(IsDigits("0123456789"));
  CHECK_FALSE(IsDigits(""));
  CHECK_FALSE(IsDigits("12a"));
  CHECK_FALSE(IsDigits("-1"));
  CHECK_FALSE(IsDigits(" 1"));
}

TEST_CASE("Trim drops whitespace at both ends only", "[text]") {
  CHECK(Trim("  a b\t\n") == "a b");
  CHECK(Trim(" \t ") == "");
  CHECK(Trim("x") == "x");
}

TEST_CASE("IsOctalMode accepts file modes up to 07777", "[text]") {
  CHECK(IsOctalMode("0"));
  CHECK(IsOctalMode("755"));
  CHECK(IsOctalMode("07777"));
  CHECK_FALSE(IsOctalMode(""));
  CHECK_FALSE(IsOctalMode("8"));
  CHECK_FALSE(IsOctalMode("17777"));   // above 07777
  CHECK_FALSE(IsOctalMode("000755"));  // six digits
  CHECK_FALSE(IsOctalMode("u+x"));
}

TEST_CASE("EditDistance counts a swap of neighbours as one edit", "[text]") {
  CHECK(EditDistance("", "") == 0);
  CHECK(EditDistance("copy", "copy") == 0);
  CHECK(EditDistance("", "run") == 3);
  CHECK(EditDistance("cpoy", "copy") == 1);  // swap
  CHECK(EditDistance("cop", "copy") == 1);   // insertion
  CHECK(EditDistance("coby", "copy") == 1);  // substitution
  CHECK(EditDistance("from", "form") == 1);
  CHECK(EditDistance("kitten", "sitting") == 3);
}

TEST_CASE("IsSpace is the C locale's whitespace and nothing else", "[text]") {
  for (char c : std::string(" \t\n\v\f\r")) CHECK(IsSpace(c));
  for (char c : std::string("a0_\x1f\x7f")) CHECK_FALSE(IsSpace(c));
  CHECK_FALSE(IsSpace('\xa0'));  // a byte of a UTF-8 no-break space is not ASCII whitespace
}

TEST_CASE("IsAsciiDigit takes a reader's end-of-input value too", "[text]") {
  CHECK(IsAsciiDigit('0'));
  CHECK(IsAsciiDigit('9'));
  CHECK_FALSE(IsAsciiDigit('a'));
  CHECK_FALSE(IsAsciiDigit(-1));
}

TEST_CASE("RuneLength spans one UTF-8 sequence", "[text]") {
  const std::string text = "a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80z";  // a é € 😀 z
  CHECK(RuneLength(text, 0) == 1);
  CHECK(RuneLength(text, 1) == 2);
  CHECK(RuneLength(text, 3) == 3);
  CHECK(RuneLength(text, 6) == 4);
  CHECK(RuneLength(text, 10) == 1);
  CHECK(RuneLength("\xc3", 0) == 1);  // cut short at the end of the text
}

}  // namespace
}  // namespace kiln
