// End-to-end: a failed build reports clearly, exits 1 and leaves the store as it was.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/e2e/e2e_support.h"

namespace kiln::e2e {
namespace {
namespace fs = std::filesystem;

/// Everything in the store that must not change when a build fails: tags and blobs.
struct StoreState {
  std::string index;
  std::vector<std::string> blobs;
  bool operator==(const StoreState&) const = default;
};

StoreState Snapshot(const Kiln& kiln) {
  StoreState s;
  s.index = ReadFile(kiln.root() / "oci/index.json");
  for (const auto& e : fs::directory_iterator(kiln.root() / "oci/blobs/sha256"))
    s.blobs.push_back(e.path().filename().string());
  std::sort(s.blobs.begin(), s.blobs.end());
  return s;
}

/// Builds `dockerfile` tagged app:1 over an existing app:1 and expects a failure naming
/// `message`, with the store unchanged and still consistent.
void ExpectFailedBuild(const std::string& dockerfile, const std::string& message,
                       const std::function<void(const fs::path&)>& prepare = nullptr) {
  Kiln kiln;
  BuildBusyboxBase(kiln, "app:1");
  const StoreState before = Snapshot(kiln);
  TempDir ctx;
  WriteFile(ctx / "Dockerfile", dockerfile);
  if (prepare) prepare(ctx.path());
  const CommandResult r = kiln({"build", "--progress=plain", "-t", "app:1", ctx.path().string()});
  INFO(r.err);
  CHECK(r.exit_code == 1);
  CHECK(r.err.find(message) != std::string::npos);
  CHECK(Snapshot(kiln) == before);
  const CommandResult check = kiln({"system", "check"});
  INFO(check.out << check.err);
  CHECK(check.exit_code == 0);
}

TEST_CASE("a failing RUN names the command, its status and its output", "[e2e][failure]") {
  KILN_REQUIRE_RUNTIME();
  ExpectFailedBuild("FROM app:1\nRUN echo about to fail && exit 3\n",
                    "did not complete successfully: exit code: 3");
}

TEST_CASE("a COPY of a missing file fails with Docker's message", "[e2e][failure]") {
  KILN_REQUIRE_RUNTIME();
  ExpectFailedBuild("FROM app:1\nCOPY missing.txt /x\n", "missing.txt");
}

TEST_CASE("ADD refuses archives that escape the destination", "[e2e][failure]") {
  KILN_REQUIRE_RUNTIME();
  const auto make_archive = [](const std::string& python) {
    return [python](const fs::path& ctx) {
      const CommandResult r = Run({"python3", "-c", python, (ctx / "evil.tar").string()});
      REQUIRE(r.exit_code == 0);
    };
  };
  const std::string header = "import io,sys,tarfile\nt=tarfile.open(sys.argv[1],'w')\n";
  const std::string file =
      "def add(name, data=b'x'):\n  i=tarfile.TarInfo(name); i.size=len(data); "
      "t.addfile(i, io.BytesIO(data))\n";
  SECTION("dot-dot") {
    ExpectFailedBuild("FROM app:1\nADD evil.tar /dst/\n", "evil",
                      make_archive(header + file + "add('../../evil')\nt.close()\n"));
  }
  SECTION("absolute") {
    ExpectFailedBuild("FROM app:1\nADD evil.tar /dst/\n", "evil",
                      make_archive(header + file + "add('/etc/evil')\nt.close()\n"));
  }
  SECTION("write through an escaping symlink") {
    ExpectFailedBuild(
        "FROM app:1\nADD evil.tar /dst/\n", "escape",
        make_archive(header + file +
                     "l=tarfile.TarInfo('link'); l.type=tarfile.SYMTYPE; l.linkname='../../../..'\n"
                     "t.addfile(l)\nadd('link/tmp/evil')\nt.close()\n"));
  }
}

TEST_CASE("a Dockerfile error names file, line and column", "[e2e][failure]") {
  Kiln kiln;
  TempDir ctx;
  WriteFile(ctx / "Dockerfile", "FROM scratch\nCOPPY . /app\n");
  const CommandResult r = kiln({"build", ctx.path().string()});
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("Dockerfile:2:1: unknown instruction: COPPY (did you mean COPY?)") !=
        std::string::npos);
  CHECK(r.err.find("^") != std::string::npos);
}

TEST_CASE("build usage errors exit 2", "[e2e][failure]") {
  Kiln kiln;
  TempDir ctx;
  WriteFile(ctx / "Dockerfile", "FROM scratch\n");
  CHECK(kiln({"build"}).exit_code == 2);
  const CommandResult bad_tag = kiln({"build", "-t", "App:1", ctx.path().string()});
  CHECK(bad_tag.exit_code == 2);
  CHECK(bad_tag.err.find("must be lowercase") != std::string::npos);
  CHECK(kiln({"build", "--bogus", ctx.path().string()}).exit_code == 2);
}

}  // namespace
}  // namespace kiln::e2e
