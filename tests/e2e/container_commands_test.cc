// kiln run/ps/stop/rm/logs/container inspect against a real store and runc.
#include <signal.h>

#include <chrono>
#include <regex>
#include <sstream>
#include <thread>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/e2e/e2e_support.h"

namespace kiln::e2e {
namespace {

/// The busybox base plus an account for `bob`, an ENV, a WORKDIR and a CMD.
void BuildAppImage(const Kiln& kiln) {
  BuildBusyboxBase(kiln);
  TempDir context("kiln-app");
  WriteFile(context / "Dockerfile",
            "FROM kiln-busybox\n"
            "RUN mkdir -p /etc /srv && "
            "printf 'root:x:0:0:root:/root:/bin/sh\\nbob:x:1234:1234:bob:/home/bob:/bin/sh\\n' "
            "> /etc/passwd && printf 'root:x:0:\\nbob:x:1234:\\n' > /etc/group\n"
            "ENV GREETING=hello\n"
            "WORKDIR /srv\n"
            "CMD [\"sh\", \"-c\", \"echo $GREETING from $(pwd)\"]\n");
  const CommandResult r = kiln({"build", "-q", "-t", "app:1", context.path().string()});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
}

nlohmann::json Inspect(const Kiln& kiln, const std::string& name, bool size = false) {
  std::vector<std::string> args = {"container", "inspect"};
  if (size) args.push_back("--size");
  args.push_back(name);
  const CommandResult r = kiln(args);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const nlohmann::json all = nlohmann::json::parse(r.out);
  REQUIRE(all.size() == 1);
  return all[0];
}

/// The ps line of the container named `name`, "" when absent.
std::string PsLine(const Kiln& kiln, const std::string& name, bool all) {
  const CommandResult r =
      kiln(all ? std::vector<std::string>{"ps", "-a"} : std::vector<std::string>{"ps"});
  REQUIRE(r.exit_code == 0);
  std::istringstream lines(r.out);
  std::string line;
  std::getline(lines, line);
  CHECK(std::regex_search(line, std::regex("^CONTAINER ID +IMAGE +COMMAND +CREATED +STATUS +PORTS"
                                           " +NAMES$")));
  while (std::getline(lines, line)) {
    if (line.size() >= name.size() &&
        line.compare(line.size() - name.size(), name.size(), name) == 0)
      return line;
  }
  return "";
}

TEST_CASE("kiln run in the foreground streams output and returns the exit code") {
  KILN_REQUIRE_RUNTIME();
  Kiln kiln;
  ContainerCleanup cleanup(kiln);
  BuildAppImage(kiln);

  CommandResult r = kiln({"run", "app:1"});
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK(r.out == "hello from /srv\n");

  r = kiln({"run", "--name", "three", "app:1", "sh", "-c", "echo out; echo err >&2; exit 3"});
  CHECK(r.exit_code == 3);
  CHECK(r.out.find("out\n") != std::string::npos);
  CHECK(r.out.find("err\n") != std::string::npos);
  CHECK(kiln({"logs", "three"}).out == r.out);
  CHECK(std::regex_search(PsLine(kiln, "three", true),
                          std::regex("^[0-9a-f]{12} +app:1 +\"sh -c echo out; ech…\" +.* ago +"
                                     "Exited \\(3\\) .* ago +three$")));
  CHECK(PsLine(kiln, "three", false).empty());

  r = kiln({"run", "--rm", "app:1", "nosuchcommand"});
  CHECK(r.exit_code == 127);
  r = kiln({"run", "nosuchimage"});
  CHECK(r.exit_code == 125);
  CHECK(r.err.find("No such image: nosuchimage") != std::string::npos);
}

TEST_CASE("kiln run applies -e, -w, -u and --entrypoint over the image's config") {
  KILN_REQUIRE_RUNTIME();
  Kiln kiln;
  ContainerCleanup cleanup(kiln);
  BuildAppImage(kiln);
  CommandResult r =
      kiln({"run", "--rm", "-e", "EXTRA=1", "-e", "GREETING=hi", "-w", "/tmp", "-u", "bob", "app:1",
            "sh", "-c", "echo $GREETING $EXTRA $(pwd) $(id -u):$(id -g) $HOME"});
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK(r.out == "hi 1 /tmp 1234:1234 /home/bob\n");
  r = kiln({"run", "--rm", "--entrypoint", "echo", "app:1", "a", "b"});
  CHECK(r.out == "a b\n");
  r = kiln({"run", "--rm", "-u", "nobody", "app:1", "true"});
  CHECK(r.exit_code == 126);
  CHECK(r.err.find("unable to find user nobody") != std::string::npos);
  CHECK(kiln({"ps", "-aq"}).out.empty());  // --rm left nothing
}

TEST_CASE("kiln run -d, ps, stop, logs, rm and name conflicts") {
  KILN_REQUIRE_RUNTIME();
  Kiln kiln;
  ContainerCleanup cleanup(kiln);
  BuildAppImage(kiln);

  CommandResult r =
      kiln({"run", "-d", "--name", "web", "app:1", "sh", "-c", "echo started; sleep 60"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const std::string id = r.out.substr(0, r.out.find('\n'));
  CHECK(std::regex_match(id, std::regex("[0-9a-f]{64}")));
  CHECK(std::regex_search(PsLine(kiln, "web", false),
                          std::regex("^" + id.substr(0, 12) + " +app:1 .* Up ")));

  r = kiln({"run", "-d", "--name", "web", "app:1", "true"});
  CHECK(r.exit_code == 125);
  CHECK(r.err.find("Conflict. The container name \"/web\" is already in use by container \"" + id +
                   "\". You have to remove (or rename) that container to be able to reuse that "
                   "name.") != std::string::npos);

  r = kiln({"rm", "web"});
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("cannot remove container \"/web\": container is running: stop the container "
                   "before removing or force remove") != std::string::npos);

  nlohmann::json running = Inspect(kiln, "web", true);
  CHECK(running["State"]["Status"] == "running");
  CHECK(running["State"]["Running"] == true);
  CHECK(running["State"]["Pid"].get<int>() > 0);
  CHECK(running["Name"] == "/web");
  CHECK(running["Id"] == id);
  CHECK(running["Path"] == "sh");
  CHECK(running["Config"]["Image"] == "app:1");
  CHECK(running["Config"]["WorkingDir"] == "/srv");
  CHECK(running["Image"].get<std::string>().rfind("sha256:", 0) == 0);
  CHECK(running["HostConfig"]["NetworkMode"] == "default");
  CHECK(running.contains("SizeRw"));
  CHECK(running["SizeRootFs"].get<uint64_t>() > 1000000);  // busybox

  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  CHECK(kiln({"logs", "web"}).out == "started\n");

  r = kiln({"stop", "-t", "1", "web"});
  CHECK(r.exit_code == 0);
  CHECK(r.out == "web\n");
  CHECK(PsLine(kiln, "web", false).empty());
  CHECK(std::regex_search(PsLine(kiln, "web", true), std::regex("Exited \\((137|143)\\) ")));
  nlohmann::json exited = Inspect(kiln, id.substr(0, 8));
  CHECK(exited["State"]["Status"] == "exited");
  CHECK(exited["State"]["Running"] == false);
  CHECK(exited["State"]["Pid"] == 0);
  for (const char* key : {"Id", "Created", "Path", "Args", "State", "Image", "Name", "Config",
                          "Mounts", "HostConfig"}) {
    CHECK(exited.contains(key));
  }
  CHECK_FALSE(exited.contains("SizeRw"));

  r = kiln({"rm", "web"});
  CHECK(r.exit_code == 0);
  CHECK(kiln({"ps", "-aq"}).out.empty());
  r = kiln({"logs", "web"});
  CHECK(r.exit_code == 1);
  CHECK(r.err == "Error: No such container: web\n");
}

TEST_CASE("rm -f kills a running container; a container killed outside kiln shows as exited") {
  KILN_REQUIRE_RUNTIME();
  Kiln kiln;
  ContainerCleanup cleanup(kiln);
  BuildAppImage(kiln);

  REQUIRE(kiln({"run", "-d", "--name", "doomed", "app:1", "sleep", "60"}).exit_code == 0);
  CHECK(kiln({"rm", "-f", "doomed"}).exit_code == 0);
  CHECK(kiln({"ps", "-aq"}).out.empty());

  REQUIRE(kiln({"run", "-d", "--name", "victim", "app:1", "sleep", "60"}).exit_code == 0);
  const int pid = Inspect(kiln, "victim")["State"]["Pid"].get<int>();
  REQUIRE(pid > 0);
  REQUIRE(::kill(pid, SIGKILL) == 0);
  const nlohmann::json state = Inspect(kiln, "victim")["State"];
  CHECK(state["Status"] == "exited");
  CHECK(state["ExitCode"] == 137);
  CHECK(std::regex_search(PsLine(kiln, "victim", true), std::regex("Exited \\(137\\) ")));

  REQUIRE(kiln({"run", "-d", "--rm", "--name", "brief", "app:1", "true"}).exit_code == 0);
  for (int i = 0; i < 100 && !kiln({"ps", "-aq"}).out.empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  CHECK(kiln({"ps", "-aq"}).out.find('\n') == kiln({"ps", "-aq"}).out.rfind('\n'));  // victim only
}

}  // namespace
}  // namespace kiln::e2e
