#include "engine/store/oci_types.h"

#include <catch2/catch.hpp>

namespace kiln {
namespace {

using nlohmann::json;

const std::string kDigest =
    "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

ImageConfig SampleConfig() {
  ImageConfig c;
  c.created = "2024-01-02T03:04:05Z";
  c.architecture = "amd64";
  c.os = "linux";
  c.config.env = {"PATH=/usr/bin", "A=1"};
  c.config.cmd = {"/bin/sh"};
  c.config.exposed_ports = {"80/tcp", "53/udp"};
  c.config.volumes = {"/data"};
  c.config.labels = {{"b", "2"}, {"a", "1"}};
  c.config.working_dir = "/app";
  c.config.healthcheck = HealthConfig{{"CMD", "true"}, 30'000'000'000, 0, 0, 0, 3};
  c.rootfs.diff_ids = {kDigest};
  c.history = {{"2024-01-02T03:04:05Z", "RUN x", "", "", false},
               {"2024-01-02T03:04:05Z", "ENV A=1", "", "", true}};
  return c;
}

TEST_CASE("image config JSON is Docker's shape with empty fields left out", "[oci]") {
  const json j = SampleConfig();
  CHECK(j.dump() ==
        R"({"architecture":"amd64","config":{"Cmd":["/bin/sh"],"Env":["PATH=/usr/bin","A=1"],)"
        R"("ExposedPorts":{"53/udp":{},"80/tcp":{}},"Healthcheck":{"Interval":30000000000,)"
        R"("Retries":3,"Test":["CMD","true"]},"Labels":{"a":"1","b":"2"},"Volumes":{"/data":{}},)"
        R"("WorkingDir":"/app"},"created":"2024-01-02T03:04:05Z","history":[{"created":)"
        R"("2024-01-02T03:04:05Z","created_by":"RUN x"},{"created":"2024-01-02T03:04:05Z",)"
        R"("created_by":"ENV A=1","empty_layer":true}],"os":"linux","rootfs":{"diff_ids":[")" +
            kDigest + R"("],"type":"layers"}})");
}

TEST_CASE("an empty image config still has config, rootfs and diff_ids", "[oci]") {
  ImageConfig c;
  c.architecture = "arm64";
  c.os = "linux";
  CHECK(
      json(c).dump() ==
      R"({"architecture":"arm64","config":{},"os":"linux","rootfs":{"diff_ids":[],"type":"layers"}})");
}

TEST_CASE("image config serialization is deterministic and round-trips", "[oci]") {
  const ImageConfig a = SampleConfig();
  ImageConfig b = SampleConfig();
  CHECK(CanonicalJson(a) == CanonicalJson(b));
  CHECK(json(a).get<ImageConfig>() == a);
  b.config.env.push_back("B=2");
  CHECK(CanonicalJson(a) != CanonicalJson(b));
}

TEST_CASE("unknown keys survive, nulls read as absent", "[oci]") {
  const json in = json::parse(R"({"architecture":"amd64","os":"linux","docker_version":"24",
    "config":{"Cmd":null,"Entrypoint":null,"Env":["A=1"],"Domainname":"x","ExposedPorts":null},
    "rootfs":{"type":"layers","diff_ids":[]},"history":null})");
  ImageConfig c = in.get<ImageConfig>();
  CHECK(c.config.cmd.empty());
  CHECK(c.config.env == std::vector<std::string>{"A=1"});
  CHECK(c.extra == json{{"docker_version", "24"}});
  const json out = c;
  CHECK(out["docker_version"] == "24");
  CHECK(out["config"]["Domainname"] == "x");
  CHECK_FALSE(out["config"].contains("Cmd"));
  CHECK_FALSE(out.contains("history"));
}

TEST_CASE("descriptors, manifests and indexes have the OCI keys", "[oci]") {
  Descriptor d{std::string(kMediaTypeLayer), Digest::Parse(kDigest), 42, {}, std::nullopt};
  CHECK(json(d).dump() ==
        R"({"digest":")" + kDigest +
            R"(","mediaType":"application/vnd.oci.image.layer.v1.tar","size":42})");
  d.annotations[std::string(kAnnotationRefName)] = "docker.io/library/app:1";
  d.platform = Platform{"amd64", "linux", ""};
  CHECK(json(d).get<Descriptor>() == d);
  CHECK(json(d)["annotations"]["org.opencontainers.image.ref.name"] == "docker.io/library/app:1");

  Manifest m;
  m.config = {std::string(kMediaTypeImageConfig), Digest::Parse(kDigest), 7, {}, std::nullopt};
  const json mj = m;
  CHECK(mj["schemaVersion"] == 2);
  CHECK(mj["mediaType"] == "application/vnd.oci.image.manifest.v1+json");
  CHECK(mj["layers"] == json::array());
  CHECK_FALSE(mj.contains("annotations"));
  CHECK(mj.get<Manifest>() == m);

  const json ij = ImageIndex{};
  CHECK(
      ij.dump() ==
      R"({"manifests":[],"mediaType":"application/vnd.oci.image.index.v1+json","schemaVersion":2})");
}

TEST_CASE("a descriptor's digest is parsed as the document is read", "[oci]") {
  const std::string good = R"({"mediaType":"x","size":1,"digest":")" + kDigest + R"("})";
  CHECK(ParseJsonAs<Descriptor>(good, "descriptor").digest.Hex() == kDigest.substr(7));
  const std::string bad = R"({"mediaType":"x","size":1,"digest":"sha256:../../etc/passwd"})";
  CHECK_THROWS_WITH(ParseJsonAs<Descriptor>(bad, "manifest m"),
                    Catch::StartsWith("manifest m: invalid digest \"sha256:../../etc/passwd\""));
  // An absent digest reads as an empty one (written as "", as an empty string was).
  const Descriptor absent = ParseJsonAs<Descriptor>(R"({"mediaType":"x","size":1})", "d");
  CHECK(absent.digest.empty());
  CHECK(json(absent)["digest"] == "");
}

TEST_CASE("malformed JSON is reported with what was being read", "[oci]") {
  CHECK_THROWS_WITH(ParseJsonAs<Manifest>("{", "manifest x"), Catch::StartsWith("manifest x: "));
  CHECK_THROWS_WITH(ParseJsonAs<Manifest>(R"({"layers":5})", "manifest y"),
                    Catch::StartsWith("manifest y: "));
}

TEST_CASE("a host config names this machine's architecture and linux", "[oci]") {
  ImageConfig c = ImageConfig::ForHost();
  CHECK(c.os == "linux");
  CHECK_FALSE(c.architecture.empty());
  CHECK(c.architecture != "x86_64");
  CHECK(c.architecture != "aarch64");
}

}  // namespace
}  // namespace kiln
