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
