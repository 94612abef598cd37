// End-to-end: the incremental rules of the generated ninja graph, one test each. Builds use
// --progress=plain, whose DONE/CACHED lines say which steps ran.
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <thread>

#include "tests/e2e/e2e_support.h"

namespace kiln::e2e {
namespace {
namespace fs = std::filesystem;
using Steps = std::vector<std::string>;

class Project {
 public:
  Project() {
    BuildBusyboxBase(kiln_);
    WriteFile(ctx_ / "deps/lib.txt", "lib v1\n");
    WriteFile(ctx_ / "src/main.c", "int main() {}\n");
    WriteFile(ctx_ / "src/util.c", "int util;\n");
    WriteFile(ctx_ / "notes.log", "ignored\n");
    WriteFile(ctx_ / ".dockerignore", "*.log\nsrc/*.tmp\n");
    WriteFile(ctx_ / "Dockerfile", R"DF(FROM kiln-busybox:latest AS base
COPY deps/ /opt/deps/
RUN cat /opt/deps/* > /opt/deps.all
COPY src/ /opt/src/
RUN ls /opt/src > /opt/src.list
ARG FLAVOR=plain
RUN echo "$FLAVOR" > /opt/flavor

FROM kiln-busybox:latest AS tools
RUN echo tools > /tools

FROM base
COPY --from=tools /tools /tools
CMD ["sh"]
)DF");
  }

  /// Builds and returns the steps that ran.
  Steps Build(const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args = {"build", "--progress=plain", "-t", "app"};
    args.insert(args.end(), extra.begin(), extra.end());
    args.push_back(ctx_.path().string());
    last_ = kiln_(args);
    INFO(last_.err);
    REQUIRE(last_.exit_code == 0);
    return RanSteps(last_.err);
  }

  /// The id of the image the last build wrote.
  std::string LastImageId() const {
    const size_t at = last_.err.find("writing image ");
    return at == std::string::npos ? "" : last_.err.substr(at + 14, 71);
  }

  void Write(const std::string& rel, const std::string& content) {
    // mtimes must move even on file systems with coarse timestamps
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    WriteFile(ctx_ / rel, content);
  }

  const fs::path& ctx() const { return ctx_.path(); }
  const Kiln& kiln() const { return kiln_; }
  const CommandResult& last() const { return last_; }

 private:
  Kiln kiln_;
  TempDir ctx_;
  CommandResult last_;
};

bool Contains(const Steps& steps, const std::string& text) {
  return std::find(steps.begin(), steps.end(), text) != steps.end();
}

TEST_CASE("incremental: a no-op rebuild and a touch run no step", "[e2e][incremental]") {
  KILN_REQUIRE_RUNTIME();
  Project p;
  const Steps cold = p.Build();
  CHECK(Contains(cold, "RUN cat /opt/deps/* > /opt/deps.all"));
  CHECK(p.Build().empty());
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  REQUIRE(Run({"touch", (p.ctx() / "src/main.c").string()}).exit_code == 0);
  CHECK(p.Build().empty());
}

TEST_CASE("incremental: an edit runs the step that copies the file and those after it",
          "[e2e][incremental]") {
  KILN_REQUIRE_RUNTIME();
  Project p;
  p.Build();
  p.Write("src/main.c", "int main() { return 1; }\n");
  const Steps ran = p.Build({"--explain"});
  CHECK(ran == Steps{"COPY src/ /opt/src/", "RUN ls /opt/src > /opt/src.list",
                     "RUN echo \"$FLAVOR\" > /opt/flavor", "COPY --from=tools /tools /tools",
                     "CMD [\"sh\"]"});
  CHECK(p.last().err.find("src/main.c (changed)") != std::string::npos);
}

TEST_CASE("incremental: adding, removing and renaming files in a copied directory",
          "[e2e][incremental]") {
  KILN_REQUIRE_RUNTIME();
  Project p;
  p.Build();
  const std::string original = p.LastImageId();
  p.Write("src/new.c", "new\n");
  Steps ran = p.Build();
  CHECK(Contains(ran, "COPY src/ /opt/src/"));
  CHECK_FALSE(Contains(ran, "COPY deps/ /opt/deps/"));
  const std::string added = p.LastImageId();
  CHECK(added != original);
  fs::rename(p.ctx() / "src/new.c", p.ctx() / "src/renamed.c");
  CHECK(Contains(p.Build(), "COPY src/ /opt/src/"));
  CHECK(p.LastImageId() != added);
  // Removing it restores the first state, whose results the step cache still has.
  fs::remove(p.ctx() / "src/renamed.c");
  ran = p.Build();
  CHECK(ran.empty());
  CHECK(p.LastImageId() == original);
}

TEST_CASE("incremental: files matched by the ignore file change nothing", "[e2e][incremental]") {
  KILN_REQUIRE_RUNTIME();
  Project p;
  p.Build();
  p.Write("notes.log", "changed\n");
  p.Write("src/scratch.tmp", "tmp\n");
  CHECK(p.Build().empty());
}

TEST_CASE("incremental: a build arg reruns only the steps that use it", "[e2e][incremental]") {
  KILN_REQUIRE_RUNTIME();
  Project p;
  p.Build();
  const Steps ran = p.Build({"--build-arg", "FLAVOR=spicy"});
  // Steps before ARG FLAVOR and other stages stay; every RUN after it sees it in its
  // environment (Docker's rule).
  CHECK(ran == Steps{"RUN echo \"$FLAVOR\" > /opt/flavor", "COPY --from=tools /tools /tools",
                     "CMD [\"sh\"]"});
  CHECK(p.last().err.find("build arg FLAVOR changed") == std::string::npos);
  p.Build({"--build-arg", "FLAVOR=spicy", "--explain"});
  CHECK(p.Build({"--build-arg", "FLAVOR=sour", "--explain"}).size() == 3);
  CHECK(p.last().err.find("build arg FLAVOR changed to \"sour\"") != std::string::npos);
}

TEST_CASE("incremental: editing one stage leaves the other stages cached", "[e2e][incremental]") {
  KILN_REQUIRE_RUNTIME();
  Project p;
  p.Build();
  std::string dockerfile = ReadFile(p.ctx() / "Dockerfile");
  dockerfile.replace(dockerfile.find("echo tools"), 10, "echo TOOLS");
  p.Write("Dockerfile", dockerfile);
  const Steps ran = p.Build();
  CHECK(Contains(ran, "RUN echo TOOLS > /tools"));
  CHECK(Contains(ran, "COPY --from=tools /tools /tools"));
  CHECK_FALSE(Contains(ran, "RUN ls /opt/src > /opt/src.list"));
}

TEST_CASE("incremental: reverting an edit reuses earlier results without running",
          "[e2e][incremental]") {
  KILN_REQUIRE_RUNTIME();
  Project p;
  p.Build();
  p.Write("deps/lib.txt", "lib v2\n");
  CHECK(Contains(p.Build(), "RUN cat /opt/deps/* > /opt/deps.all"));
  p.Write("deps/lib.txt", "lib v1\n");
  const Steps ran = p.Build();
  CHECK(ran.empty());
  CHECK(Contains(CachedSteps(p.last().err), "RUN cat /opt/deps/* > /opt/deps.all"));
}

TEST_CASE("incremental: a step reproducing its layer stops the chain", "[e2e][incremental]") {
  KILN_REQUIRE_RUNTIME();
  Project p;
  const std::vector<std::string> pinned = {"--source-date-epoch", "1700000000"};
  p.Build(pinned);
  // The owner of a context file is part of the COPY's inputs, but COPY writes context files as
  // root: the step reruns and reproduces its layer byte for byte, so nothing after it runs.
  REQUIRE(Run({"chown", "1234:1234", (p.ctx() / "src/util.c").string()}).exit_code == 0);
  const Steps ran = p.Build(pinned);
  CHECK(ran == Steps{"COPY src/ /opt/src/"});
}

TEST_CASE("incremental: --no-cache reruns everything", "[e2e][incremental]") {
  KILN_REQUIRE_RUNTIME();
  Project p;
  p.Build();
  const Steps ran = p.Build({"--no-cache"});
  CHECK(Contains(ran, "COPY deps/ /opt/deps/"));
  CHECK(Contains(ran, "RUN echo tools > /tools"));
  CHECK(Contains(ran, "CMD [\"sh\"]"));
}

TEST_CASE("incremental: moving the base image's tag reruns the steps on it", "[e2e][incremental]") {
  KILN_REQUIRE_RUNTIME();
  Project p;
  p.Build();
  TempDir other;
  WriteFile(other / "Dockerfile", "FROM kiln-busybox\nRUN echo new > /new-base\n");
  REQUIRE(p.kiln()({"build", "-q", "-t", "kiln-busybox", other.path().string()}).exit_code == 0);
  const Steps ran = p.Build();
  CHECK(Contains(ran, "COPY deps/ /opt/deps/"));
  CHECK(Contains(ran, "RUN echo tools > /tools"));
  CHECK(p.Build().empty());
}

TEST_CASE("incremental: steps whose images were removed run again", "[e2e][incremental]") {
  KILN_REQUIRE_RUNTIME();
  Project p;
  p.Build();
  // rmi prunes the untagged parents too: the build directory's results name deleted images.
  REQUIRE(p.kiln()({"rmi", "app"}).exit_code == 0);
  CHECK(Contains(p.Build(), "RUN ls /opt/src > /opt/src.list"));
  CHECK(p.kiln()({"inspect", "app"}).exit_code == 0);

  // Without pruning only the final image goes; it is written again and tagged.
  REQUIRE(p.kiln()({"rmi", "--no-prune", "app"}).exit_code == 0);
  p.Build();
  CHECK(p.kiln()({"inspect", "-f", "{{.Id}}", "app"}).out == p.LastImageId() + "\n");
  CHECK(p.Build().empty());
}

TEST_CASE("incremental: a moved base tag reruns its stages, another tag nothing",
          "[e2e][incremental]") {
  KILN_REQUIRE_RUNTIME();
  Project p;
  p.Build();
  const std::string first = p.LastImageId();
  // Another image tagged: no step names it.
  REQUIRE(p.kiln()({"tag", "app", "unrelated:1"}).exit_code == 0);
  CHECK(p.Build().empty());

  // kiln-busybox:latest moved to another image (the app itself): both FROMs look again and
  // every step on them runs.
  REQUIRE(p.kiln()({"tag", "app", "kiln-busybox:latest"}).exit_code == 0);
  const Steps ran = p.Build();
  CHECK(Contains(ran, "COPY deps/ /opt/deps/"));
  CHECK(Contains(ran, "RUN echo tools > /tools"));
  CHECK(p.LastImageId() != first);
  CHECK(p.Build().empty());
}

TEST_CASE("incremental: ninja run by hand regenerates once after a touched Dockerfile",
          "[e2e][incremental]") {
  KILN_REQUIRE_RUNTIME();
  Project p;
  p.Build();
  std::string dir;  // the build directory of this context (the base image has its own)
  for (const auto& entry : fs::directory_iterator(p.kiln().root() / "builds")) {
    if (ReadFile(entry.path() / "request.json").find(p.ctx().string()) != std::string::npos)
      dir = entry.path().string();
  }
  REQUIRE(!dir.empty());
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  REQUIRE(Run({"touch", (p.ctx() / "Dockerfile").string()}).exit_code == 0);
  const std::map<std::string, std::string> env = {{"KILN_ROOT", p.kiln().root().string()}};
  CommandResult r = Run({"ninja", "-C", dir}, env);
  INFO(r.out << r.err);
  CHECK(r.exit_code == 0);
  CHECK(r.out.find("still dirty") == std::string::npos);
  // The second run only rehashes the context: that edge always runs, as a chmod changes no
  // mtime ninja could see (see ninja_writer). The base image's tag did not move.
  r = Run({"ninja", "-C", dir}, env);
  CHECK(r.exit_code == 0);
  for (const std::string& line : Lines(r.out)) {
    if (line.rfind("[", 0) == 0) CHECK(line.find("Hashing the context") != std::string::npos);
  }
}

}  // namespace
}  // namespace kiln::e2e
