#include "driver/secret.h"

#include <stdlib.h>
#include <sys/stat.h>

#include <catch2/catch.hpp>

#include "driver/build_request.h"
#include "engine/base/atomic_file.h"
#include "tests/driver/driver_test_support.h"

namespace kiln::driver {
namespace {

using testing::TempDir;

TEST_CASE("a secret from a file is that file, made absolute", "[secret]") {
  TempDir dir;
  testing::WriteFile(dir.path() / "token", "s3cret");
  const std::string file = (dir.path() / "token").string();
  CHECK(ResolveSecret("id=token,src=" + file, dir.path() / "build") ==
        std::pair<std::string, std::string>{"token", file});
  CHECK(ResolveSecret("type=file,id=t,source=" + file, dir.path() / "build").second == file);
  CHECK_FALSE(std::filesystem::exists(dir.path() / "build"));
}

TEST_CASE("a secret from a variable is a private file of the build directory", "[secret]") {
  TempDir dir;
  REQUIRE(setenv("KILN_TEST_SECRET", "from-env", 1) == 0);
  const auto [id, file] = ResolveSecret("id=env-token,env=KILN_TEST_SECRET", dir.path());
  unsetenv("KILN_TEST_SECRET");
  CHECK(id == "env-token");
  CHECK(file == (dir.path() / "secrets" / "env-token").string());
  CHECK(ReadWholeFile(file) == "from-env");
  struct stat st;
  REQUIRE(stat((dir.path() / "secrets").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0700);
}

TEST_CASE("a malformed secret is the user's mistake", "[secret]") {
  TempDir dir;
  unsetenv("KILN_TEST_UNSET");
  CHECK_THROWS_AS(ResolveSecret("src=/etc/hostname", dir.path()), RequestError);
  CHECK_THROWS_WITH(ResolveSecret("src=/etc/hostname", dir.path()),
                    "invalid secret \"src=/etc/hostname\": id is required");
  CHECK_THROWS_WITH(ResolveSecret("id=a", dir.path()), "invalid secret \"id=a\": src is required");
  CHECK_THROWS_WITH(ResolveSecret("id=a,env=KILN_TEST_UNSET", dir.path()),
                    "invalid secret \"id=a,env=KILN_TEST_UNSET\": variable KILN_TEST_UNSET is "
                    "not set");
  CHECK_THROWS_WITH(ResolveSecret("id=a,src=/nonexistent/x", dir.path()),
                    "secret a: file /nonexistent/x not found");
}

}  // namespace
}  // namespace kiln::driver
