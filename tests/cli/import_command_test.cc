#include "cli/import_command.h"

#include <catch2/catch.hpp>

#include "frontend/dockerfile_error.h"

namespace kiln::cli {
namespace {

using nlohmann::json;

TEST_CASE("import changes apply Docker's config instructions to an empty image", "[import]") {
  const json image = ConfigWithChanges(
      {"ENV A=1 B=two", "CMD echo $A", "ENTRYPOINT [\"/e\"]", "EXPOSE 80 53/udp", "LABEL k=v",
       "USER bob:staff", "VOLUME /data", "WORKDIR /srv", "WORKDIR app", "STOPSIGNAL SIGINT",
       "ONBUILD RUN make", "HEALTHCHECK --interval=5s CMD true", "ENV C=${B}x"});
  const json& c = image["config"];
  CHECK(c["Env"] == json::array({"A=1", "B=two", "C=twox"}));
  CHECK(c["Cmd"] == json::array({"/bin/sh", "-c", "echo $A"}));  // set in these changes: kept
  CHECK(c["Entrypoint"] == json::array({"/e"}));
  CHECK(c["ExposedPorts"] == json({{"53/udp", json::object()}, {"80/tcp", json::object()}}));
  CHECK(c["Labels"] == json({{"k", "v"}}));
  CHECK(c["User"] == "bob:staff");
  CHECK(c["Volumes"] == json({{"/data", json::object()}}));
  CHECK(c["WorkingDir"] == "/srv/app");
  CHECK(c["StopSignal"] == "SIGINT");
  CHECK(c["OnBuild"] == json::array({"RUN make"}));
  CHECK(c["Healthcheck"]["Interval"] == 5000000000);
  CHECK(image["rootfs"]["diff_ids"] == json::array());
  CHECK(image["os"] == "linux");

  CHECK(ConfigWithChanges({})["config"] == json::object());
  CHECK_FALSE(ConfigWithChanges({"ENTRYPOINT [\"/e\"]"})["config"].contains("Cmd"));
}

TEST_CASE("import refuses instructions Docker does not allow as changes", "[import]") {
  const std::vector<std::pair<std::string, std::string>> refused = {
      {"RUN make", "run is not a valid change command"},
      {"FROM alpine", "from is not a valid change command"},
      {"COPY a b", "copy is not a valid change command"},
      {"ADD a b", "add is not a valid change command"},
      {"ARG X", "arg is not a valid change command"},
      {"SHELL [\"/bin/bash\"]", "shell is not a valid change command"},
      {"MAINTAINER me", "maintainer is not a valid change command"},
  };
  for (const auto& [change, message] : refused) {
    INFO(change);
    try {
      ConfigWithChanges({"ENV A=1", change});
      FAIL("accepted");
    } catch (const std::invalid_argument& e) {
      CHECK(e.what() == message);
    }
  }
  CHECK_THROWS_AS(ConfigWithChanges({"EXPOSE notaport"}), DockerfileError);
  CHECK_THROWS_AS(ConfigWithChanges({"BOGUS x"}), DockerfileError);
}

}  // namespace
}  // namespace kiln::cli
