#include "frontend/instruction_flags.h"

#include <catch2/catch.hpp>
#include <string>

#include "frontend/dockerfile_error.h"
#include "frontend/parser.h"

namespace kiln {
namespace {

Flags FlagsOf(const std::string& line) {
  const SyntaxTree tree = ParseDockerfile(line + "\n");
  return ParseFlags(tree.instructions.at(0), tree);
}

std::string ErrorOf(const std::string& line) {
  try {
    FlagsOf(line);
  } catch (const DockerfileError& e) {
    return e.message();
  }
  return "no error";
}

TEST_CASE("flags are read with their values as written", "[instruction_flags]") {
  const Flags flags = FlagsOf("COPY --from=$STAGE --link --exclude=a --exclude=b x /y");
  CHECK(flags.Has("from"));
  CHECK(flags.Value("from") == "$STAGE");
  CHECK(flags.Word("from") == "--from=$STAGE");
  CHECK(flags.Bool("link"));
  CHECK(flags.Values("exclude") == std::vector<std::string>{"a", "b"});
  CHECK_FALSE(flags.Has("chown"));
  CHECK(flags.Value("chown").empty());
  CHECK(flags.Values("chown").empty());
  CHECK_FALSE(flags.Empty());
  CHECK(FlagsOf("COPY a /b").Empty());
}

TEST_CASE("boolean flags take true or false in any case", "[instruction_flags]") {
  CHECK_FALSE(FlagsOf("COPY --link=false a /b").Bool("link"));
  CHECK(FlagsOf("COPY --link=TRUE a /b").Bool("link"));
  CHECK(ErrorOf("COPY --link=maybe a /b") == "expecting boolean value for flag --link, not: maybe");
  CHECK(ErrorOf("COPY --link= a /b") == "flag --link expects a value");
}

TEST_CASE("flags are checked against their instruction's", "[instruction_flags]") {
  CHECK(ErrorOf("COPY --chmode=644 a /b") == "unknown flag: --chmode (did you mean --chmod?)");
  CHECK(ErrorOf("COPY --bogus a /b") == "unknown flag: --bogus");
  CHECK(ErrorOf("RUN --from=x true") == "flag --from is not valid for RUN");
  CHECK(ErrorOf("COPY --from=a --from=b x /y") == "duplicate flag specified: --from");
  CHECK(ErrorOf("COPY --from a /b") == "flag --from expects a value");
  CHECK(FlagsOf("RUN --mount=type=tmpfs,target=/a --mount=type=tmpfs,target=/b true")
            .Values("mount")
            .size() == 2);
}

}  // namespace
}  // namespace kiln
