#include "engine/store/container_store.h"

#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>

#include <catch2/catch.hpp>

#include "tests/engine/store/store_test_support.h"

namespace kiln {
namespace {
namespace fs = std::filesystem;
using testing::TempStore;

ContainerRecord Named(const std::string& name) {
  ContainerRecord record;
  record.name = name;
  record.image_id = "sha256:" + std::string(64, 'a');
  record.image_name = "busybox";
  record.created = "2024-01-02T03:04:05Z";
  record.path = "sleep";
  record.args = {"60"};
  return record;
}

TEST_CASE("CreateContainer assigns a 64-hex id, a random name and a created state") {
  TempStore temp;
  const ContainerRecord c = CreateContainer(*temp, Named(""));
  REQUIRE(c.id.size() == 64);
  CHECK(c.id.find_first_not_of("0123456789abcdef") == std::string::npos);
  CHECK(c.name.find('_') != std::string::npos);
  CHECK(c.hostname == c.id.substr(0, 12));
  CHECK(c.state.status == "created");
  CHECK(fs::exists(ContainerLogPath(*temp, c.id)));
  const auto found = FindContainer(*temp, c.id);
  REQUIRE(found);
  CHECK(found->name == c.name);
  CHECK(found->args == std::vector<std::string>{"60"});
  CHECK(found->image_name == "busybox");
}

TEST_CASE("Random names differ and follow adjective_surname") {
  std::set<std::string> names;
  for (int i = 0; i < 50; ++i) names.insert(RandomContainerName());
  CHECK(names.size() > 10);
  for (const auto& n : names) CHECK(n.find('_') != std::string::npos);
}

TEST_CASE("A taken name is Docker's conflict error naming the holder") {
  TempStore temp;
  const ContainerRecord first = CreateContainer(*temp, Named("web"));
  try {
    CreateContainer(*temp, Named("/web"));
    FAIL("no conflict");
  } catch (const ContainerError& e) {
    CHECK(std::string(e.what()) ==
          "Conflict. The container name \"/web\" is already in use by container \"" + first.id +
              "\". You have to remove (or rename) that container to be able to reuse that name.");
  }
  CHECK(ListContainers(*temp).size() == 1);
}

TEST_CASE("FindContainer: id, name with or without '/', unique prefix, ambiguity") {
  TempStore temp;
  const ContainerRecord a = CreateContainer(*temp, Named("alpha"));
  const ContainerRecord b = CreateContainer(*temp, Named("beta"));
  CHECK(FindContainer(*temp, a.id)->name == "alpha");
  CHECK(FindContainer(*temp, "beta")->id == b.id);
  CHECK(FindContainer(*temp, "/beta")->id == b.id);
  size_t common = 0;
  while (a.id[common] == b.id[common]) ++common;
  CHECK(FindContainer(*temp, a.id.substr(0, common + 1))->id == a.id);
  if (common > 0) {
    CHECK_THROWS_AS(FindContainer(*temp, a.id.substr(0, common)), ContainerError);
  }
  CHECK_FALSE(FindContainer(*temp, "gamma"));
  CHECK_FALSE(FindContainer(*temp, ""));
}

TEST_CASE("IsRunning needs the pid alive with the recorded start time") {
  ContainerRecord c = Named("x");
  c.state.status = "running";
  c.state.pid = ::getpid();
  c.state.pid_start = ProcessStartTime(::getpid()).value();
  CHECK(IsRunning(c));
  c.state.pid_start += 1;  // a reused pid is not ours
  CHECK_FALSE(IsRunning(c));
  c.state.pid = 0;
  CHECK_FALSE(IsRunning(c));
}

TEST_CASE("A running container whose process and supervisor are gone is listed as exited") {
  TempStore temp;
  const ContainerRecord c = CreateContainer(*temp, Named("ghost"));
  ContainerState state;
  state.status = "running";
  state.pid = 999999999;  // no such process
  state.pid_start = 1;
  state.started_at = "2024-01-02T03:04:06Z";
  WriteContainerState(*temp, c.id, state);
  const auto found = FindContainer(*temp, "ghost");
  REQUIRE(found);
  CHECK(found->state.status == "exited");
  CHECK(found->state.exit_code == 137);
  CHECK(ReadContainerState(*temp, c.id).status == "exited");
}

TEST_CASE("A supervisor-written exit is what is shown") {
  TempStore temp;
  const ContainerRecord c = CreateContainer(*temp, Named("done"));
  ContainerState state;
  state.status = "exited";
  state.exit_code = 3;
  state.finished_at = "2024-01-02T03:04:07Z";
  WriteContainerState(*temp, c.id, state);
  const auto found = FindContainer(*temp, "done");
  REQUIRE(found);
  CHECK(found->state == state);
}

TEST_CASE("DeleteContainer removes the container and SizeRw counts the upper dir") {
  TempStore temp;
  const ContainerRecord c = CreateContainer(*temp, Named("gone"));
  CHECK(ContainerSizeRw(*temp, c.id) == 0);
  const fs::path upper = ContainerWorkRoot(*temp, c.id) / "fs" / "upper" / "etc";
  fs::create_directories(upper);
  { std::ofstream(upper / "file") << std::string(1000, 'x'); }
  CHECK(ContainerSizeRw(*temp, c.id) == 1000);
  DeleteContainer(*temp, c.id);
  CHECK_FALSE(FindContainer(*temp, "gone"));
  CHECK_FALSE(fs::exists(ContainerDir(*temp, c.id)));
}

}  // namespace
}  // namespace kiln
