// Shared fixtures for the tests that run real containers: a busybox root file system as two
// overlay-form layers, scratch directories, and the root/runc precondition.
#pragma once

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "engine/base/subprocess.h"
#include "engine/run/container_runtime.h"
#include "tests/support/temp_dir.h"

namespace kiln::test {

inline void WriteTextFile(const std::filesystem::path& path, const std::string& content) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary | std::ios::trunc) << content;
}

inline std::string ReadTextFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

/// Every path under `root`, relative, sorted.
inline std::set<std::string> TreeEntries(const std::filesystem::path& root) {
  std::set<std::string> entries;
  for (auto it = std::filesystem::recursive_directory_iterator(root);
       it != std::filesystem::recursive_directory_iterator(); ++it) {
    entries.insert(std::filesystem::relative(it->path(), root).string());
  }
  return entries;
}

inline bool IsWhiteoutAt(const std::filesystem::path& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == 0;
}

/// Why containers cannot run here, or nullopt when they can.
inline std::optional<std::string> ContainerPrerequisiteMissing() {
  if (::geteuid() != 0) return "not running as root";
  if (::access("/bin/busybox", X_OK) != 0) return "/bin/busybox (busybox-static) is missing";
  try {
    ProcessSpec probe;
    probe.argv = {"runc", "--version"};
    if (ExitCode(RunProcess(std::move(probe))) != 0) return "runc does not run";
  } catch (const ProcessError&) {
    return "runc is not installed";
  }
  return std::nullopt;
}

/// A busybox root file system as overlay-form layers (top-most first): the static binary with
/// account files, then the layer `busybox --install -s /bin` produced when run in a container.
class BusyboxLayers {
 public:
  BusyboxLayers() : scratch_("kiln-busybox") {
    auto base = scratch_.path() / "base";
    std::filesystem::create_directories(base / "bin");
    std::filesystem::copy_file("/bin/busybox", base / "bin/busybox");
    std::filesystem::permissions(base / "bin/busybox", std::filesystem::perms(0755));
    WriteTextFile(base / "etc/passwd",
                  "root:x:0:0:root:/root:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/sh\n");
    WriteTextFile(base / "etc/group", "root:x:0:\nalice:x:1000:\nstaff:x:50:alice\n");
    std::filesystem::create_directories(base / "tmp");
    std::filesystem::permissions(base / "tmp", std::filesystem::perms(01777));
    RunSpec install;
    install.args = {"/bin/busybox", "--install", "-s", "/bin"};
    install.lower_dirs = {base};
    install.work_root = scratch_.path() / "install";
    RunResult result = RunContainer(install, nullptr);
    if (result.exit_code != 0) throw std::runtime_error("busybox --install: " + result.output_tail);
    layers_ = {result.upper_dir, base};
  }
  const std::vector<std::filesystem::path>& layers() const { return layers_; }

 private:
  testing::TempDir scratch_;
  std::vector<std::filesystem::path> layers_;
};

/// The busybox layers, built once for all tests of the program; null, with a printed reason,
/// when containers cannot run on this machine (the test then returns early).
inline const BusyboxLayers* SharedBusyboxLayers() {
  static const std::optional<std::string> missing = ContainerPrerequisiteMissing();
  if (missing) {
    WARN("skipping container test: " << *missing);
    return nullptr;
  }
  static const auto layers = std::make_unique<BusyboxLayers>();
  return layers.get();
}

}  // namespace kiln::test
