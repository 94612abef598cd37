// Helpers for end-to-end tests: run the built kiln against a temporary store and context.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "tests/support/temp_dir.h"

namespace kiln::e2e {

struct CommandResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

/// Runs `argv` (argv[0] found on PATH unless it has a '/') with extra environment, feeding
/// `input` on stdin; captures stdout and stderr.
CommandResult Run(const std::vector<std::string>& argv,
                  const std::map<std::string, std::string>& env = {},
                  const std::string& input = "");

/// The tests' temporary directory (mounts below it are detached before it is removed).
using testing::TempDir;

/// Writes `content` to `path`, creating parent directories.
void WriteFile(const std::filesystem::path& path, const std::string& content);
std::string ReadFile(const std::filesystem::path& path);

/// A kiln store in a temporary directory, and kiln run against it.
class Kiln {
 public:
  Kiln();
  CommandResult operator()(const std::vector<std::string>& args, const std::string& input = "",
                           const std::map<std::string, std::string>& env = {}) const;
  const std::filesystem::path& root() const { return store_.path(); }

 private:
  TempDir store_;
};

/// Removes every container of `kiln`'s store at scope exit, so no process outlives the test.
class ContainerCleanup {
 public:
  explicit ContainerCleanup(const Kiln& kiln) : kiln_(kiln) {}
  ~ContainerCleanup();
  ContainerCleanup(const ContainerCleanup&) = delete;
  ContainerCleanup& operator=(const ContainerCleanup&) = delete;

 private:
  const Kiln& kiln_;
};

/// Empty when RUN can work here (root, runc, busybox); otherwise why not.
std::string WhyNoRuntime();

/// Builds the busybox base image (FROM scratch + the host's static busybox) tagged `tag`.
void BuildBusyboxBase(const Kiln& kiln, const std::string& tag = "kiln-busybox:latest");

/// Builds `dockerfile` (in an otherwise empty context) as `tag` with `kiln build -q`; returns
/// the image id it prints. Fails the test when the build fails.
std::string BuildImage(const Kiln& kiln, const std::string& tag, const std::string& dockerfile);

/// The full id ("sha256:...") of the image `name` names. Fails the test when it names none.
std::string ImageId(const Kiln& kiln, const std::string& name);

/// Skips the rest of a test case with a printed reason when RUN cannot work here.
#define KILN_REQUIRE_RUNTIME()                           \
  do {                                                   \
    const std::string why = ::kiln::e2e::WhyNoRuntime(); \
    if (!why.empty()) {                                  \
      WARN("skipped: " << why);                          \
      return;                                            \
    }                                                    \
  } while (0)

}  // namespace kiln::e2e

namespace kiln::e2e {

/// Unpacks the image `reference` of the store with umoci into `bundle`; its files are under
/// bundle/rootfs and its OCI config in bundle/config.json. Fails the test when umoci fails.
void UnpackWithUmoci(const Kiln& kiln, const std::string& reference,
                     const std::filesystem::path& bundle);

/// The lines of a command's output, without their newlines.
std::vector<std::string> Lines(const std::string& text);

/// The steps a `--progress=plain` build ran (printed DONE), by their text ("RUN make").
std::vector<std::string> RanSteps(const std::string& plain_output);
/// The steps it reused (printed CACHED).
std::vector<std::string> CachedSteps(const std::string& plain_output);

}  // namespace kiln::e2e
