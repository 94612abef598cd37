#include "frontend/build_args.h"

#include <catch2/catch.hpp>

namespace kiln {
namespace {

TEST_CASE("PlatformArgs splits os/arch/variant for build and target", "[build_args]") {
  const Variables args = PlatformArgs("linux/arm/v7");
  CHECK(args.at("TARGETPLATFORM") == "linux/arm/v7");
  CHECK(args.at("TARGETOS") == "linux");
  CHECK(args.at("TARGETARCH") == "arm");
  CHECK(args.at("TARGETVARIANT") == "v7");
  CHECK(args.at("BUILDPLATFORM") == "linux/arm/v7");
  CHECK(args.at("BUILDARCH") == "arm");
  CHECK(args.size() == 8);
  CHECK(PlatformArgs("linux/amd64").at("TARGETVARIANT").empty());
}

TEST_CASE("IsProxyArg knows Docker's predefined args in both cases", "[build_args]") {
  for (const char* name : {"HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "FTP_PROXY",
                           "ftp_proxy", "NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy"})
    CHECK(IsProxyArg(name));
  CHECK_FALSE(IsProxyArg("Http_Proxy"));
  CHECK_FALSE(IsProxyArg("PROXY"));
}

TEST_CASE("Meta args: --build-arg over default, platform args built in", "[build_args]") {
  BuildArgs args({{"A", "given"}, {"TARGETARCH", "riscv64"}}, "linux/amd64");
  args.DeclareMeta("A", "default");
  args.DeclareMeta("B", "default");
  args.DeclareMeta("C", std::nullopt);
  args.DeclareMeta("TARGETOS", std::nullopt);
  const Variables& meta = args.MetaVariables();
  CHECK(meta.at("A") == "given");
  CHECK(meta.at("B") == "default");
  CHECK(meta.count("C") == 0);
  CHECK(meta.at("TARGETOS") == "linux");
  CHECK(meta.at("TARGETARCH") == "riscv64");  // a --build-arg may pin a platform arg
  CHECK(args.meta_names() == std::set<std::string>{"A", "B", "C", "TARGETOS"});
}

TEST_CASE("Stage values: --build-arg, then own default, then meta value", "[build_args]") {
  BuildArgs args({{"GIVEN", "g"}}, "linux/amd64");
  args.DeclareMeta("META", "m");
  args.DeclareMeta("GIVEN", "m");
  CHECK(args.StageValue("GIVEN", "own") == "g");
  CHECK(args.StageValue("META", "own") == "own");
  CHECK(args.StageValue("META", std::nullopt) == "m");
  CHECK(args.StageValue("TARGETARCH", std::nullopt) == "amd64");
  CHECK(args.StageValue("OTHER", std::nullopt) == std::nullopt);
}

TEST_CASE("Unconsumed lists undeclared non-proxy build args, sorted", "[build_args]") {
  const BuildArgs args({{"Z", "1"}, {"A", "1"}, {"USED", "1"}, {"no_proxy", "x"}}, "linux/amd64");
  CHECK(args.Unconsumed({"USED"}) == std::vector<std::string>{"A", "Z"});
  CHECK(args.GivenProxyArgs() == Variables{{"no_proxy", "x"}});
}

TEST_CASE("StageArgs: values only for args that have one", "[build_args]") {
  StageArgs stage;
  stage.Declare("A", "1");
  stage.Declare("B", std::nullopt);
  CHECK(stage.IsDeclared("B"));
  CHECK_FALSE(stage.IsDeclared("C"));
  CHECK(stage.Values() == Variables{{"A", "1"}});
  CHECK(stage.Names() == std::set<std::string>{"A", "B"});
  stage.Declare("B", "2");  // re-declaring updates the value
  CHECK(stage.Values() == Variables{{"A", "1"}, {"B", "2"}});
}

}  // namespace
}  // namespace kiln
