// Docker's human-readable formatting of image fields: sizes, ages, ids, times, and the aligned
// columns of its tables (text/tabwriter as Docker's formatter configures it).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kiln::cli {

/// go-units HumanSizeWithPrecision(size, 3): decimal units, 3 significant digits ("5.6MB",
/// "1.23kB", "999B").
std::string HumanSize(double bytes);

/// go-units HumanDuration: "Less than a second", "1 second", "About a minute", "2 minutes",
/// "About an hour", "3 hours", "5 days", "2 weeks", "3 months", "2 years".
std::string HumanDuration(int64_t seconds);

/// Seconds since the Unix epoch of an RFC 3339 time ("2024-01-02T03:04:05.5Z", offsets allowed);
/// nullopt when it does not parse.
std::optional<int64_t> ParseRfc3339(std::string_view text);

/// Like ParseRfc3339, in nanoseconds, keeping the fraction (digits past the ninth are dropped).
std::optional<int64_t> ParseRfc3339Nanos(std::string_view text);

/// Docker's filter timestamps (`until=`): a Go duration back from `now_ns` ("10m", "1h30m"), an
/// RFC 3339 time with zone, a date or date-time without zone in local time ("2024-01-02",
/// "2024-01-02T15:04", "2024-01-02T15:04:05.5"), or Unix seconds with an optional fraction
/// ("1700000000", "1700000000.5"). Nanoseconds since the epoch; nullopt when it is none of them.
std::optional<int64_t> ParseFilterTimestamp(std::string_view text, int64_t now_ns);

/// "<HumanDuration(now - created)> ago", or "N/A" for an unreadable time.
std::string CreatedSince(const std::string& rfc3339, int64_t now);

/// Go's time.Time.String() in UTC: "2024-01-02 03:04:05 +0000 UTC".
std::string GoTimeString(int64_t seconds);

/// Docker's stringutils.Ellipsis: `s` when it has at most `max` code points, else its first
/// `max - 1` code points and "…".
std::string Ellipsis(const std::string& s, size_t max);

/// Lays out rows of cells like Go's tabwriter.NewWriter(w, 10, 1, 3, ' ', 0): every column but
/// the last is padded to max(widest cell + 3, 10). Widths count UTF-8 code points.
std::string AlignColumns(const std::vector<std::vector<std::string>>& rows);

/// Splits rendered table text: lines on '\n', cells on '\t', then AlignColumns.
std::string AlignTabbedText(const std::string& text);

}  // namespace kiln::cli
