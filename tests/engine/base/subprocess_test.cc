#include "engine/base/subprocess.h"

#include <fcntl.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <stdexcept>
#include <string>

namespace kiln {
namespace {

/// Runs `script` with /bin/sh; its stdout and stderr are kept apart.
struct Shell {
  std::string out, err;
  int exit_code = -1;

  explicit Shell(const std::string& script, std::string stdin_data = "",
                 std::vector<std::string> env = {}) {
    ProcessSpec spec;
    spec.argv = {"/bin/sh", "-c", script};
    spec.stdin_data = std::move(stdin_data);
    spec.env = std::move(env);
    spec.on_stdout = [this](std::string_view chunk) { out += chunk; };
    spec.on_stderr = [this](std::string_view chunk) { err += chunk; };
    exit_code = ExitCode(RunProcess(std::move(spec)));
  }
};

TEST_CASE("RunProcess reports exit codes, and 128+N for a signal", "[subprocess]") {
  CHECK(Shell("exit 0").exit_code == 0);
  CHECK(Shell("exit 3").exit_code == 3);
  CHECK(Shell("kill -9 $$").exit_code == 128 + 9);
}

TEST_CASE("RunProcess captures stdout and stderr apart, or as one stream", "[subprocess]") {
  const Shell apart("echo out; echo err >&2; echo more");
  CHECK(apart.out == "out\nmore\n");
  CHECK(apart.err == "err\n");

  std::string merged;
  ProcessSpec spec;
  spec.argv = {"/bin/sh", "-c", "echo one; echo two >&2; echo three"};
  spec.on_stdout = [&](std::string_view chunk) { merged += chunk; };
  CHECK(RunProcess(std::move(spec)) == 0);
  CHECK(merged == "one\ntwo\nthree\n");
}

TEST_CASE("RunProcess feeds stdin data, or /dev/null", "[subprocess]") {
  CHECK(Shell("cat", "hello\n").out == "hello\n");
  // More than any pipe or socket buffer, both ways at once: no deadlock.
  const std::string big(4 << 20, 'x');
  CHECK(Shell("cat", big).out == big);
  CHECK(Shell("cat").out.empty());
  CHECK(Shell("test -c /dev/stdin && echo null").out == "null\n");
  // A child that reads nothing does not take this process down with SIGPIPE.
  CHECK(Shell("exit 0", big).exit_code == 0);
}

TEST_CASE("RunProcess adds and overrides environment variables", "[subprocess]") {
  ::setenv("KILN_SUBPROCESS_TEST_KEPT", "kept", 1);
  ::setenv("KILN_SUBPROCESS_TEST_SET", "old", 1);
  const Shell shell(
      "echo \"$KILN_SUBPROCESS_TEST_KEPT $KILN_SUBPROCESS_TEST_SET $KILN_SUBPROCESS_TEST_NEW\"", "",
      {"KILN_SUBPROCESS_TEST_SET=new", "KILN_SUBPROCESS_TEST_NEW=added"});
  CHECK(shell.out == "kept new added\n");
  CHECK(Shell("env | grep -c '^KILN_SUBPROCESS_TEST_SET='").out == "1\n");
  ::unsetenv("KILN_SUBPROCESS_TEST_KEPT");
  ::unsetenv("KILN_SUBPROCESS_TEST_SET");
}

TEST_CASE("RunProcess hands descriptors down and reads others alongside", "[subprocess]") {
  int events[2];
  REQUIRE(::pipe2(events, O_CLOEXEC) == 0);
  UniqueFd events_read(events[0]);
  std::string output, received;
  ProcessSpec spec;
  spec.argv = {"/bin/sh", "-c",
               "echo first >&" + std::to_string(events[1]) + "; echo printed; echo second >&" +
                   std::to_string(events[1])};
  spec.handed_fds.emplace_back(events[1]);
  spec.on_stdout = [&](std::string_view chunk) { output += chunk; };
  spec.also_read.emplace_back(events_read.get(),
                              [&](std::string_view chunk) { received += chunk; });
  // Returns only when the events pipe ended: this process's write end was closed.
  CHECK(RunProcess(std::move(spec)) == 0);
  CHECK(output == "printed\n");
  CHECK(received == "first\nsecond\n");
}

TEST_CASE("RunProcess: a missing program is an error naming it", "[subprocess]") {
  CHECK_THROWS_AS(RunProcess({.argv = {"kiln-no-such-program"}}), ProcessError);
  CHECK_THROWS_WITH(RunProcess({.argv = {"kiln-no-such-program"}}),
                    "cannot start kiln-no-such-program: No such file or directory");
  CHECK_THROWS_WITH(RunProcess({.argv = {"/nonexistent/program"}}),
                    Catch::Contains("cannot start /nonexistent/program"));
}

TEST_CASE("RunProcess kills the child when a handler throws", "[subprocess]") {
  const auto start = std::chrono::steady_clock::now();
  ProcessSpec spec;
  spec.argv = {"/bin/sh", "-c", "echo started; exec sleep 60"};
  spec.on_stdout = [](std::string_view) { throw std::runtime_error("handler failed"); };
  CHECK_THROWS_WITH(RunProcess(std::move(spec)), "handler failed");
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(30));
}

}  // namespace
}  // namespace kiln
