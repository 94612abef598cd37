#include "driver/ninja_fingerprint.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <sstream>

#include "engine/base/atomic_file.h"
#include "tests/driver/driver_test_support.h"

namespace kiln::driver {
namespace {

namespace fs = std::filesystem;

using testing::TempDir;
const auto& Write = testing::WriteFile;

/// A build directory whose driver.ninja names `paths` (the text itself does not matter: the
/// fingerprint reads the record the generator made, never the ninja file).
void WriteGraph(const fs::path& dir, const std::vector<std::string>& paths,
                bool uses_always = false) {
  Write(dir / "driver.ninja", "# a graph\n");
  RecordNinjaGraphFiles(dir, "driver.ninja", {paths, uses_always});
}

TEST_CASE("a graph depending on always never has a fingerprint", "[fingerprint]") {
  TempDir dir;
  WriteGraph(dir.path(), {"out.result"}, /*uses_always=*/true);
  CHECK_FALSE(NinjaFingerprint(dir.path(), "driver.ninja", {}));
  RecordNinjaFingerprint(dir.path(), "driver.ninja", {});
  CHECK_FALSE(NinjaIsUpToDate(dir.path(), "driver.ninja", {}));
  CHECK_FALSE(fs::exists(dir.path() / "ninja.fingerprint"));
}

TEST_CASE("a build directory without a record of its graph has no fingerprint", "[fingerprint]") {
  TempDir dir;
  Write(dir.path() / "driver.ninja", "build out.result: step in.digest\n");
  CHECK_FALSE(NinjaFingerprint(dir.path(), "driver.ninja", {}));
}

TEST_CASE("the record of a graph is rewritten only when what it names changes", "[fingerprint]") {
  TempDir dir;
  WriteGraph(dir.path(), {"a", "b c"});
  const fs::path record = dir.path() / "driver.ninja.paths";
  CHECK(ReadWholeFile(record) == "a\nb c\n");
  struct stat before;
  REQUIRE(stat(record.c_str(), &before) == 0);
  RecordNinjaGraphFiles(dir.path(), "driver.ninja", {{"a", "b c"}, false});
  struct stat after;
  REQUIRE(stat(record.c_str(), &after) == 0);
  CHECK(after.st_ino == before.st_ino);
  CHECK(after.st_mtim.tv_nsec == before.st_mtim.tv_nsec);
  CHECK(after.st_mtim.tv_sec == before.st_mtim.tv_sec);
  RecordNinjaGraphFiles(dir.path(), "driver.ninja", {{"a"}, false});
  CHECK(ReadWholeFile(record) == "a\n");
}

TEST_CASE("the fingerprint names every recorded file, the ninja file and the record",
          "[fingerprint]") {
  TempDir dir;
  WriteGraph(dir.path(), {"in.digest", "with space", "/absolute/missing"});
  Write(dir.path() / "in.digest", "1\n");
  Write(dir.path() / "with space", "2\n");
  const std::optional<std::string> fingerprint =
      NinjaFingerprint(dir.path(), "driver.ninja", {"app"});
  REQUIRE(fingerprint);
  std::vector<std::string> names;
  std::istringstream in(*fingerprint);
  for (std::string line; std::getline(in, line);) names.push_back(line);
  REQUIRE(names.size() == 6);
  CHECK(names[0] == "targets app");
  CHECK(names[1].rfind("in.digest ", 0) == 0);
  CHECK(names[2].rfind("with space ", 0) == 0);
  CHECK(names[3] == "/absolute/missing missing");
  CHECK(names[4].rfind("driver.ninja ", 0) == 0);
  CHECK(names[5].rfind("driver.ninja.paths ", 0) == 0);
}

TEST_CASE("a recorded fingerprint holds until a file of the graph changes", "[fingerprint]") {
  TempDir dir;
  WriteGraph(dir.path(), {"out.result", "in.digest"});
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
  SECTION("an input that was missing created") {
    WriteGraph(dir.path(), {"out.result", "in.digest", "new.digest"});
    RecordNinjaFingerprint(dir.path(), "driver.ninja", targets);
    REQUIRE(NinjaIsUpToDate(dir.path(), "driver.ninja", targets));
    Write(dir.path() / "new.digest", "n\n");
    CHECK_FALSE(NinjaIsUpToDate(dir.path(), "driver.ninja", targets));
  }
  SECTION("the ninja file rewritten") {
    Write(dir.path() / "driver.ninja", "# another graph\n");
    CHECK_FALSE(NinjaIsUpToDate(dir.path(), "driver.ninja", targets));
  }
  SECTION("the graph's record rewritten") {
    RecordNinjaGraphFiles(dir.path(), "driver.ninja", {{"out.result"}, false});
    CHECK_FALSE(NinjaIsUpToDate(dir.path(), "driver.ninja", targets));
  }
  SECTION("forgotten") {
    ForgetNinjaFingerprint(dir.path());
    CHECK_FALSE(NinjaIsUpToDate(dir.path(), "driver.ninja", targets));
  }
}

}  // namespace
}  // namespace kiln::driver
