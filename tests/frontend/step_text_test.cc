#include "frontend/step_text.h"

#include <catch2/catch.hpp>

namespace kiln {
namespace {

TEST_CASE("a word is quoted only when it would not read back as one word", "[step_text]") {
  CHECK(ShownWord("/app") == "/app");
  CHECK(ShownWord("a b") == "\"a b\"");
  CHECK(ShownWord("it's") == "\"it's\"");
  CHECK(ShownWord("say \"hi\"") == "\"say \\\"hi\\\"\"");
  CHECK(ShownWord("") == "\"\"");
}

TEST_CASE("commands, pairs and word lists as users read them", "[step_text]") {
  CHECK(ShownCommand({"echo hi && ls"}, true) == "echo hi && ls");
  CHECK(ShownCommand({"echo", "hi"}, false) == "[\"echo\",\"hi\"]");
  CHECK(ShownCommand({}, true).empty());
  CHECK(PairsText({{"A", "1"}, {"B", "x y"}, {"C", ""}}) == " A=1 B=\"x y\" C=\"\"");
  CHECK(WordsText({"80/tcp", "a b"}) == " 80/tcp \"a b\"");
  CHECK(WordsText({}).empty());
}

TEST_CASE("RUN shows its flags as written", "[step_text]") {
  Step run;
  run.command = {"make"};
  run.shell_form = true;
  CHECK(RunText({"--mount=type=cache,target=/c"}, run) == "RUN --mount=type=cache,target=/c make");
  run.command = {"make", "all"};
  run.shell_form = false;
  CHECK(RunText({}, run) == "RUN [\"make\",\"all\"]");
}

TEST_CASE("COPY and ADD show their flags, sources and destination", "[step_text]") {
  Step copy;
  copy.instruction = "COPY";
  copy.sources = {"a", "b c"};
  copy.destination = "/dst";
  copy.chown = "1:1";
  copy.link = true;
  copy.excludes = {"*.o"};
  CHECK(TransferText(copy, "builder") ==
        "COPY --from=builder --chown=1:1 --link --exclude=*.o a \"b c\" /dst");
  Step add;
  add.instruction = "ADD";
  add.sources = {"https://x/y.tgz"};
  add.destination = "/";
  add.checksum = "sha256:00";
  add.keep_git_dir = true;
  CHECK(TransferText(add, "") == "ADD --checksum=sha256:00 --keep-git-dir https://x/y.tgz /");
}

TEST_CASE("HEALTHCHECK shows NONE, a shell command or an exec command", "[step_text]") {
  CHECK(HealthcheckText({}, Healthcheck{{"NONE"}}) == "HEALTHCHECK NONE");
  CHECK(HealthcheckText({"--retries=2"}, Healthcheck{{"CMD-SHELL", "curl -f x"}}) ==
        "HEALTHCHECK --retries=2 CMD curl -f x");
  CHECK(HealthcheckText({}, Healthcheck{{"CMD", "true", "1"}}) ==
        "HEALTHCHECK CMD [\"true\",\"1\"]");
}

}  // namespace
}  // namespace kiln
