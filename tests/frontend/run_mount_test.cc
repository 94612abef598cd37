#include "frontend/run_mount.h"

#include <catch2/catch.hpp>
#include <string>

namespace kiln {
namespace {

/// Expands "$T" to "/t", leaves everything else as written.
class TestWords : public WordExpander {
 public:
  std::string Word(std::string_view raw) const override {
    return raw == "$T" ? std::string("/t") : std::string(raw);
  }
  std::vector<std::string> Words(std::string_view raw) const override { return {Word(raw)}; }
};

RunMount Parse(std::string_view spec, bool literal = false, int ssh_index = 0) {
  return ParseRunMount(spec, TestWords(), literal, ssh_index);
}

std::string ErrorOf(std::string_view spec, bool literal = false) {
  try {
    Parse(spec, literal);
  } catch (const MountError& e) {
    return e.what();
  }
  return "no error";
}

TEST_CASE("a mount without a type binds read-only", "[run_mount]") {
  const RunMount m = Parse("target=/src,source=/out");
  CHECK(m.type == "bind");
  CHECK(m.target == "/src");
  CHECK(m.options == std::map<std::string, std::string>{{"readonly", "true"}, {"source", "/out"}});
  CHECK(Parse("target=/src,rw").options.at("readonly") == "false");
}

TEST_CASE("cache mounts get an id and sharing, and are writable", "[run_mount]") {
  const RunMount m = Parse("type=cache,dst=/root/.cache,mode=0700,uid=1000");
  CHECK(m.target == "/root/.cache");
  CHECK(m.options == std::map<std::string, std::string>{{"id", "/root/.cache"},
                                                        {"mode", "0700"},
                                                        {"readonly", "false"},
                                                        {"sharing", "shared"},
                                                        {"uid", "1000"}});
  CHECK(
      Parse("type=cache,target=/c,ro,id=x,sharing=locked").options ==
      std::map<std::string, std::string>{{"id", "x"}, {"readonly", "true"}, {"sharing", "locked"}});
}

TEST_CASE("secret and ssh mounts fill in id and target", "[run_mount]") {
  const RunMount by_id = Parse("type=secret,id=npmrc");
  CHECK(by_id.target == "/run/secrets/npmrc");
  CHECK(by_id.options.at("readonly") == "true");
  CHECK(Parse("type=secret,target=/run/token").options.at("id") == "token");
  const RunMount env_only = Parse("type=secret,id=tok,env=TOKEN");
  CHECK(env_only.target.empty());
  CHECK(env_only.options.at("env") == "TOKEN");
  const RunMount ssh = Parse("type=ssh", false, 2);
  CHECK(ssh.target == "/run/buildkit/ssh_agent.2");
  CHECK(ssh.options.at("id") == "default");
}

TEST_CASE("mount values are expanded; from= is kept raw for lowering", "[run_mount]") {
  const RunMount m = Parse("type=bind,from=builder,target=$T");
  CHECK(m.target == "/t");
  CHECK(m.from_image == "builder");
  CHECK(m.from_stage == -1);
}

TEST_CASE("mount fields may be quoted as in CSV", "[run_mount]") {
  CHECK(Parse("type=bind,\"source=a,b\",target=/t").options.at("source") == "a,b");
}

TEST_CASE("invalid mounts are refused in BuildKit's words", "[run_mount]") {
  CHECK(ErrorOf("type=nfs,target=/t") == "unsupported mount type \"nfs\"");
  CHECK(ErrorOf("type=tmpfs,target=/t,source=x") ==
        "unexpected key 'source' for mount type 'tmpfs'");
  CHECK(ErrorOf("type=cache") == "mount type=cache requires a target");
  CHECK(ErrorOf("type=cache,target=/c,sharing=maybe") == "unsupported sharing value \"maybe\"");
  CHECK(ErrorOf("type=cache,target=/c,mode=999") == "invalid value 999 for mode");
  CHECK(ErrorOf("type=tmpfs,target=/t,size=lots") == "invalid value lots for size");
  CHECK(ErrorOf("type=secret") == "secret mount requires an id or a target");
  CHECK(ErrorOf("target=/t,colour=red") == "unexpected key 'colour' in 'target=/t,colour=red'");
  CHECK(ErrorOf("target") == "invalid field 'target' must be a key=value pair");
}

TEST_CASE("values still holding variables are checked only once expanded", "[run_mount]") {
  CHECK(ErrorOf("type=cache,target=/c,uid=$UID") == "invalid value $UID for uid");
  CHECK(Parse("type=cache,target=/c,uid=$UID", true).options.at("uid") == "$UID");
}

}  // namespace
}  // namespace kiln
