#include "driver/ninja_runner.h"

#include <atomic>
#include <catch2/catch.hpp>

#include "tests/driver/driver_test_support.h"

namespace kiln::driver {
namespace {

using testing::TempDir;

TEST_CASE("ninja's events reach the listener, its own output the caller", "[ninja_runner]") {
  TempDir dir;
  testing::WriteFile(dir.path() / "driver.ninja",
                     "rule say\n"
                     "  command = echo '{\"id\":\"$out\",\"state\":\"done\"}' >&$$KILN_EVENTS_FD"
                     " && echo not-json >&$$KILN_EVENTS_FD && echo printed && touch $out\n"
                     "  description = saying $out\n"
                     "build one: say\n"
                     "rule fail\n"
                     "  command = echo broken; exit 3\n"
                     "build two: fail one\n");
  std::vector<nlohmann::json> events;
  std::atomic<int> ticks = 0;
  NinjaListener listener;
  listener.on_event = [&](const nlohmann::json& e) { events.push_back(e); };
  listener.on_tick = [&] { ++ticks; };
  std::string output;

  SECTION("a target that builds") {
    CHECK(RunNinja({dir.path(), "driver.ninja", 1, {"one"}, false, false}, listener, &output) == 0);
    REQUIRE(events.size() == 1);
    CHECK(events[0] == nlohmann::json{{"id", "one"}, {"state", "done"}});
    CHECK(output.find("printed") != std::string::npos);
    CHECK(output.find("kiln-edge: saying one") != std::string::npos);
  }
  SECTION("a failing edge: its status and what is left of ninja's output") {
    CHECK(RunNinja({dir.path(), "driver.ninja", 1, {"two"}, false, false}, listener, &output) == 1);
    CHECK(FilterNinjaOutput(output) == "printed\nbroken\n");
  }
}

TEST_CASE("filtering ninja's output keeps only the edges' own messages", "[ninja_runner]") {
  CHECK(FilterNinjaOutput("kiln-edge: [1/2] Hashing the context /src\n"
                          "FAILED: inputs/a.digest\n"
                          "/usr/bin/kiln internal hash --select graphs/0.json:1\n"
                          "Dockerfile:3: COPY missing /x: no such file\n"
                          "\n"
                          "ninja: build stopped: subcommand failed.\n") ==
        "Dockerfile:3: COPY missing /x: no such file\n");
}

}  // namespace
}  // namespace kiln::driver
