#include "engine/run/user_db.h"

#include <catch2/catch.hpp>

#include "tests/engine/run/runtime_test_support.h"

namespace kiln {
namespace {

const AccountFiles kFiles{
    "root:x:0:0:root:/root:/bin/sh\n"
    "# a comment\n"
    "daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"
    "broken line\n"
    "alice:x:1000:1000:Alice:/home/alice:/bin/sh\n"
    "nohome:x:1001:1001:::/bin/sh\n"
    "42:x:4242:4242::/home/fortytwo:/bin/sh\n",
    "root:x:0:\n"
    "daemon:x:1:\n"
    "staff:x:50:alice,bob\n"
    "alice:x:1000:\n"
    "docker:x:999:alice\n"};

struct UserCase {
  std::string spec;
  uint32_t uid, gid;
  std::vector<uint32_t> additional;
  std::string home;
};

TEST_CASE("USER specs resolve like Docker's", "[user_db]") {
  const std::vector<UserCase> cases = {
      {"", 0, 0, {}, "/root"},
      {"root", 0, 0, {}, "/root"},
      {"alice", 1000, 1000, {50, 999}, "/home/alice"},
      {"1000", 1000, 1000, {50, 999}, "/home/alice"},
      {"alice:staff", 1000, 50, {}, "/home/alice"},
      {"alice:7", 1000, 7, {}, "/home/alice"},
      {"1000:999", 1000, 999, {}, "/home/alice"},
      {"daemon", 1, 1, {}, "/usr/sbin"},
      {"nohome", 1001, 1001, {}, "/"},
      // Numeric users need no entry: gid 0, home "/".
      {"5000", 5000, 0, {}, "/"},
      {"5000:5000", 5000, 5000, {}, "/"},
      {"5000:staff", 5000, 50, {}, "/"},
      // A numeric spec is a uid even when a user is named like it.
      {"42", 42, 0, {}, "/"},
  };
  for (const auto& c : cases) {
    INFO("spec \"" << c.spec << "\"");
    ResolvedUser user = ResolveUser(kFiles, c.spec);
    CHECK(user.uid == c.uid);
    CHECK(user.gid == c.gid);
    CHECK(user.additional_gids == c.additional);
    CHECK(user.home == c.home);
  }
}

TEST_CASE("missing users and groups give Docker's errors", "[user_db]") {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"foo", "unable to find user foo: no matching entries in passwd file"},
      {"foo:staff", "unable to find user foo: no matching entries in passwd file"},
      {"alice:nogroup", "unable to find group nogroup: no matching entries in group file"},
      {"1000:nogroup", "unable to find group nogroup: no matching entries in group file"},
  };
  for (const auto& [spec, message] : cases) {
    INFO("spec \"" << spec << "\"");
    CHECK_THROWS_MATCHES(ResolveUser(kFiles, spec), UserLookupError, Catch::Message(message));
  }
  CHECK_THROWS_AS(ResolveUser(kFiles, "99999999999"), std::invalid_argument);
  // Without account files only numbers work.
  CHECK(ResolveUser(AccountFiles{}, "12:34").gid == 34);
  CHECK_THROWS_AS(ResolveUser(AccountFiles{}, "alice"), UserLookupError);
}

TEST_CASE("COPY --chown without a group uses the uid as the gid", "[user_db]") {
  const std::vector<std::tuple<std::string, uint32_t, uint32_t>> cases = {
      {"10", 10, 10},    {"alice", 1000, 1000}, {"daemon", 1, 1}, {"alice:staff", 1000, 50},
      {"10:20", 10, 20}, {"5000", 5000, 5000},
  };
  for (const auto& [spec, uid, gid] : cases) {
    INFO("spec \"" << spec << "\"");
    ResolvedUser user = ResolveChown(kFiles, spec);
    CHECK(user.uid == uid);
    CHECK(user.gid == gid);
    CHECK(user.additional_gids.empty());
  }
  CHECK_THROWS_AS(ResolveChown(kFiles, "nobody"), UserLookupError);
}

TEST_CASE("account files are read through layer stacks", "[user_db]") {
  testing::TempDir scratch;
  auto lower = scratch.path() / "lower";
  auto upper = scratch.path() / "upper";
  test::WriteTextFile(lower / "etc/passwd", "old:x:1:1::/:/bin/sh\n");
  test::WriteTextFile(lower / "etc/group", "old:x:1:\n");
  test::WriteTextFile(upper / "etc/passwd", "new:x:2:2::/home/new:/bin/sh\n");
  auto files = ReadAccountFiles(std::vector<std::filesystem::path>{upper, lower});
  CHECK(files.passwd == "new:x:2:2::/home/new:/bin/sh\n");
  CHECK(files.group == "old:x:1:\n");
  CHECK(ResolveUser(files, "new").home == "/home/new");
  CHECK(ReadAccountFiles(lower).passwd == "old:x:1:1::/:/bin/sh\n");
  CHECK_FALSE(ReadAccountFiles(scratch.path() / "missing").passwd.has_value());
}

}  // namespace
}  // namespace kiln
