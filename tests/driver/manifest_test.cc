#include "driver/manifest.h"

#include <catch2/catch.hpp>

#include "tests/driver/driver_test_support.h"

namespace kiln::driver {
namespace {

using testing::TempDir;
using testing::WriteFile;

TEST_CASE("a manifest lists images with paths relative to itself", "[manifest]") {
  TempDir dir;
  WriteFile(dir.path() / "services/api/Dockerfile", "FROM scratch\n");
  WriteFile(dir.path() / "web.Dockerfile", "FROM scratch\n");
  WriteFile(dir.path() / "kiln.json", R"({"images": [
      {"name": "api", "context": "services/api", "tags": ["api:dev"],
       "build_args": {"V": "1"}, "labels": {"team": "core"}, "target": "run"},
      {"name": "web", "dockerfile": "web.Dockerfile"}]})");
  const std::string manifest = (dir.path() / "kiln.json").string();
  const std::vector<ImageRequest> images = ReadManifest(manifest);
  REQUIRE(images.size() == 2);
  CHECK(images[0].name == "api");
  CHECK(images[0].context == (dir.path() / "services/api").string());
  CHECK(images[0].dockerfile == (dir.path() / "services/api/Dockerfile").string());
  CHECK(images[0].tags == std::vector<std::string>{"docker.io/library/api:dev"});
  CHECK(images[0].build_args == std::map<std::string, std::string>{{"V", "1"}});
  CHECK(images[0].labels == std::map<std::string, std::string>{{"team", "core"}});
  CHECK(images[0].target == "run");
  CHECK(std::filesystem::equivalent(images[1].context, dir.path()));
  CHECK(images[1].dockerfile == (dir.path() / "web.Dockerfile").string());

  CHECK_NOTHROW(RequireManifestImages(manifest, images, {"web", "api"}));
  CHECK_THROWS_WITH(RequireManifestImages(manifest, images, {"api", "db"}),
                    "manifest " + manifest + " has no image db");
  CHECK(ManifestBuildDirectory("/store", manifest) ==
        BuildDirectoryFor("/store", manifest, "manifest"));
}

TEST_CASE("a manifest's mistakes name the manifest", "[manifest]") {
  TempDir dir;
  WriteFile(dir.path() / "Dockerfile", "FROM scratch\n");
  const std::string manifest = (dir.path() / "kiln.json").string();
  auto with = [&](const std::string& text) {
    WriteFile(manifest, text);
    return [&] { ReadManifest(manifest); };
  };
  CHECK_THROWS_WITH(with("{")(), Catch::StartsWith("manifest " + manifest + ": "));
  CHECK_THROWS_WITH(with(R"({"images": []})")(), "manifest " + manifest + " lists no images");
  CHECK_THROWS_WITH(with(R"({"images": [{"name": "a"}, {"name": "a"}]})")(),
                    "manifest " + manifest + ": every image needs a unique name");
  CHECK_THROWS_WITH(with(R"({"images": [{"name": "a", "context": "nowhere"}]})")(),
                    Catch::Contains(": image a: no Dockerfile at "));
  CHECK_THROWS_AS(with(R"({"images": [{"name": "a", "tags": ["Bad Tag"]}]})")(), RequestError);
}

}  // namespace
}  // namespace kiln::driver
