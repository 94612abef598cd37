// End-to-end: Docker's image commands (images, inspect, rmi, tag, history) on a temporary store.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/e2e/e2e_support.h"

namespace kiln::e2e {
namespace {
namespace fs = std::filesystem;
using nlohmann::json;

size_t BlobCount(const Kiln& kiln) {
  size_t n = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(kiln.root() / "oci/blobs/sha256"))
    ++n;
  return n;
}

TEST_CASE("images lists tags newest first with Docker's columns, -a shows intermediates",
          "[e2e][images]") {
  KILN_REQUIRE_RUNTIME();
  Kiln kiln;
  BuildBusyboxBase(kiln);
  BuildImage(kiln, "app:1", "FROM kiln-busybox\nLABEL team=core\nRUN echo hi > /x\n");
  REQUIRE(kiln({"tag", "app:1", "app:2"}).exit_code == 0);

  CommandResult r = kiln({"images"});
  REQUIRE(r.exit_code == 0);
  std::vector<std::string> lines = Lines(r.out);
  REQUIRE(lines.size() == 4);
  CHECK(lines[0].rfind("REPOSITORY     TAG       IMAGE ID       CREATED", 0) == 0);
  CHECK(lines[1].rfind("app            1         ", 0) == 0);
  CHECK(lines[2].rfind("app            2         ", 0) == 0);
  CHECK(lines[3].rfind("kiln-busybox   latest", 0) == 0);
  CHECK(lines[1].find(" ago ") != std::string::npos);
  CHECK(lines[1].find("MB") != std::string::npos);

  CHECK(Lines(kiln({"images", "-q"}).out).size() == 2);
  const std::vector<std::string> all = Lines(kiln({"images", "-a", "-q"}).out);
  CHECK(all.size() > 2);
  CHECK(Lines(kiln({"images", "-a", "-f", "dangling=true", "-q"}).out).size() == all.size() - 2);
  CHECK(Lines(kiln({"images", "-q", "-f", "dangling=true"}).out).empty());
  CHECK(kiln({"images", "--format", "{{.Repository}}:{{.Tag}}", "-f", "reference=app"}).out ==
        "app:1\napp:2\n");
  CHECK(kiln({"images", "--format", "{{.Tag}}", "-f", "reference=app:2"}).out == "2\n");
  CHECK(kiln({"images", "--format", "{{.Tag}}", "app:1"}).out == "1\n");
  CHECK(kiln({"images", "--format", "{{.Repository}}", "-f", "label=team=core"}).out ==
        "app\napp\n");
  CHECK(kiln({"images", "--format", "{{.Repository}}", "-f", "label=team=other"}).out.empty());
  CHECK(kiln({"images", "--format", "{{.Repository}}", "-f", "before=app:1"}).out ==
        "kiln-busybox\n");
  CHECK(kiln({"images", "--format", "{{.Tag}}", "-f", "since=kiln-busybox"}).out == "1\n2\n");
  CHECK(kiln({"images", "-q", "--no-trunc", "app"}).out.rfind("sha256:", 0) == 0);

  const json row = json::parse(Lines(kiln({"images", "--format", "json", "app:1"}).out).at(0));
  for (const char* key : {"Containers", "CreatedAt", "CreatedSince", "Digest", "ID", "Repository",
                          "SharedSize", "Size", "Tag", "UniqueSize", "VirtualSize"})
    CHECK(row.contains(key));
  CHECK(row["Digest"].get<std::string>().rfind("sha256:", 0) == 0);
  CHECK(Lines(kiln({"images", "--digests"}).out).at(0).find("DIGEST") != std::string::npos);
  CHECK(kiln({"images", "-f", "bogus=1"}).exit_code == 1);
  CHECK(kiln({"images", "--bogus"}).exit_code == 2);
  CHECK(kiln({"image", "ls", "-q"}).out == kiln({"images", "-q"}).out);
}

TEST_CASE("inspect prints Docker's image JSON and reports missing names", "[e2e][inspect]") {
  KILN_REQUIRE_RUNTIME();
  Kiln kiln;
  BuildBusyboxBase(kiln);
  BuildImage(kiln, "app:1", "FROM kiln-busybox\nENV A=1\nCMD [\"sh\"]\n");
  CommandResult r = kiln({"inspect", "app:1"});
  REQUIRE(r.exit_code == 0);
  const json images = json::parse(r.out);
  REQUIRE(images.size() == 1);
  const json& image = images[0];
  for (const char* key :
       {"Id", "RepoTags", "RepoDigests", "Parent", "Comment", "Created", "DockerVersion", "Author",
        "Config", "Architecture", "Os", "Size", "GraphDriver", "RootFS", "Metadata"})
    CHECK(image.contains(key));
  CHECK(image["RepoTags"] == json::array({"app:1"}));
  CHECK(image["Config"]["Cmd"] == json::array({"sh"}));
  CHECK(image["Config"]["Entrypoint"].is_null());
  CHECK(image["Config"]["Hostname"] == "");
  CHECK(image["GraphDriver"]["Name"] == "overlay");
  CHECK(image["RootFS"]["Type"] == "layers");
  CHECK(image["Size"].get<int64_t>() > 0);

  const std::string id = image["Id"];
  CHECK(ImageId(kiln, id) == id);
  CHECK(ImageId(kiln, id.substr(7)) == id);
  CHECK(ImageId(kiln, id.substr(7, 8)) == id);
  CHECK(kiln({"inspect", "-f", "{{json .Config.Env}}", "app:1"}).out.find("A=1") !=
        std::string::npos);
  CHECK(kiln({"inspect", "-f", "{{index .RepoTags 0}}", "app:1"}).out == "app:1\n");

  r = kiln({"inspect", "app:1", "nosuch"});
  CHECK(r.exit_code == 1);
  CHECK(json::parse(r.out).size() == 1);
  CHECK(r.err == "Error: No such object: nosuch\n");
  r = kiln({"inspect", "--type", "image", "nosuch"});
  CHECK(r.exit_code == 1);
  CHECK(r.err == "Error: No such image: nosuch\n");
  r = kiln({"inspect", "--type", "container", "app:1"});
  CHECK(r.exit_code == 1);
  CHECK(r.err == "Error: No such container: app:1\n");
  CHECK(kiln({"inspect"}).exit_code == 2);

  // Every id starts with one of 16 hex digits: with 3+ images some 1-char prefix is shared.
  const std::vector<std::string> ids = Lines(kiln({"images", "-a", "-q", "--no-trunc"}).out);
  std::map<char, int> first;
  for (const std::string& i : ids) ++first[i[7]];
  for (const auto& [c, n] : first) {
    if (n < 2) continue;
    r = kiln({"inspect", std::string(1, c)});
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("multiple IDs found") != std::string::npos);
  }
}

TEST_CASE("rmi untags, deletes, prunes parents and follows Docker's conflict rules", "[e2e][rmi]") {
  KILN_REQUIRE_RUNTIME();
  Kiln kiln;
  BuildBusyboxBase(kiln);
  BuildImage(kiln, "app:1", "FROM kiln-busybox\nRUN echo one > /one\n");
  BuildImage(kiln, "app2:1", "FROM kiln-busybox\nRUN echo two > /two\nRUN echo three > /three\n");
  const std::string app = ImageId(kiln, "app:1");
  const std::string base = ImageId(kiln, "kiln-busybox");
  REQUIRE(kiln({"tag", "app:1", "app:2"}).exit_code == 0);

  // By tag while another tag remains: untag only.
  CommandResult r = kiln({"rmi", "app:2"});
  CHECK(r.exit_code == 0);
  CHECK(r.out == "Untagged: app:2\n");

  // A base with dependent children cannot be deleted by id, even forced.
  r = kiln({"rmi", "-f", base.substr(7, 12)});
  CHECK(r.exit_code == 1);
  CHECK(r.err == "Error: conflict: unable to delete " + base.substr(7, 12) +
                     " (cannot be forced) - image has dependent child images\n");

  // By id with tags in several repositories: must be forced.
  REQUIRE(kiln({"tag", "app:1", "other:1"}).exit_code == 0);
  r = kiln({"rmi", app.substr(7, 12)});
  CHECK(r.exit_code == 1);
  CHECK(r.err == "Error: conflict: unable to delete " + app.substr(7, 12) +
                     " (must be forced) - image is referenced in multiple repositories\n");
  r = kiln({"rmi", "other:1"});
  CHECK(r.out == "Untagged: other:1\n");

  // The last tag with --no-prune deletes the image but keeps its untagged parents.
  const size_t all_before = Lines(kiln({"images", "-a", "-q"}).out).size();
  r = kiln({"rmi", "--no-prune", "app:1"});
  CHECK(r.exit_code == 0);
  CHECK(r.out == "Untagged: app:1\nDeleted: " + app + "\n");
  CHECK(Lines(kiln({"images", "-a", "-q"}).out).size() == all_before - 1);

  // The last tag without --no-prune deletes the untagged intermediate parents up to the base.
  const std::string app2 = ImageId(kiln, "app2:1");
  r = kiln({"rmi", "app2:1"});
  CHECK(r.exit_code == 0);
  std::vector<std::string> lines = Lines(r.out);
  REQUIRE(lines.size() >= 3);
  CHECK(lines[0] == "Untagged: app2:1");
  CHECK(lines[1] == "Deleted: " + app2);
  for (size_t i = 1; i < lines.size(); ++i) CHECK(lines[i] != "Deleted: " + base);
  CHECK(kiln({"inspect", "kiln-busybox"}).exit_code == 0);

  // The shared base layers survive; blobs of deleted images are gone from disk.
  const std::string base_layer =
      Lines(kiln({"inspect", "-f", "{{index .RootFS.Layers 0}}", "kiln-busybox"}).out).at(0);
  CHECK(fs::exists(kiln.root() / "oci/blobs/sha256" / base_layer.substr(7)));
  CHECK_FALSE(fs::exists(kiln.root() / "oci/blobs/sha256" / app2.substr(7)));
  const size_t blobs = BlobCount(kiln);

  r = kiln({"rmi", "nosuch:1"});
  CHECK(r.exit_code == 1);
  CHECK(r.err == "Error: No such image: nosuch:1\n");
  CHECK(kiln({"rmi"}).exit_code == 2);

  // Deleting everything that is left removes every blob of the store.
  r = kiln({"rmi", "kiln-busybox"});
  CHECK(r.exit_code == 0);
  CHECK(BlobCount(kiln) < blobs);
  const CommandResult check = kiln({"system", "check"});
  INFO(check.out << check.err);
  CHECK(check.exit_code == 0);
}

TEST_CASE("tag validates the target and history lists steps newest first", "[e2e][history]") {
  KILN_REQUIRE_RUNTIME();
  Kiln kiln;
  BuildBusyboxBase(kiln);
  BuildImage(
      kiln, "app:1",
      "FROM kiln-busybox\nLABEL a=b\nRUN echo 0123456789012345678901234567890123456789 > /x\n");
  CommandResult r = kiln({"tag", "app:1", "App:1"});
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("must be lowercase") != std::string::npos);
  CHECK(kiln({"tag", "nosuch", "x:1"}).err == "Error: No such image: nosuch\n");
  CHECK(kiln({"tag", "app:1"}).exit_code == 2);

  r = kiln({"history", "app:1"});
  REQUIRE(r.exit_code == 0);
  const std::vector<std::string> lines = Lines(r.out);
  REQUIRE(lines.size() == 5);  // busybox base: COPY, RUN
  CHECK(lines[0].rfind("IMAGE          CREATED", 0) == 0);
  CHECK(lines[0].find("CREATED BY") != std::string::npos);
  CHECK(lines[1].rfind(ImageId(kiln, "app:1").substr(7, 12), 0) == 0);
  CHECK(lines[1].find("…") != std::string::npos);
  CHECK(lines[2].find("LABEL a=b") != std::string::npos);
  CHECK(kiln({"history", "--no-trunc", "app:1"})
            .out.find("0123456789012345678901234567890123456789") != std::string::npos);
  CHECK(Lines(kiln({"history", "-q", "app:1"}).out).size() == 4);
  const std::string raw_sizes =
      kiln({"history", "--format", "{{.Size}}", "--human=false", "app:1"}).out;
  CHECK(raw_sizes.find_first_not_of("0123456789\n") == std::string::npos);
  CHECK(Lines(raw_sizes).size() == 4);
  CHECK(kiln({"history", "nosuch"}).exit_code == 1);
}

}  // namespace
}  // namespace kiln::e2e

namespace kiln::e2e {
namespace {

TEST_CASE("image prune removes dangling images, -a every unused one", "[e2e][prune]") {
  KILN_REQUIRE_RUNTIME();
  Kiln kiln;
  BuildBusyboxBase(kiln);
  BuildImage(kiln, "app:1", "FROM kiln-busybox\nRUN echo 1 > /y\n");
  const std::string old_app = ImageId(kiln, "app:1");
  BuildImage(kiln, "app:1", "FROM kiln-busybox\nRUN echo 2 > /y\n");
  CHECK(kiln({"images", "-q", "-f", "dangling=true"}).out == old_app.substr(7, 12) + "\n");

  CommandResult r = kiln({"image", "prune"}, "n\n");
  CHECK(r.out.rfind("WARNING! This will remove all dangling images.", 0) == 0);
  CHECK(kiln({"inspect", old_app}).exit_code == 0);

  r = kiln({"image", "prune", "-f"});
  CHECK(r.exit_code == 0);
  CHECK(r.out.rfind("Deleted Images:\ndeleted: " + old_app + "\n", 0) == 0);
  CHECK(r.out.find("Total reclaimed space: ") != std::string::npos);
  CHECK(kiln({"inspect", old_app}).exit_code == 1);
  CHECK(kiln({"inspect", "app:1"}).exit_code == 0);

  r = kiln({"image", "prune", "-a", "-f"});
  CHECK(r.exit_code == 0);
  CHECK(kiln({"images", "-a", "-q"}).out.empty());
  CHECK(kiln({"system", "check"}).exit_code == 0);
}

}  // namespace
}  // namespace kiln::e2e
