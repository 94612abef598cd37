#include "engine/run/container_runtime.h"

#include <sys/stat.h>
#include <sys/xattr.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <sstream>

#include "tests/engine/run/runtime_test_support.h"

namespace kiln {
namespace {

using test::ReadTextFile;
using test::TreeEntries;
using testing::TempDir;

const test::BusyboxLayers* Busybox() {
  return test::SharedBusyboxLayers();
}

struct Captured {
  RunResult result;
  std::string output;
};

Captured Run(RunSpec spec, const TempDir& scratch) {
  spec.lower_dirs = Busybox()->layers();
  spec.work_root = scratch.path() / "run";
  Captured captured;
  captured.result = RunContainer(spec, [&](std::string_view chunk) { captured.output += chunk; });
  return captured;
}

RunSpec Shell(const std::string& script) {
  RunSpec spec;
  spec.args = {"/bin/sh", "-c", script};
  return spec;
}

TEST_CASE("RUN changes land in the upper dir in overlay form, without mount points", "[runtime]") {
  if (!Busybox()) return;
  TempDir scratch;
  auto run = Run(Shell("echo hi > /f; rm /bin/ls"), scratch);
  REQUIRE(run.result.exit_code == 0);
  CHECK(run.result.overlay);
  const auto& upper = run.result.upper_dir;
  CHECK(ReadTextFile(upper / "f") == "hi\n");
  CHECK(test::IsWhiteoutAt(upper / "bin/ls"));
  // proc, dev, sys, /etc/hosts, /etc/resolv.conf were mount points made for the run only.
  CHECK(TreeEntries(upper) == std::set<std::string>{"bin", "bin/ls", "f"});
}

TEST_CASE("renaming a lower directory copies it instead of leaving an overlay redirect",
          "[runtime]") {
  if (!Busybox()) return;
  TempDir scratch;
  // (not /etc: the bind-mounted hosts file inside makes it busy)
  RunSpec spec;
  spec.args = {"/bin/busybox", "mv", "/bin", "/bin2"};
  auto run = Run(spec, scratch);
  REQUIRE(run.result.exit_code == 0);
  const auto& upper = run.result.upper_dir;
  CHECK(test::IsWhiteoutAt(upper / "bin"));
  CHECK(std::filesystem::file_size(upper / "bin2/busybox") ==
        std::filesystem::file_size("/bin/busybox"));
  CHECK(std::filesystem::is_symlink(upper / "bin2/sh"));
  CHECK(::lgetxattr((upper / "bin2").c_str(), "trusted.overlay.redirect", nullptr, 0) < 0);
}

TEST_CASE("a run that changes nothing leaves an empty upper dir", "[runtime]") {
  if (!Busybox()) return;
  TempDir scratch;
  auto run = Run(Shell("cat /etc/hosts >/dev/null; ls / >/dev/null"), scratch);
  REQUIRE(run.result.exit_code == 0);
  CHECK(TreeEntries(run.result.upper_dir).empty());
}

TEST_CASE("env, working directory and user are applied", "[runtime]") {
  if (!Busybox()) return;
  TempDir scratch;
  RunSpec spec = Shell("id -u; id -g; id -G; pwd; echo $FOO; echo $PATH; echo $HOME");
  spec.env = {"FOO=bar baz"};
  spec.cwd = "/work/dir";
  spec.uid = 1000;
  spec.gid = 1000;
  spec.additional_gids = {50};
  spec.home = "/home/alice";
  auto run = Run(spec, scratch);
  REQUIRE(run.result.exit_code == 0);
  CHECK(run.output ==
        "1000\n1000\n1000 50\n/work/dir\nbar baz\n"
        "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n/home/alice\n");
  // The missing working directory was created and stays in the layer, as WORKDIR would.
  CHECK(std::filesystem::is_directory(run.result.upper_dir / "work/dir"));
}

TEST_CASE("processes get Docker's capabilities and masked paths", "[runtime]") {
  if (!Busybox()) return;
  TempDir scratch;
  auto run = Run(Shell("grep CapEff /proc/self/status; wc -c < /proc/timer_list; "
                       "(echo 1 > /proc/sys/kernel/panic) 2>/dev/null || echo ro"),
                 scratch);
  REQUIRE(run.result.exit_code == 0);
  CHECK(run.output == "CapEff:\t00000000a80425fb\n0\nro\n");
}

TEST_CASE("exit codes propagate and the output tail keeps the last 30 lines", "[runtime]") {
  if (!Busybox()) return;
  TempDir scratch;
  auto run = Run(Shell("seq 1 100; exit 3"), scratch);
  CHECK(run.result.exit_code == 3);
  std::string expected;
  for (int i = 71; i <= 100; ++i) expected += std::to_string(i) + "\n";
  CHECK(run.result.output_tail == expected);
  CHECK(run.output.substr(0, 4) == "1\n2\n");
  CHECK(RunFailureMessage({"/bin/sh", "-c", "false"}, 1) ==
        "process \"/bin/sh -c false\" did not complete successfully: exit code: 1");
}

/// The ids of the containers the runtime knows that this process created.
std::vector<std::string> OurContainers() {
  std::string listing;
  ProcessSpec spec;
  spec.argv = {"runc", "list", "-q"};
  spec.on_stdout = [&](std::string_view chunk) { listing.append(chunk); };
  spec.on_stderr = [](std::string_view) {};
  RunProcess(std::move(spec));
  std::vector<std::string> ids;
  const std::string ours = "kiln-" + std::to_string(::getpid()) + "-";
  std::istringstream lines(listing);
  for (std::string line; std::getline(lines, line);)
    if (line.rfind(ours, 0) == 0) ids.push_back(line);
  return ids;
}

TEST_CASE("no container outlives its run, whatever the command's exit", "[runtime]") {
  if (!Busybox()) return;
  TempDir scratch;
  CHECK(Run(Shell("true"), scratch).result.exit_code == 0);
  CHECK(Run(Shell("exit 7"), scratch).result.exit_code == 7);
  CHECK(Run(Shell("sh -c 'kill -9 $$'; exit $?"), scratch).result.exit_code == 137);
  CHECK(OurContainers().empty());
}

TEST_CASE("a script on stdin runs (heredoc form)", "[runtime]") {
  if (!Busybox()) return;
  TempDir scratch;
  RunSpec spec;
  spec.args = {"/bin/sh"};
  spec.stdin_data = "echo from-stdin\nread -r line || true\necho \"after:$line\"\nexit 4\n";
  auto run = Run(spec, scratch);
  CHECK(run.result.exit_code == 4);
  CHECK(run.output == "from-stdin\nafter:\n");
}

TEST_CASE("network none has only the loopback interface", "[runtime]") {
  if (!Busybox()) return;
  TempDir scratch;
  RunSpec spec = Shell(
      "tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' '; hostname; grep -c builder /etc/hosts");
  spec.network = "none";
  spec.hostname = "builder";
  auto run = Run(spec, scratch);
  REQUIRE(run.result.exit_code == 0);
  CHECK(run.output == "lo\nbuilder\n1\n");
}

TEST_CASE("host network shares the host's interfaces", "[runtime]") {
  if (!Busybox()) return;
  TempDir scratch;
  auto run = Run(Shell("tail -n +3 /proc/net/dev | wc -l; grep -c kiln /etc/hosts"), scratch);
  REQUIRE(run.result.exit_code == 0);
  CHECK(run.output.substr(run.output.find('\n') + 1) == "1\n");
  std::string host = ReadTextFile("/proc/net/dev");
  auto host_interfaces = std::count(host.begin(), host.end(), '\n') - 2;
  CHECK(std::stoi(run.output) == host_interfaces);
}

TEST_CASE("a tmpfs mount leaves nothing in the upper dir", "[runtime]") {
  if (!Busybox()) return;
  TempDir scratch;
  RunSpec spec = Shell("echo x > /scratch/tmp/a && cat /scratch/tmp/a");
  spec.mounts = {{"tmpfs", "", "/scratch/tmp", {"size=1m"}}};
  auto run = Run(spec, scratch);
  REQUIRE(run.result.exit_code == 0);
  CHECK(run.output == "x\n");
  CHECK(TreeEntries(run.result.upper_dir).empty());
}

TEST_CASE("a read-only bind of a host file is visible and leaves no trace", "[runtime]") {
  if (!Busybox()) return;
  TempDir scratch;
  test::WriteTextFile(scratch.path() / "host.txt", "from host\n");
  RunSpec spec =
      Shell("cat /etc/extra/host.txt; (echo y > /etc/extra/host.txt) 2>/dev/null || echo refused");
  spec.mounts = {{"bind", scratch.path() / "host.txt", "/etc/extra/host.txt", {"ro"}}};
  auto run = Run(spec, scratch);
  REQUIRE(run.result.exit_code == 0);
  CHECK(run.output == "from host\nrefused\n");
  CHECK(ReadTextFile(scratch.path() / "host.txt") == "from host\n");
  CHECK(TreeEntries(run.result.upper_dir).empty());
}

TEST_CASE("an empty root gets mount points that vanish afterwards", "[runtime]") {
  if (!Busybox()) return;
  TempDir scratch;
  RunSpec spec;
  spec.args = {"/bin/busybox", "sh", "-c", "/bin/busybox ls /etc; echo x > /new"};
  spec.mounts = {{"bind", "/bin/busybox", "/bin/busybox", {"ro"}}};
  spec.work_root = scratch.path() / "run";
  std::string output;
  RunResult result = RunContainer(spec, [&](std::string_view c) { output += c; });
  CHECK(result.exit_code == 0);
  CHECK(output.rfind("hosts\n", 0) == 0);  // and resolv.conf when the host has one
  CHECK(TreeEntries(result.upper_dir) == std::set<std::string>{"new"});
}

TEST_CASE("the copy fallback without overlayfs gives the same upper dir", "[runtime]") {
  if (!Busybox()) return;
  TempDir scratch;
  ::setenv("KILN_NO_OVERLAY", "1", 1);
  Captured run;
  try {
    run = Run(Shell("echo hi > /f; rm /bin/ls; mkdir -p /etc/new && touch /etc/new/x"), scratch);
  } catch (...) {
    ::unsetenv("KILN_NO_OVERLAY");
    throw;
  }
  ::unsetenv("KILN_NO_OVERLAY");
  REQUIRE(run.result.exit_code == 0);
  CHECK_FALSE(run.result.overlay);
  const auto& upper = run.result.upper_dir;
  CHECK(ReadTextFile(upper / "f") == "hi\n");
  CHECK(test::IsWhiteoutAt(upper / "bin/ls"));
  CHECK(TreeEntries(upper) ==
        std::set<std::string>{"bin", "bin/ls", "etc", "etc/new", "etc/new/x", "f"});
}

TEST_CASE("runtime failures are errors, not exit codes", "[runtime]") {
  if (!Busybox()) return;
  TempDir scratch;
  RunSpec spec;
  spec.args = {"/no/such/program"};
  CHECK_THROWS_AS(Run(spec, scratch), RuntimeError);
  spec.runtime = "no-such-runtime";
  CHECK_THROWS_WITH(Run(spec, scratch), Catch::Contains("\"no-such-runtime\" not found"));
}

TEST_CASE("crun runs the container, or runc where crun cannot", "[runtime]") {
  if (!Busybox()) return;
  TempDir scratch;
  RunSpec spec = Shell("echo ran; exit 2");
  spec.runtime = "crun";
  auto run = Run(spec, scratch);
  CHECK(run.result.exit_code == 2);
  CHECK(run.result.output_tail.find("ran\n") != std::string::npos);
}

TEST_CASE("the OCI config carries Docker's defaults", "[runtime]") {
  RunSpec spec;
  spec.args = {"/bin/true"};
  spec.uid = 5;
  spec.additional_gids = {7};
  spec.network = "none";
  auto config = OciConfig(spec, "/r", DefaultMounts());
  CHECK(config["ociVersion"] == "1.0.2");
  CHECK(config["process"]["user"]["additionalGids"] == nlohmann::json::array({7}));
  CHECK(config["process"]["capabilities"]["bounding"].size() == 14);
  CHECK(config["process"]["env"][0].get<std::string>().rfind("PATH=", 0) == 0);
  auto namespaces = config["linux"]["namespaces"];
  CHECK(namespaces.size() == 5);
  CHECK(namespaces.back()["type"] == "network");
  spec.network = "host";
  CHECK(OciConfig(spec, "/r", {})["linux"]["namespaces"].size() == 4);
}

TEST_CASE("failure reports box the output tail above Docker's message", "[runtime]") {
  CHECK(RunFailureReport("2/2 RUN false", {"/bin/sh", "-c", "false"}, 1, "oops\n") ==
        "------\n > 2/2 RUN false:\noops\n------\n"
        "process \"/bin/sh -c false\" did not complete successfully: exit code: 1");
}

}  // namespace
}  // namespace kiln
