#include "cli/image_format.h"

#include <cstdlib>
#include <ctime>
#include <optional>

#include <catch2/catch.hpp>

namespace kiln::cli {
namespace {

TEST_CASE("HumanSize uses decimal units and 3 significant digits", "[image_format]") {
  const std::vector<std::pair<double, std::string>> cases = {
      {0, "0B"},          {999, "999B"},       {1000, "1kB"},     {1234, "1.23kB"},
      {5600000, "5.6MB"}, {2130000, "2.13MB"}, {100000, "100kB"}, {1e9, "1GB"},
      {1.5e12, "1.5TB"},  {123456789, "123MB"}};
  for (const auto& [bytes, text] : cases) {
    INFO(bytes);
    CHECK(HumanSize(bytes) == text);
  }
}

TEST_CASE("HumanDuration follows go-units", "[image_format]") {
  const std::vector<std::pair<int64_t, std::string>> cases = {
      {0, "Less than a second"}, {1, "1 second"},          {45, "45 seconds"},
      {60, "About a minute"},    {150, "2 minutes"},       {3600, "About an hour"},
      {3 * 3600, "3 hours"},     {47 * 3600, "47 hours"},  {5 * 86400, "5 days"},
      {15 * 86400, "2 weeks"},   {90 * 86400, "3 months"}, {800 * 86400, "2 years"}};
  for (const auto& [seconds, text] : cases) {
    INFO(seconds);
    CHECK(HumanDuration(seconds) == text);
  }
}

TEST_CASE("RFC 3339 times parse with fractions and offsets", "[image_format]") {
  CHECK(ParseRfc3339("1970-01-01T00:00:10Z") == 10);
  CHECK(ParseRfc3339("2024-01-02T03:04:05.123456789Z") == 1704164645);
  CHECK(ParseRfc3339("2024-01-02T04:04:05+01:00") == 1704164645);
  CHECK_FALSE(ParseRfc3339("yesterday").has_value());
  CHECK(ParseRfc3339Nanos("2024-01-02T03:04:05.5Z") == 1704164645500000000);
  CHECK(ParseRfc3339Nanos("2024-01-02T03:04:05.123456789Z") == 1704164645123456789);
  CHECK(ParseRfc3339Nanos("2024-01-02T03:04:05Z") == 1704164645000000000);
  CHECK(CreatedSince("2024-01-02T03:04:05Z", 1704164645 + 120) == "2 minutes ago");
  CHECK(CreatedSince("", 0) == "N/A");
  CHECK(GoTimeString(1704164645) == "2024-01-02 03:04:05 +0000 UTC");
}

TEST_CASE("Ellipsis cuts at code points and ends with an ellipsis", "[image_format]") {
  CHECK(Ellipsis("short", 20) == "short");
  CHECK(Ellipsis("exactly5", 8) == "exactly5");
  CHECK(Ellipsis("sh -c echo out; echo err", 20) == "sh -c echo out; ech…");
  CHECK(Ellipsis("ééééé", 3) == "éé…");
}

TEST_CASE("columns align like Docker's tabwriter with min width 10 and padding 3",
          "[image_format]") {
  CHECK(AlignTabbedText("REPOSITORY\tTAG\tSIZE\napp\t1\t5.6MB\n") ==
        "REPOSITORY   TAG       SIZE\n"
        "app          1         5.6MB\n");
  CHECK(AlignColumns({{"a", "b"}, {"longer-than-ten", "c"}}) ==
        "a                 b\nlonger-than-ten   c\n");
}

TEST_CASE("filter timestamps: durations and RFC 3339 and local dates and Unix seconds",
          "[image_format]") {
  setenv("TZ", "UTC", 1);
  tzset();
  const int64_t s = 1000000000;
  const int64_t now = 1700000000 * s;
  const std::vector<std::pair<std::string, std::optional<int64_t>>> cases = {
      {"10m", now - 600 * s},
      {"1h30m", now - 5400 * s},
      {"2024-01-02T03:04:05Z", 1704164645 * s},
      {"2024-01-02T03:04:05.5+01:00", 1704161045 * s + s / 2},
      {"2024-01-02", 1704153600 * s},
      {"2024-01-02T03", 1704164400 * s},
      {"2024-01-02T03:04", 1704164640 * s},
      {"2024-01-02T03:04:05", 1704164645 * s},
      {"1700000000", now},
      {"1700000000.25", now + s / 4},
      {"0", 0},
      {"yesterday", std::nullopt},
      {"2024-01-02x", std::nullopt},
      {"12a", std::nullopt},
      {"", std::nullopt},
  };
  for (const auto& [text, expected] : cases) {
    INFO(text);
    CHECK(ParseFilterTimestamp(text, now) == expected);
  }
}

}  // namespace
}  // namespace kiln::cli
