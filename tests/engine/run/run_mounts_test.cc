#include "engine/run/run_mounts.h"

#include <sys/stat.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <memory>
#include <thread>

#include "tests/engine/run/runtime_test_support.h"

namespace kiln {
namespace {

namespace fs = std::filesystem;

using test::ReadTextFile;
using test::TreeEntries;
using testing::TempDir;

RunMount Mount(const std::string& type, const std::string& target,
               std::map<std::string, std::string> options = {}) {
  RunMount mount;
  mount.type = type;
  mount.target = target;
  mount.options = std::move(options);
  return mount;
}

const test::BusyboxLayers* Busybox() {
  return test::SharedBusyboxLayers();
}

/// Runs `script` with `mounts`; returns the output and checks nothing leaked into the layer.
struct MountRun {
  int exit_code = 0;
  std::string output;
  std::set<std::string> upper_entries;
};

MountRun RunWithMounts(const std::string& script, const std::vector<RunMount>& mounts,
                       const RunMountSources& base_sources) {
  TempDir scratch("kiln-mountrun");
  RunMountSources sources = base_sources;
  sources.scratch = scratch.path() / "mounts";
  MountRun outcome;
  {
    auto prepared = PrepareRunMounts(mounts, sources);
    RunSpec spec;
    spec.args = {"/bin/sh", "-c", script};
    spec.env = prepared->env();
    spec.mounts = prepared->mounts();
    spec.lower_dirs = Busybox()->layers();
    spec.work_root = scratch.path() / "run";
    RunResult result = RunContainer(spec, [&](std::string_view c) { outcome.output += c; });
    outcome.exit_code = result.exit_code;
    outcome.upper_entries = TreeEntries(result.upper_dir);
  }
  return outcome;
}

TEST_CASE("cache mount ids map to distinct readable directory names", "[run_mounts]") {
  CHECK(CacheMountDirName("/root/.cache").rfind("_root_.cache-", 0) == 0);
  CHECK(CacheMountDirName("a/b") != CacheMountDirName("a_b"));
  CHECK(CacheMountDirName("..").find('/') == std::string::npos);
}

TEST_CASE("a cache mount is created with its uid, gid and mode", "[run_mounts]") {
  if (::geteuid() != 0) {
    WARN("skipping: chown needs root");
    return;
  }
  TempDir store;
  RunMountSources sources{store.path(), store.path() / "scratch", nullptr, {}};
  auto prepared = PrepareRunMounts(
      {Mount("cache", "/c", {{"id", "x"}, {"uid", "1000"}, {"gid", "50"}, {"mode", "0700"}})},
      sources);
  REQUIRE(prepared->mounts().size() == 1);
  const auto& spec = prepared->mounts()[0];
  CHECK(spec.type == "bind");
  CHECK(spec.destination == "/c");
  CHECK(spec.source == store.path() / "cache-mounts" / CacheMountDirName("x"));
  struct stat st {};
  REQUIRE(::stat(spec.source.c_str(), &st) == 0);
  CHECK(st.st_uid == 1000);
  CHECK(st.st_gid == 50);
  CHECK((st.st_mode & 07777) == 0700);
}

TEST_CASE("locked cache mounts wait for each other", "[run_mounts]") {
  TempDir store;
  RunMountSources sources{store.path(), store.path() / "scratch", nullptr, {}};
  auto mount = Mount("cache", "/c", {{"sharing", "locked"}});
  auto first = PrepareRunMounts({mount}, sources);
  std::atomic<bool> second_ready{false};
  std::thread waiter([&] {
    auto second = PrepareRunMounts({mount}, sources);
    second_ready = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  CHECK_FALSE(second_ready);
  first.reset();
  waiter.join();
  CHECK(second_ready);
}

TEST_CASE("a busy private cache gives another instance, shared ones share", "[run_mounts]") {
  TempDir store;
  RunMountSources sources{store.path(), store.path() / "scratch", nullptr, {}};
  auto priv = Mount("cache", "/c", {{"sharing", "private"}});
  auto first = PrepareRunMounts({priv}, sources);
  auto second = PrepareRunMounts({priv}, sources);
  fs::path second_dir = second->mounts()[0].source;
  CHECK(first->mounts()[0].source != second_dir);
  second.reset();
  // Instances persist: the freed second one is reused.
  CHECK(PrepareRunMounts({priv}, sources)->mounts()[0].source == second_dir);
  auto shared = Mount("cache", "/c", {{"sharing", "shared"}, {"id", "s"}});
  auto a = PrepareRunMounts({shared}, sources);
  auto b = PrepareRunMounts({shared}, sources);
  CHECK(a->mounts()[0].source == b->mounts()[0].source);
  CHECK_THROWS_AS(PrepareRunMounts({Mount("cache", "/c", {{"sharing", "bogus"}})}, sources),
                  RunMountError);
}

TEST_CASE("secrets: required ones must exist, env ones become variables", "[run_mounts]") {
  TempDir store;
  test::WriteTextFile(store.path() / "tok", "s3cret");
  RunMountSources sources{
      store.path(), store.path() / "scratch", nullptr, {{"tok", store.path() / "tok"}}};
  CHECK_THROWS_WITH(
      PrepareRunMounts({Mount("secret", "", {{"id", "nope"}, {"required", "true"}})}, sources),
      "secret nope: not found");
  CHECK(PrepareRunMounts({Mount("secret", "", {{"id", "nope"}})}, sources)->mounts().empty());
  auto env = PrepareRunMounts({Mount("secret", "", {{"id", "tok"}, {"env", "TOKEN"}})}, sources);
  CHECK(env->mounts().empty());
  CHECK(env->env() == std::vector<std::string>{"TOKEN=s3cret"});
}

TEST_CASE("a cache mount persists across runs and leaves no trace in the layer",
          "[run_mounts][runtime]") {
  if (!Busybox()) return;
  TempDir store;
  RunMountSources sources{store.path(), {}, nullptr, {}};
  auto cache = Mount("cache", "/var/cache/app", {{"id", "app"}});
  auto first = RunWithMounts("echo one >> /var/cache/app/log", {cache}, sources);
  REQUIRE(first.exit_code == 0);
  CHECK(first.upper_entries.empty());
  auto second =
      RunWithMounts("echo two >> /var/cache/app/log; cat /var/cache/app/log", {cache}, sources);
  CHECK(second.output == "one\ntwo\n");
  CHECK(second.upper_entries.empty());
}

TEST_CASE("locked cache mounts serialize concurrent runs", "[run_mounts][runtime]") {
  if (!Busybox()) return;
  TempDir store;
  RunMountSources sources{store.path(), {}, nullptr, {}};
  auto cache = Mount("cache", "/c", {{"sharing", "locked"}});
  const std::string script =
      "if [ -e /c/busy ]; then echo overlap; fi; touch /c/busy; sleep 1; rm /c/busy";
  MountRun a, b;
  auto start = std::chrono::steady_clock::now();
  std::thread other([&] { b = RunWithMounts(script, {cache}, sources); });
  a = RunWithMounts(script, {cache}, sources);
  other.join();
  auto elapsed = std::chrono::steady_clock::now() - start;
  CHECK(a.output + b.output == "");
  CHECK(elapsed >= std::chrono::seconds(2));
}

TEST_CASE("a secret is readable inside and absent from the layer", "[run_mounts][runtime]") {
  if (!Busybox()) return;
  TempDir store;
  test::WriteTextFile(store.path() / "tok", "s3cret");
  RunMountSources sources{store.path(), {}, nullptr, {{"tok", store.path() / "tok"}}};
  auto run = RunWithMounts(
      "cat /run/secrets/tok; echo; stat -c '%a %u' /run/secrets/tok /etc/app/key; "
      "cat /etc/app/key; echo; (echo x > /run/secrets/tok) 2>/dev/null || echo read-only",
      {Mount("secret", "", {{"id", "tok"}}),
       Mount("secret", "/etc/app/key", {{"id", "tok"}, {"mode", "0440"}, {"uid", "1000"}})},
      sources);
  CHECK(run.exit_code == 0);
  INFO(run.output);
  // (busybox's in-shell applets buffer stdout, so stderr lines could overtake it)
  CHECK(run.output == "s3cret\n400 0\n440 1000\ns3cret\nread-only\n");
  CHECK(run.upper_entries.empty());
}

TEST_CASE("bind mounts are read-only by default, rw writes are discarded",
          "[run_mounts][runtime]") {
  if (!Busybox()) return;
  TempDir store;
  test::WriteTextFile(store.path() / "ctx/a", "original\n");
  RunMountSources sources{store.path(), {}, nullptr, {}};
  sources.bind_source = [&](const RunMount& mount) {
    return store.path() / "ctx" / mount.options.at("source");
  };
  auto ro = RunWithMounts("cat /src/a; (echo x > /src/a) 2>/dev/null || echo refused",
                          {Mount("bind", "/src", {{"source", "."}})}, sources);
  CHECK(ro.output == "original\nrefused\n");
  auto rw = RunWithMounts("echo changed > /src/a && cat /src/a",
                          {Mount("bind", "/src", {{"source", "."}, {"rw", "true"}})}, sources);
  CHECK(rw.output == "changed\n");
  CHECK(ReadTextFile(store.path() / "ctx/a") == "original\n");
  CHECK(rw.upper_entries.empty());
}

TEST_CASE("tmpfs mounts take a size and unsupported types are refused", "[run_mounts]") {
  TempDir store;
  RunMountSources sources{store.path(), store.path() / "scratch", nullptr, {}};
  auto tmpfs = PrepareRunMounts({Mount("tmpfs", "/t", {{"size", "10m"}})}, sources);
  CHECK(tmpfs->mounts()[0].options == std::vector<std::string>{"nosuid", "nodev", "size=10m"});
  CHECK_THROWS_WITH(PrepareRunMounts({Mount("ssh", "/s")}, sources),
                    "mount type ssh is not supported");
}

}  // namespace
}  // namespace kiln
