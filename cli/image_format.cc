#include "cli/image_format.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>

#include "frontend/instructions.h"

namespace kiln::cli {

std::string HumanSize(double bytes) {
  static constexpr const char* kUnits[] = {"B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"};
  size_t unit = 0;
  while (bytes >= 1000 && unit + 1 < std::size(kUnits)) {
    bytes /= 1000;
    ++unit;
  }
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*g%s", 3, bytes, kUnits[unit]);
  return buf;
}

std::string HumanDuration(int64_t seconds) {
  auto plural = [](int64_t n, const char* unit) { return std::to_string(n) + " " + unit; };
  if (seconds < 1) return "Less than a second";
  if (seconds == 1) return "1 second";
  if (seconds < 60) return plural(seconds, "seconds");
  const int64_t minutes = seconds / 60;
  if (minutes == 1) return "About a minute";
  if (minutes < 60) return plural(minutes, "minutes");
  const auto hours = static_cast<int64_t>(std::llround(static_cast<double>(seconds) / 3600.0));
  if (hours == 1) return "About an hour";
  if (hours < 48) return plural(hours, "hours");
  if (hours < 24 * 7 * 2) return plural(hours / 24, "days");
  if (hours < 24 * 30 * 2) return plural(hours / 24 / 7, "weeks");
  if (hours < 24 * 365 * 2) return plural(hours / 24 / 30, "months");
  return plural(seconds / 3600 / 24 / 365, "years");
}

std::optional<int64_t> ParseRfc3339Nanos(std::string_view text) {
  int year, month, day, hour, minute, second, consumed = 0;
  const std::string s(text);
  if (std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &year, &month, &day, &hour, &minute,
                  &second, &consumed) != 6) {
    return std::nullopt;
  }
  size_t pos = static_cast<size_t>(consumed);
  int64_t nanos = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    int64_t scale = 100000000;
    for (; pos < s.size() && std::isdigit(static_cast<unsigned char>(s[pos])); ++pos, scale /= 10)
      nanos += (s[pos] - '0') * scale;
  }
  int64_t offset = 0;
  if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    int oh = 0, om = 0;
    if (std::sscanf(s.c_str() + pos + 1, "%2d:%2d", &oh, &om) != 2) return std::nullopt;
    offset = (s[pos] == '+' ? 1 : -1) * (oh * 3600 + om * 60);
  } else if (pos >= s.size() || (s[pos] != 'Z' && s[pos] != 'z')) {
    return std::nullopt;
  }
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  return (static_cast<int64_t>(timegm(&tm)) - offset) * 1000000000 + nanos;
}

std::optional<int64_t> ParseRfc3339(std::string_view text) {
  const std::optional<int64_t> nanos = ParseRfc3339Nanos(text);
  if (!nanos) return std::nullopt;
  return *nanos >= 0 ? *nanos / 1000000000 : -((-*nanos + 999999999) / 1000000000);
}

namespace {

/// "YYYY-MM-DD[THH[:MM[:SS[.frac]]]]" in local time, as Go's ParseInLocation reads Docker's
/// zone-less timestamps.
std::optional<int64_t> ParseLocalTimestamp(const std::string& s) {
  std::tm tm{};
  int consumed = 0;
  if (std::sscanf(s.c_str(), "%4d-%2d-%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &consumed) != 3)
    return std::nullopt;
  size_t pos = static_cast<size_t>(consumed);
  int* const fields[] = {&tm.tm_hour, &tm.tm_min, &tm.tm_sec};
  for (size_t i = 0; i < 3 && pos < s.size() && s[pos] == (i == 0 ? 'T' : ':'); ++i) {
    int n = 0;
    if (std::sscanf(s.c_str() + pos + 1, "%2d%n", fields[i], &n) != 1) return std::nullopt;
    pos += 1 + static_cast<size_t>(n);
  }
  int64_t nanos = 0;
  if (pos < s.size() && s[pos] == '.') {
    int64_t scale = 100000000;
    for (++pos; pos < s.size() && std::isdigit(static_cast<unsigned char>(s[pos])); ++pos)
      nanos += (s[pos] - '0') * scale, scale /= 10;
  }
  if (pos != s.size()) return std::nullopt;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  tm.tm_isdst = -1;
  return static_cast<int64_t>(std::mktime(&tm)) * 1000000000 + nanos;
}

/// "1700000000" or "1700000000.123".
std::optional<int64_t> ParseUnixTimestamp(const std::string& s) {
  const size_t dot = s.find('.');
  const std::string whole = s.substr(0, dot);
  const std::string fraction = dot == std::string::npos ? "" : s.substr(dot + 1);
  auto digits = [](const std::string& t) {
    return t.find_first_not_of("0123456789") == std::string::npos;
  };
  if (whole.empty() || whole.size() > 12 || !digits(whole) || !digits(fraction))
    return std::nullopt;
  int64_t nanos = 0, scale = 100000000;
  for (size_t i = 0; i < fraction.size() && i < 9; ++i, scale /= 10)
    nanos += (fraction[i] - '0') * scale;
  return std::stoll(whole) * 1000000000 + nanos;
}

}  // namespace

std::optional<int64_t> ParseFilterTimestamp(std::string_view text, int64_t now_ns) {
  if (text != "0") {
    if (const std::optional<int64_t> ago = ParseGoDuration(text)) return now_ns - *ago;
  }
  const std::string s(text);
  if (s.find('-') != std::string::npos) {
    if (const std::optional<int64_t> t = ParseRfc3339Nanos(s)) return t;
    return ParseLocalTimestamp(s);
  }
  return ParseUnixTimestamp(s);
}

std::string CreatedSince(const std::string& rfc3339, int64_t now) {
  const std::optional<int64_t> created = ParseRfc3339(rfc3339);
  if (!created || *created <= 0) return "N/A";
  return HumanDuration(now - *created) + " ago";
}

std::string GoTimeString(int64_t seconds) {
  const auto t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S +0000 UTC", &tm);
  return buf;
}

std::string Ellipsis(const std::string& s, size_t max) {
  std::vector<size_t> starts;  // code point starts
  for (size_t i = 0; i < s.size(); ++i)
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) starts.push_back(i);
  if (starts.size() <= max) return s;
  return s.substr(0, starts[max - 1]) + "…";
}

namespace {

size_t DisplayWidth(const std::string& s) {
  return static_cast<size_t>(
      std::count_if(s.begin(), s.end(), [](char c) { return (c & 0xC0) != 0x80; }));
}

}  // namespace

std::string AlignColumns(const std::vector<std::vector<std::string>>& rows) {
  constexpr size_t kMinWidth = 10;
  constexpr size_t kPadding = 3;
  std::vector<size_t> widths;
  for (const auto& row : rows) {
    // The last cell of a row is not tab-terminated, so it takes no part in alignment.
    for (size_t i = 0; i + 1 < row.size(); ++i) {
      if (widths.size() <= i) widths.resize(i + 1, 0);
      widths[i] = std::max(widths[i], std::max(DisplayWidth(row[i]) + kPadding, kMinWidth));
    }
  }
  std::string out;
  for (const auto& row : rows) {
    for (size_t i = 0; i < row.size(); ++i) {
      out += row[i];
      if (i + 1 < row.size()) out.append(widths[i] - DisplayWidth(row[i]), ' ');
    }
    out += '\n';
  }
  return out;
}

std::string AlignTabbedText(const std::string& text) {
  std::vector<std::vector<std::string>> rows;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::vector<std::string> cells;
    size_t cell_start = start;
    for (size_t i = start; i <= end; ++i) {
      if (i == end || text[i] == '\t') {
        cells.push_back(text.substr(cell_start, i - cell_start));
        cell_start = i + 1;
      }
    }
    rows.push_back(std::move(cells));
    start = end + 1;
  }
  return AlignColumns(rows);
}

}  // namespace kiln::cli
