#include "cli/flags.h"

#include <catch2/catch.hpp>

namespace kiln::cli {
namespace {

struct BuildFlags {
  std::vector<std::string> tags;
  std::string file;
  bool quiet = false;
  bool all = false;
  int jobs = 0;
  FlagSet set;
  BuildFlags() {
    set.Strings("tag", 't', &tags);
    set.String("file", 'f', &file);
    set.Bool("quiet", 'q', &quiet);
    set.Bool("all", 'a', &all);
    set.Int("jobs", 'j', &jobs);
  }
};

TEST_CASE("flags in every spelling", "[flags]") {
  BuildFlags f;
  const auto pos = f.set.Parse({"-t", "a:1", "--tag=b:2", "--tag", "c", "-fDf", "ctx", "-aq",
                                "-j4", "--", "-notaflag"});
  CHECK(f.tags == std::vector<std::string>{"a:1", "b:2", "c"});
  CHECK(f.file == "Df");
  CHECK(f.quiet);
  CHECK(f.all);
  CHECK(f.jobs == 4);
  CHECK(pos == std::vector<std::string>{"ctx", "-notaflag"});
}

TEST_CASE("stdin dash is an argument, not a flag", "[flags]") {
  BuildFlags f;
  CHECK(f.set.Parse({"-f", "-", "-"}) == std::vector<std::string>{"-"});
  CHECK(f.file == "-");
}

TEST_CASE("bad flags are usage errors with Docker's words", "[flags]") {
  BuildFlags f;
  CHECK_THROWS_WITH(f.set.Parse({"--nope"}), "unknown flag: --nope");
  CHECK_THROWS_WITH(f.set.Parse({"-x"}), "unknown shorthand flag: 'x' in -x");
  CHECK_THROWS_WITH(f.set.Parse({"--file"}), "flag needs an argument: --file");
  CHECK_THROWS_WITH(f.set.Parse({"--quiet=maybe"}), Catch::Contains("invalid argument \"maybe\""));
  CHECK_THROWS_WITH(f.set.Parse({"-j", "x"}), Catch::Contains("invalid argument \"x\""));
  BuildFlags h;
  h.set.Parse({"--help"});
  CHECK(h.set.help_requested());
}

}  // namespace
}  // namespace kiln::cli
