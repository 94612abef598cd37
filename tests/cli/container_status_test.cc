#include "cli/container_status.h"

#include <catch2/catch.hpp>

#include "cli/image_format.h"

namespace kiln::cli {
namespace {

TEST_CASE("StatusText says what Docker's STATUS column says", "[container_status]") {
  const std::string at = "2024-01-02T03:04:05.123456789Z";
  const int64_t then = *ParseRfc3339(at);
  struct Case {
    std::string status;
    int exit_code;
    std::string started_at, finished_at;
    int64_t now;
    std::string text;
  };
  const Case cases[] = {
      {"running", 0, at, kZeroTime, then + 300, "Up 5 minutes"},
      {"running", 0, at, kZeroTime, then, "Up Less than a second"},
      {"exited", 3, at, at, then + 2 * 3600, "Exited (3) 2 hours ago"},
      {"exited", 0, "", "", then, "Exited (0) Less than a second ago"},
      {"created", 0, kZeroTime, kZeroTime, then + 60, "Created"},
  };
  for (const Case& c : cases) {
    INFO(c.status << " " << c.started_at << " " << c.finished_at);
    ContainerState state;
    state.status = c.status;
    state.exit_code = c.exit_code;
    state.started_at = c.started_at;
    state.finished_at = c.finished_at;
    CHECK(StatusText(state, c.now) == c.text);
  }
}

}  // namespace
}  // namespace kiln::cli
