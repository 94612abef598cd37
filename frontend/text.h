// Small text helpers the frontend's parts share. ASCII only: Dockerfile keywords, flag names,
// stage names and protocols are ASCII; other bytes pass through unchanged.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace kiln {

/// `text` with ASCII letters in lower case ("AS" -> "as").
std::string Lower(std::string_view text);

/// `text` with ASCII letters in upper case ("copy" -> "COPY").
std::string Upper(std::string_view text);

/// True for the whitespace of the C locale: space, \t, \n, \v, \f, \r.
bool IsSpace(char c);

/// True for '0'..'9' (an int, so that a reader's end-of-input value is simply not a digit).
bool IsAsciiDigit(int c);

/// The length in bytes of the UTF-8 sequence that starts at s[i] (at least 1; a malformed
/// sequence ends at the next byte that is not a continuation byte).
size_t RuneLength(std::string_view s, size_t i);

/// True when `text` is one or more ASCII digits.
bool IsDigits(std::string_view text);

/// `text` without the whitespace (std::isspace) at its ends.
std::string_view Trim(std::string_view text);

/// True when `text` is a file mode in octal: one to five digits 0-7, at most 07777.
bool IsOctalMode(std::string_view text);

/// Edit distance counting a swap of neighbours as one edit (Damerau's optimal string alignment):
/// how typos are matched to the keywords and flags they were meant to be.
size_t EditDistance(std::string_view a, std::string_view b);

}  // namespace kiln
