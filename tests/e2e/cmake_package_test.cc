// End-to-end: the CMake package (find_package(Kiln), kiln_add_image) on the examples, configured
// in temporary build trees against this build of kiln (Kiln_DIR = kiln's build tree) and a
// temporary store. Each generator configures and builds once; the edits reuse the Ninja tree.
#include <algorithm>
#include <catch2/catch.hpp>
#include <thread>

#include "tests/e2e/e2e_support.h"

namespace kiln::e2e {
namespace {
namespace fs = std::filesystem;
using Steps = std::vector<std::string>;

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}
/// `text` with each run of white space made one space: CMake wraps its messages.
std::string Flat(const std::string& text) {
  std::string flat;
  for (char c : text) {
    const bool space = c == ' ' || c == '\n' || c == '\t';
    if (!space)
      flat += c;
    else if (!flat.empty() && flat.back() != ' ')
      flat += ' ';
  }
  return flat;
}

bool Contains(const Steps& steps, const std::string& step) {
  return std::find(steps.begin(), steps.end(), step) != steps.end();
}

/// A copy of examples/<name> in a temporary directory, its build trees beside it.
class ExampleProject {
 public:
  explicit ExampleProject(const std::string& name) : dir_("kiln-e2e-cmake") {
    fs::copy(fs::path(KILN_SOURCE_DIR) / "examples" / name, source(), fs::copy_options::recursive);
  }
  fs::path source() const { return dir_ / "src"; }
  fs::path build(const std::string& generator) const {
    return dir_ / ("build-" + std::to_string(std::hash<std::string>{}(generator)));
  }

  /// Configures the build tree for `generator` against kiln's build tree; REQUIREs success.
  CommandResult Configure(const std::string& generator,
                          const std::vector<std::string>& extra = {}) const {
    std::vector<std::string> argv = {"cmake",
                                     "-S",
                                     source().string(),
                                     "-B",
                                     build(generator).string(),
                                     "-G",
                                     generator,
                                     "-DCMAKE_BUILD_TYPE=Release",
                                     std::string("-DKiln_DIR=") + KILN_BINARY_DIR};
    argv.insert(argv.end(), extra.begin(), extra.end());
    const CommandResult r = Run(argv);
    INFO(r.out << r.err);
    REQUIRE(r.exit_code == 0);
    return r;
  }

  /// `cmake --build -j2` of the tree for `generator` with the store of `kiln`; returns its
  /// stdout and stderr together (ninja and make pass on kiln's progress on either).
  std::string Build(const Kiln& kiln, const std::string& generator) const {
    const CommandResult r = Run({"cmake", "--build", build(generator).string(), "-j2"},
                                {{"KILN_ROOT", kiln.root().string()}});
    INFO(r.out << r.err);
    REQUIRE(r.exit_code == 0);
    return r.out + r.err;
  }

  void Write(const std::string& rel, const std::string& content) const {
    // mtimes must move even on file systems with coarse timestamps
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    WriteFile(source() / rel, content);
  }

 private:
  TempDir dir_;
};

/// The `<target>.iid` file's content, without a trailing newline.
std::string IidFile(const fs::path& build_dir, const std::string& target) {
  std::string id = ReadFile(build_dir / (target + ".iid"));
  while (!id.empty() && id.back() == '\n') id.pop_back();
  return id;
}

const char* const kNinja = "Ninja";
const char* const kMakefiles = "Unix Makefiles";

// The steps of examples/cmake-service/image/Dockerfile, as --progress=plain names them.
const char* const kBaseRun = "RUN mkdir -p /srv/data && echo \"service base\" > /srv/README";
const char* const kDebugRun = "RUN echo \"debug level $DEBUG_LEVEL\" > /srv/debug.txt";
const char* const kCopyServer = "COPY bin/server /srv/server";
const char* const kRuntimeSelftest = "RUN /srv/server < /srv/README > /srv/selftest.txt";
const char* const kDebugSelftest = "RUN /srv/server < /srv/debug.txt > /srv/selftest.txt";

TEST_CASE("cmake-service with Ninja: two images, an edit reruns only the binary's layers",
          "[e2e][cmake]") {
  KILN_REQUIRE_RUNTIME();
  Kiln kiln;
  BuildBusyboxBase(kiln);
  ExampleProject project("cmake-service");
  WriteFile(project.source() / "CMakeLists.txt",
            ReadFile(project.source() / "CMakeLists.txt") +
                "get_target_property(iid_file service-runtime KILN_IID_FILE)\n"
                "message(STATUS \"iid file: ${iid_file}\")\n");
  const CommandResult configured = project.Configure(kNinja, {"-DKILN_EXPLAIN=ON"});
  const fs::path build = project.build(kNinja);
  CHECK(Contains(configured.out, "iid file: " + (build / "service-runtime.iid").string()));

  const std::string first = project.Build(kiln, kNinja);
  INFO(first);
  Steps built = RanSteps(first);
  for (const std::string& cached : CachedSteps(first)) built.push_back(cached);
  for (const char* step : {kBaseRun, kDebugRun, kCopyServer, kRuntimeSelftest, kDebugSelftest})
    CHECK(Contains(built, step));
  const std::string runtime_id = ImageId(kiln, "kiln-examples/service:latest");
  const std::string debug_id = ImageId(kiln, "kiln-examples/service:debug");
  CHECK(runtime_id != debug_id);
  CHECK(IidFile(build, "service-runtime") == runtime_id);
  CHECK(IidFile(build, "service-debug") == debug_id);
  const CommandResult images =
      kiln({"images", "--format", "{{.Repository}}:{{.Tag}}", "kiln-examples/service"});
  CHECK(Contains(images.out, "kiln-examples/service:latest"));
  CHECK(Contains(images.out, "kiln-examples/service:debug"));

  // The steps below run in order on one build tree: a configure and a first build cost most.
  {
    INFO("a no-op build and a relinked identical binary run no step");
    CHECK(RanSteps(project.Build(kiln, kNinja)).empty());
    const fs::path staged = build / "service-runtime.kiln-context/bin/server";
    const auto staged_time = fs::last_write_time(staged);
    project.Write("server/main.cpp", ReadFile(project.source() / "server/main.cpp") + "\n");
    const std::string output = project.Build(kiln, kNinja);
    INFO(output);
    CHECK(Contains(output, "Linking CXX executable server"));
    CHECK(RanSteps(output).empty());
    CHECK(fs::last_write_time(staged) == staged_time);  // staged only when its content changes
  }

  {
    INFO("editing the server reruns its COPY and the steps after it, nothing else");
    std::string main = ReadFile(project.source() / "server/main.cpp");
    main.replace(main.find("Greeting(line)"), 14, "\"edited \" << Greeting(line)");
    project.Write("server/main.cpp", main);
    const std::string output = project.Build(kiln, kNinja);
    INFO(output);
    // Each image reruns its COPY of the binary and the steps after it: RUN and CMD.
    Steps ran = RanSteps(output);
    std::sort(ran.begin(), ran.end());
    Steps expected = {
        kCopyServer,        kCopyServer, kRuntimeSelftest, kDebugSelftest, "CMD [\"/srv/server\"]",
        "CMD [\"/bin/sh\"]"};
    std::sort(expected.begin(), expected.end());
    CHECK(ran == expected);
    CHECK(Contains(CachedSteps(output), kBaseRun));
    CHECK(Contains(CachedSteps(output), kDebugRun));
    CHECK(Contains(output, "ran because: context files changed: bin/server (changed)"));
    CHECK(ImageId(kiln, "kiln-examples/service:latest") != runtime_id);
    CHECK(IidFile(build, "service-runtime") == ImageId(kiln, "kiln-examples/service:latest"));
    const CommandResult selftest =
        kiln({"run", "--rm", "kiln-examples/service:latest", "cat", "/srv/selftest.txt"});
    INFO(selftest.err);
    CHECK(selftest.out == "edited hello, service base\n");
  }

  {
    INFO("editing files the images do not copy runs no step");
    project.Write("image/NOTES.md", "not copied by the Dockerfile\n");
    project.Write("README.md", "edited\n");
    const std::string output = project.Build(kiln, kNinja);
    INFO(output);
    CHECK(RanSteps(output).empty());
    CHECK(fs::exists(build / "service-runtime.kiln-context/NOTES.md"));
    CHECK(IidFile(build, "service-runtime") == ImageId(kiln, "kiln-examples/service:latest"));
    fs::remove(project.source() / "image/NOTES.md");
    CHECK(RanSteps(project.Build(kiln, kNinja)).empty());
    CHECK_FALSE(fs::exists(build / "service-runtime.kiln-context/NOTES.md"));  // unstaged too
  }
}

TEST_CASE("cmake-service with Unix Makefiles and make -j2 builds both images", "[e2e][cmake]") {
  KILN_REQUIRE_RUNTIME();
  Kiln kiln;
  BuildBusyboxBase(kiln);
  ExampleProject project("cmake-service");
  project.Configure(kMakefiles);
  project.Build(kiln, kMakefiles);
  const fs::path build = project.build(kMakefiles);
  CHECK(IidFile(build, "service-runtime") == ImageId(kiln, "kiln-examples/service:latest"));
  CHECK(IidFile(build, "service-debug") == ImageId(kiln, "kiln-examples/service:debug"));
  const CommandResult debug = kiln(
      {"run", "--rm", "kiln-examples/service:debug", "cat", "/srv/debug.txt", "/srv/selftest.txt"});
  INFO(debug.err);
  CHECK(debug.out == "debug level 2\nhello, debug level 2\n");
}

TEST_CASE("hello-static: a static binary in a FROM scratch image runs", "[e2e][cmake]") {
  KILN_REQUIRE_RUNTIME();
  Kiln kiln;
  ExampleProject project("hello-static");
  project.Configure(kNinja);
  project.Build(kiln, kNinja);
  const std::string id = ImageId(kiln, "kiln-examples/hello-static:latest");
  CHECK(IidFile(project.build(kNinja), "hello-image") == id);
  const CommandResult run = kiln({"run", "--rm", "kiln-examples/hello-static:latest"});
  INFO(run.err);
  CHECK(run.exit_code == 0);
  CHECK(run.out == "hello from a static binary in a scratch image\n");
}

/// A CMake project of `cmake_lists` (no languages) with an image context holding a Dockerfile.
CommandResult ConfigureProject(const TempDir& dir, const std::string& cmake_lists,
                               const std::vector<std::string>& extra = {}) {
  WriteFile(dir / "src/CMakeLists.txt",
            "cmake_minimum_required(VERSION 3.25)\nproject(p NONE)\n" + cmake_lists);
  WriteFile(dir / "src/image/Dockerfile", "FROM scratch\nCOPY . /\n");
  fs::create_directories(dir / "src/empty");
  std::vector<std::string> argv = {"cmake", "-S", (dir / "src").string(), "-B",
                                   (dir / "build").string()};
  argv.insert(argv.end(), extra.begin(), extra.end());
  return Run(argv);
}

TEST_CASE("kiln_add_image reports configure-time errors clearly", "[e2e][cmake]") {
  const std::string find = std::string("find_package(Kiln 0.1 REQUIRED PATHS ") + KILN_BINARY_DIR +
                           " NO_DEFAULT_PATH)\n";
  struct Case {
    std::string name;
    std::string cmake_lists;
    std::vector<std::string> messages;
  };
  const std::vector<Case> cases = {
      {"a missing Dockerfile",
       find + "kiln_add_image(img CONTEXT empty)\n",
       {"kiln_add_image(img): Dockerfile not found:", "empty/Dockerfile"}},
      {"an invalid tag",
       find + "kiln_add_image(img CONTEXT image TAGS ok:1 Team/App:1)\n",
       {"kiln_add_image(img): invalid tag \"Team/App:1\": invalid reference format: repository "
        "name",
        "must be lowercase"}},
      {"a tag too long",
       find + "kiln_add_image(img CONTEXT image TAGS app:" + std::string(129, 't') + ")\n",
       {"kiln_add_image(img): invalid tag \"app:ttt",
        "invalid reference format: tag must be at most 128 characters (got 129)"}},
      {"a kiln too old for the project",
       std::string("find_package(Kiln 99 REQUIRED PATHS ") + KILN_BINARY_DIR +
           " NO_DEFAULT_PATH)\n",
       {"kiln too old: this project needs kiln 99 or newer, but the Kiln package in " +
        std::string(KILN_BINARY_DIR) + " is version 0."}},
      {"a kiln program older than the package",
       "file(WRITE ${CMAKE_BINARY_DIR}/old-kiln \"#!/bin/sh\\necho unknown command >&2\\nexit "
       "2\\n\")\n"
       "file(CHMOD ${CMAKE_BINARY_DIR}/old-kiln PERMISSIONS OWNER_READ OWNER_EXECUTE)\n"
       "set(KILN_EXECUTABLE ${CMAKE_BINARY_DIR}/old-kiln)\n" +
           find,
       {"kiln too old for this Kiln package (0.",
        "old-kiln cannot run `kiln internal check-reference` (2: unknown command"}},
      {"FILES without DESTINATION",
       find + "kiln_add_image(img CONTEXT image FILES a.txt)\n",
       {"kiln_add_image(img): FILES needs DESTINATION"}},
  };
  for (const Case& c : cases) {
    SECTION(c.name) {
      TempDir dir("kiln-e2e-cmake");
      const CommandResult r = ConfigureProject(dir, c.cmake_lists);
      INFO(r.out << r.err);
      CHECK(r.exit_code != 0);
      for (const std::string& message : c.messages) CHECK(Contains(Flat(r.err), message));
    }
  }

  SECTION("valid tags configure") {
    TempDir dir("kiln-e2e-cmake");
    const CommandResult r = ConfigureProject(
        dir, find + "kiln_add_image(img CONTEXT image TAGS app localhost:5000/team/app:1.0)\n");
    INFO(r.out << r.err);
    CHECK(r.exit_code == 0);
  }
}

TEST_CASE("kiln internal check-reference names the rule a reference breaks", "[e2e][cmake]") {
  const CommandResult r = Run({KILN_BINARY, "internal", "check-reference", "app:1",
                               "localhost:5000/Team/app", "team/app@sha256:12"});
  CHECK(r.exit_code == 1);
  CHECK(r.out == "docker.io/library/app:1\n");
  CHECK(Contains(r.err, "localhost:5000/Team/app: invalid reference format: repository name"));
  CHECK(Contains(r.err, "team/app@sha256:12: invalid reference format:"));
  CHECK(Run({KILN_BINARY, "internal", "check-reference"}).exit_code == 2);
}

TEST_CASE("find_package(Kiln) works from an install prefix", "[e2e][cmake]") {
  TempDir prefix("kiln-e2e-prefix");
  const CommandResult installed =
      Run({"cmake", "--install", KILN_BINARY_DIR, "--prefix", prefix.path().string()});
  INFO(installed.out << installed.err);
  REQUIRE(installed.exit_code == 0);
  CHECK(fs::exists(prefix / "bin/kiln"));
  CHECK(fs::exists(prefix / "lib/cmake/Kiln/KilnConfig.cmake"));
  CHECK(fs::exists(prefix / "lib/cmake/Kiln/KilnConfigVersion.cmake"));

  // The installed package builds an image (FROM scratch: no runtime needed) into its STORE.
  TempDir dir("kiln-e2e-cmake");
  WriteFile(dir / "data.txt", "staged\n");
  const CommandResult r =
      ConfigureProject(dir,
                       "find_package(Kiln 0.1 REQUIRED)\n"
                       "get_target_property(kiln Kiln::kiln IMPORTED_LOCATION)\n"
                       "message(STATUS \"kiln: ${kiln} ${Kiln_VERSION}\")\n"
                       "kiln_add_image(img CONTEXT image TAGS app:1 STORE store\n"
                       "  FILES ${CMAKE_SOURCE_DIR}/../data.txt DESTINATION files)\n",
                       {"-DCMAKE_PREFIX_PATH=" + prefix.path().string()});
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(Contains(r.out, "kiln: " + (prefix / "bin/kiln").string() + " 0."));
  const CommandResult built = Run({"cmake", "--build", (dir / "build").string()});
  INFO(built.out << built.err);
  REQUIRE(built.exit_code == 0);
  const CommandResult history =
      Run({KILN_BINARY, "history", "--no-trunc", "--format", "{{.CreatedBy}}", "app:1"},
          {{"KILN_ROOT", (dir / "build/store").string()}});
  INFO(history.err);
  CHECK(Contains(history.out, "COPY . /"));
  CHECK(ReadFile(dir / "build/img.kiln-context/files/data.txt") == "staged\n");
}

}  // namespace
}  // namespace kiln::e2e
