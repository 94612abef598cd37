#include "driver/ninja_fingerprint.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <fstream>

#include "tests/support/temp_dir.h"

namespace kiln::driver {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

const char* const kGraph = R"(rule step
  command = kiln internal step --out $out

build inputs/a.digest inputs/b$ c.digest: hash
  select = $ --select$ graphs/0.json$:1
build steps/one.result: step inputs/a.digest | /store/oci/index.json
  what = [1/2] FROM$ base$:latest
build steps/two.result: run_step steps/one.result || order$:only
build images/app.iid: image steps/two.result
)";

void Write(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << text;
}

TEST_CASE("the paths of a ninja graph are its outputs and inputs, unescaped", "[fingerprint]") {
  const auto paths = NinjaGraphPaths(kGraph);
  REQUIRE(paths);
  CHECK(*paths == std::vector<std::string>{
                      "inputs/a.digest", "inputs/b c.digest", "steps/one.result", "inputs/a.digest",
                      "/store/oci/index.json", "steps/two.result", "steps/one.result", "order:only",
                      "images/app.iid", "steps/two.result"});
}

TEST_CASE("a graph depending on always never has a fingerprint", "[fingerprint]") {
  CHECK_FALSE(NinjaGraphPaths("build always: phony\nbuild x: step | always\n"));
  CHECK(NinjaGraphPaths("build always: phony\nbuild x: step y\n"));  // declared, never used
}

TEST_CASE("a recorded fingerprint holds until a file of the graph changes", "[fingerprint]") {
  TempDir dir;
  Write(dir.path() / "driver.ninja", "build out.result: step in.digest\n");
  Write(dir.path() / "in.digest", "1\n");
  Write(dir.path() / "out.result", "r\n");
  const std::vector<std::string> targets;

  CHECK_FALSE(NinjaIsUpToDate(dir.path(), "driver.ninja", targets));  // nothing recorded yet
  RecordNinjaFingerprint(dir.path(), "driver.ninja", targets);
  CHECK(NinjaIsUpToDate(dir.path(), "driver.ninja", targets));
  CHECK_FALSE(NinjaIsUpToDate(dir.path(), "driver.ninja", {"other"}));  // other targets

  SECTION("an input rewritten") {
    const struct timespec later[2] = {{0, UTIME_OMIT}, {2'000'000'000, 0}};
    REQUIRE(utimensat(AT_FDCWD, (dir.path() / "in.digest").c_str(), later, 0) == 0);
    CHECK_FALSE(NinjaIsUpToDate(dir.path(), "driver.ninja", targets));
  }
  SECTION("an output removed") {
    fs::remove(dir.path() / "out.result");
    CHECK_FALSE(NinjaIsUpToDate(dir.path(), "driver.ninja", targets));
  }
  SECTION("the ninja file rewritten") {
    Write(dir.path() / "driver.ninja", "build out.result: step in.digest other\n");
    CHECK_FALSE(NinjaIsUpToDate(dir.path(), "driver.ninja", targets));
  }
  SECTION("forgotten") {
    ForgetNinjaFingerprint(dir.path());
    CHECK_FALSE(NinjaIsUpToDate(dir.path(), "driver.ninja", targets));
  }
}

}  // namespace
}  // namespace kiln::driver
