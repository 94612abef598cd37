#include "engine/store/image_config.h"

#include <catch2/catch.hpp>

namespace kiln {
namespace {

Step ConfigStep(std::string instruction) {
  Step s;
  s.kind = StepKind::kConfig;
  s.instruction = std::move(instruction);
  return s;
}

TEST_CASE("ENV replaces an existing key and keeps order", "[image_config]") {
  nlohmann::json image = EmptyImageConfig();
  Step env = ConfigStep("ENV");
  env.env = {{"A", "1"}, {"B", "2"}};
  ApplyConfigStep(env, image, false);
  env.env = {{"A", "3"}};
  ApplyConfigStep(env, image, false);
  CHECK(image["config"]["Env"] == nlohmann::json({"A=3", "B=2"}));
  CHECK(ImageEnv(image).front().rfind("PATH=", 0) == 0);
}

TEST_CASE("shell-form CMD goes through SHELL, ENTRYPOINT resets an inherited CMD",
          "[image_config]") {
  nlohmann::json image = EmptyImageConfig();
  Step cmd = ConfigStep("CMD");
  cmd.args = {"echo hi"};
  cmd.shell_form = true;
  ApplyConfigStep(cmd, image, true);
  CHECK(image["config"]["Cmd"] == nlohmann::json({"/bin/sh", "-c", "echo hi"}));
  CHECK(HistoryCreatedBy(cmd, image) == R"(CMD ["/bin/sh" "-c" "echo hi"])");

  Step shell = ConfigStep("SHELL");
  shell.args = {"/bin/bash", "-ec"};
  ApplyConfigStep(shell, image, true);
  Step entry = ConfigStep("ENTRYPOINT");
  entry.args = {"run"};
  entry.shell_form = true;
  ApplyConfigStep(entry, image, false);
  CHECK(image["config"]["Entrypoint"] == nlohmann::json({"/bin/bash", "-ec", "run"}));
  CHECK_FALSE(image["config"].contains("Cmd"));
}

TEST_CASE("config fields use Docker's keys", "[image_config]") {
  nlohmann::json image = EmptyImageConfig();
  Step expose = ConfigStep("EXPOSE");
  expose.args = {"80/tcp", "53/udp"};
  ApplyConfigStep(expose, image, false);
  Step volume = ConfigStep("VOLUME");
  volume.args = {"/data"};
  ApplyConfigStep(volume, image, false);
  Step label = ConfigStep("LABEL");
  label.labels = {{"a", "b c"}};
  ApplyConfigStep(label, image, false);
  Step health = ConfigStep("HEALTHCHECK");
  health.healthcheck = Healthcheck{{"CMD-SHELL", "true"}, 30000000000, 0, 0, 0, 3};
  ApplyConfigStep(health, image, false);
  const auto& c = image["config"];
  CHECK(c["ExposedPorts"].contains("80/tcp"));
  CHECK(c["ExposedPorts"].contains("53/udp"));
  CHECK(c["Volumes"].contains("/data"));
  CHECK(c["Labels"]["a"] == "b c");
  CHECK(c["Healthcheck"]["Interval"] == 30000000000LL);
  CHECK(c["Healthcheck"]["Retries"] == 3);
  CHECK_FALSE(c["Healthcheck"].contains("Timeout"));
}

TEST_CASE("RUN argv and created_by follow BuildKit", "[image_config]") {
  nlohmann::json image = EmptyImageConfig();
  Step run;
  run.kind = StepKind::kRun;
  run.instruction = "RUN";
  run.command = {"make -C /src"};
  run.shell_form = true;
  CHECK(RunArgv(run, image) == std::vector<std::string>{"/bin/sh", "-c", "make -C /src"});
  CHECK(HistoryCreatedBy(run, image) == "RUN /bin/sh -c make -C /src # buildkit");
  run.shell_form = false;
  run.command = {"/bin/busybox", "--install"};
  CHECK(RunArgv(run, image) == run.command);
}

TEST_CASE("content keys ignore timestamps only", "[image_config]") {
  nlohmann::json a = EmptyImageConfig();
  a["created"] = Rfc3339(1);
  AddHistory(a, Rfc3339(1), "ENV A=1", true);
  nlohmann::json b = a;
  b["created"] = Rfc3339(2);
  b["history"][0]["created"] = Rfc3339(2);
  CHECK(ContentKey(a) == ContentKey(b));
  b["history"][0]["created_by"] = "ENV A=2";
  CHECK(ContentKey(a) != ContentKey(b));
}

TEST_CASE("RFC 3339 times print as Go does", "[image_config]") {
  CHECK(Rfc3339(0) == "1970-01-01T00:00:00Z");
  CHECK(Rfc3339(1700000000, 120000000) == "2023-11-14T22:13:20.12Z");
  CHECK(CreatedTime(86400) == "1970-01-02T00:00:00Z");
}

}  // namespace
}  // namespace kiln
