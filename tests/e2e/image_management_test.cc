// End-to-end: import, system df, image prune --filter, and rmi of images containers use.
#include <chrono>
#include <fstream>
#include <regex>
#include <set>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/e2e/e2e_support.h"

namespace kiln::e2e {
namespace {
namespace fs = std::filesystem;
using nlohmann::json;

json InspectOne(const Kiln& kiln, const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"inspect"};
  argv.insert(argv.end(), args.begin(), args.end());
  const CommandResult r = kiln(argv);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const json all = json::parse(r.out);
  REQUIRE(all.size() == 1);
  return all[0];
}

/// Everything under the store's blob directory and its temporary directory, with sizes.
std::set<std::string> StoreListing(const Kiln& kiln) {
  std::set<std::string> listing;
  for (const char* dir : {"oci/blobs/sha256", "tmp"}) {
    if (!fs::exists(kiln.root() / dir)) continue;
    for (const auto& e : fs::recursive_directory_iterator(kiln.root() / dir)) {
      listing.insert(e.path().string() + " " +
                     (e.is_regular_file() ? std::to_string(e.file_size()) : "dir"));
    }
  }
  listing.insert(ReadFile(kiln.root() / "oci/index.json"));
  return listing;
}

/// A root file system with the host's static busybox and /etc/message.
void MakeRootfs(const fs::path& dir) {
  fs::create_directories(dir / "bin");
  fs::copy_file("/bin/busybox", dir / "bin/busybox");
  fs::create_symlink("busybox", dir / "bin/sh");
  fs::create_symlink("busybox", dir / "bin/cat");
  WriteFile(dir / "etc/message", "imported hello\n");
}

void Tar(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"tar"};
  argv.insert(argv.end(), args.begin(), args.end());
  const CommandResult r = Run(argv);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
}

const std::regex kImageIdLine("sha256:[0-9a-f]{64}\n");

TEST_CASE("import makes a one-layer image from a plain or gzip rootfs tarball", "[e2e][import]") {
  KILN_REQUIRE_RUNTIME();
  Kiln kiln;
  ContainerCleanup cleanup(kiln);
  TempDir work("kiln-import");
  MakeRootfs(work / "rootfs");
  Tar({"-C", (work / "rootfs").string(), "-cf", (work / "rootfs.tar").string(), "."});
  Tar({"-C", (work / "rootfs").string(), "-czf", (work / "rootfs.tar.gz").string(), "."});

  CommandResult r = kiln({"import", "-c", "CMD [\"/bin/cat\", \"/etc/message\"]", "-c",
                          "ENV GREETING=hi", "-c", "LABEL team=core", "-c", "WORKDIR /etc", "-m",
                          "from the test", (work / "rootfs.tar").string(), "imported:1"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(std::regex_match(r.out, kImageIdLine));
  const std::string id = r.out.substr(0, r.out.size() - 1);

  const json image = InspectOne(kiln, {"imported:1"});
  CHECK(image["Id"] == id);
  CHECK(image["RepoTags"] == json::array({"imported:1"}));
  CHECK(image["Comment"] == "from the test");
  CHECK(image["Config"]["Cmd"] == json::array({"/bin/cat", "/etc/message"}));
  CHECK(image["Config"]["Env"] == json::array({"GREETING=hi"}));
  CHECK(image["Config"]["Labels"] == json({{"team", "core"}}));
  CHECK(image["Config"]["WorkingDir"] == "/etc");
  CHECK(image["Parent"] == "");
  REQUIRE(image["RootFS"]["Layers"].size() == 1);
  const std::string layer = image["RootFS"]["Layers"][0];
  CHECK(fs::exists(kiln.root() / "oci/blobs/sha256" / layer.substr(7)));  // stored uncompressed
  r = kiln({"history", "--format", "{{.Comment}}", "imported:1"});
  CHECK(r.out == "from the test\n");

  r = kiln({"run", "--rm", "imported:1"});
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK(r.out == "imported hello\n");
  r = kiln({"run", "--rm", "imported:1", "sh", "-c", "echo $GREETING from $(pwd)"});
  CHECK(r.out == "hi from /etc\n");

  // The same tree compressed and through stdin: the same normalized layer, the default comment.
  r = kiln({"import", "-", "imported:gz"}, ReadFile(work / "rootfs.tar.gz"));
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const json gz = InspectOne(kiln, {"imported:gz"});
  CHECK(gz["RootFS"]["Layers"] == json::array({layer}));
  CHECK(gz["Comment"] == "Imported from -");
  CHECK(gz["Config"]["Cmd"].is_null());
  CHECK(kiln({"run", "--rm", "imported:gz", "cat", "/etc/message"}).out == "imported hello\n");
  r = kiln({"import", (work / "rootfs.tar.gz").string()});
  CHECK(std::regex_match(r.out, kImageIdLine));
  CHECK(kiln({"images", "-q", "-f", "dangling=true"}).out == r.out.substr(7, 12) + "\n");
  CHECK(kiln({"image", "import", "-c", "ENTRYPOINT [\"/bin/sh\"]", (work / "rootfs.tar").string()})
            .exit_code == 0);

  // Whatever the compression, the tree gives the same normalized layer.
  for (const std::string compressor : {"bzip2", "xz", "zstd"}) {
    if (Run({"sh", "-c", "command -v " + compressor}).exit_code != 0) {
      WARN("no " << compressor << ": not checked");
      continue;
    }
    const fs::path tarball = work / ("rootfs.tar." + compressor);
    Tar({"-C", (work / "rootfs").string(), "--" + compressor, "-cf", tarball.string(), "."});
    r = kiln({"import", tarball.string()});
    INFO(compressor << ": " << r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(InspectOne(kiln, {r.out.substr(0, r.out.size() - 1)})["RootFS"]["Layers"] ==
          json::array({layer}));
  }

  const CommandResult check = kiln({"system", "check"});
  INFO(check.out << check.err);
  CHECK(check.exit_code == 0);
}

TEST_CASE("import refuses bad tarballs and changes and names without touching the store",
          "[e2e][import]") {
  KILN_REQUIRE_RUNTIME();
  Kiln kiln;
  TempDir work("kiln-import");
  MakeRootfs(work / "rootfs");
  Tar({"-C", (work / "rootfs").string(), "-cf", (work / "rootfs.tar").string(), "."});
  REQUIRE(kiln({"import", (work / "rootfs.tar").string(), "good:1"}).exit_code == 0);
  // An entry whose name climbs out of the root (-P keeps the "../").
  WriteFile(work / "outside", "evil\n");
  Tar({"-C", (work / "rootfs").string(), "-cPf", (work / "evil.tar").string(), "etc/message",
       "../outside"});
  WriteFile(work / "garbage.tar", std::string(4096, 'x'));
  std::string truncated = ReadFile(work / "rootfs.tar");
  truncated.resize(truncated.size() / 2);
  WriteFile(work / "truncated.tar", truncated);

  const std::set<std::string> before = StoreListing(kiln);
  const std::string images_before = kiln({"images", "-a", "-q", "--no-trunc"}).out;
  struct Case {
    std::vector<std::string> args;
    std::string error;  // expected in stderr
  };
  const std::vector<Case> cases = {
      {{(work / "evil.tar").string()}, "escapes"},
      {{(work / "garbage.tar").string(), "bad:1"}, "Error: cannot import "},
      {{(work / "truncated.tar").string(), "bad:1"}, "Error: cannot import "},
      {{(work / "nosuch.tar").string()}, "no such file or directory"},
      {{"http://127.0.0.1:9/rootfs.tar"}, "importing from a URL is not supported"},
      {{"-c", "RUN echo hi", (work / "rootfs.tar").string()},
       "Error: run is not a valid change command"},
      {{"-c", "FROM scratch", (work / "rootfs.tar").string()},
       "Error: from is not a valid change command"},
      {{"-c", "EXPOSE notaport", (work / "rootfs.tar").string()}, "Error: "},
      {{(work / "rootfs.tar").string(), "Bad:1"}, "must be lowercase"},
  };
  for (const Case& c : cases) {
    std::vector<std::string> argv = {"import"};
    argv.insert(argv.end(), c.args.begin(), c.args.end());
    const CommandResult r = kiln(argv);
    INFO(c.args.back() << ": " << r.err);
    CHECK(r.exit_code == 1);
    CHECK(r.err.rfind("Error: ", 0) == 0);
    CHECK(r.err.find(c.error) != std::string::npos);
    CHECK(StoreListing(kiln) == before);
  }
  CHECK(kiln({"import"}).exit_code == 2);
  CHECK(kiln({"images", "-a", "-q", "--no-trunc"}).out == images_before);
  CHECK(kiln({"system", "check"}).exit_code == 0);
}

/// The `system df` summary rows by type, as JSON objects.
std::map<std::string, json> DfRows(const Kiln& kiln) {
  const CommandResult r = kiln({"system", "df", "--format", "json"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  std::map<std::string, json> rows;
  for (const std::string& line : Lines(r.out)) {
    const json row = json::parse(line);
    rows[row["Type"]] = row;
  }
  return rows;
}

TEST_CASE("system df reports images and containers and volumes and build cache", "[e2e][df]") {
  KILN_REQUIRE_RUNTIME();
  Kiln kiln;
  ContainerCleanup cleanup(kiln);

  CommandResult r = kiln({"system", "df"});
  REQUIRE(r.exit_code == 0);
  CHECK(r.out ==
        "TYPE            TOTAL     ACTIVE    SIZE      RECLAIMABLE\n"
        "Images          0         0         0B        0B\n"
        "Containers      0         0         0B        0B\n"
        "Local Volumes   0         0         0B        0B\n"
        "Build Cache     0         0         0B        0B\n");

  BuildBusyboxBase(kiln);
  BuildImage(kiln, "app:1", "FROM kiln-busybox\nRUN echo one > /one\n");
  std::map<std::string, json> rows = DfRows(kiln);
  REQUIRE(rows.size() == 4);
  for (const auto& [type, row] : rows) {
    for (const char* key : {"Type", "TotalCount", "Active", "Size", "Reclaimable"})
      CHECK(row.contains(key));
  }
  CHECK(rows["Images"]["TotalCount"] == "2");
  CHECK(rows["Images"]["Active"] == "0");
  CHECK(rows["Images"]["Size"].get<std::string>().find("MB") != std::string::npos);
  CHECK(rows["Images"]["Reclaimable"] == rows["Images"]["Size"].get<std::string>() + " (100%)");
  CHECK(rows["Containers"]["TotalCount"] == "0");
  CHECK(rows["Local Volumes"]["Size"] == "0B");
  CHECK(std::stoi(rows["Build Cache"]["TotalCount"].get<std::string>()) > 0);

  r = kiln({"run", "-d", "--name", "web", "app:1", "sh", "-c", "echo x > /written; sleep 60"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  REQUIRE(kiln({"run", "--name", "done", "app:1", "sh", "-c", "echo y > /y"}).exit_code == 0);
  rows = DfRows(kiln);
  CHECK(rows["Containers"]["TotalCount"] == "2");
  CHECK(rows["Containers"]["Active"] == "1");
  CHECK(rows["Containers"]["Size"] != "0B");
  CHECK(std::regex_match(rows["Containers"]["Reclaimable"].get<std::string>(),
                         std::regex("[0-9.]+k?B \\([0-9]+%\\)")));
  CHECK(rows["Images"]["Active"] == "1");
  // app:1 shares the busybox layer with kiln-busybox; only its own layer is in use.
  CHECK(rows["Images"]["Reclaimable"] != rows["Images"]["Size"].get<std::string>() + " (100%)");
  CHECK(std::stoi(rows["Build Cache"]["Active"].get<std::string>()) > 0);

  r = kiln({"system", "df"});
  std::vector<std::string> lines = Lines(r.out);
  REQUIRE(lines.size() == 5);
  CHECK(std::regex_match(lines[1],
                         std::regex("Images +2 +1 +[0-9.]+MB +[0-9.]+[kM]?B \\([0-9]+%\\)")));
  CHECK(std::regex_match(lines[2], std::regex("Containers +2 +1 .*")));
  CHECK(kiln({"system", "df", "--format", "{{.Type}}={{.TotalCount}}"}).out ==
        "Images=2\nContainers=2\nLocal Volumes=0\nBuild Cache=" +
            rows["Build Cache"]["TotalCount"].get<std::string>() + "\n");

  r = kiln({"system", "df", "-v"});
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.rfind("Images space usage:\n\nREPOSITORY", 0) == 0);
  CHECK(r.out.find("SHARED SIZE") != std::string::npos);
  CHECK(std::regex_search(r.out, std::regex("\napp +1 +[0-9a-f]{12} .* 2\n")));
  CHECK(r.out.find("\nContainers space usage:\n\nCONTAINER ID") != std::string::npos);
  CHECK(std::regex_search(r.out, std::regex("\n[0-9a-f]{12} +app:1 .* Up .* web\n")));
  CHECK(r.out.find(" \"sh -c echo x > /wri…\" ") != std::string::npos);
  CHECK(r.out.find("\nLocal Volumes space usage:\n\nVOLUME NAME") != std::string::npos);
  CHECK(r.out.find("\nBuild cache usage: ") != std::string::npos);
  CHECK(kiln({"system", "df", "extra"}).exit_code == 2);
}

TEST_CASE("system check and df report errors as the image commands do", "[e2e][df]") {
  Kiln kiln;
  TempDir work("kiln-check");
  MakeRootfs(work / "rootfs");
  Tar({"-C", (work / "rootfs").string(), "-cf", (work / "rootfs.tar").string(), "."});
  REQUIRE(kiln({"import", (work / "rootfs.tar").string(), "imported:1"}).exit_code == 0);
  CHECK(kiln({"system", "check"}).exit_code == 0);

  // The layer blob (stored uncompressed: its digest is the layer's) no longer matches its digest.
  const std::string layer = InspectOne(kiln, {"imported:1"})["RootFS"]["Layers"][0];
  std::ofstream(kiln.root() / "oci/blobs/sha256" / layer.substr(7), std::ios::app) << "x";
  CommandResult r = kiln({"system", "check"});
  CHECK(r.exit_code == 1);
  CHECK(r.out.find("problem: ") != std::string::npos);
  CHECK(r.err.rfind("Error: the store at " + kiln.root().string() + " has ", 0) == 0);

  r = kiln({"system", "df", "extra"});
  CHECK(r.exit_code == 2);
  CHECK(r.err == "\"kiln system df\" accepts no arguments.\nSee 'kiln system df --help'.\n");
  r = Run({KILN_BINARY, "system", "df"}, {{"KILN_ROOT", "/dev/null/store"}});
  CHECK(r.exit_code == 1);
  CHECK(r.err.rfind("Error: ", 0) == 0);
  CHECK(r.err == Run({KILN_BINARY, "images"}, {{"KILN_ROOT", "/dev/null/store"}}).err);
}

TEST_CASE("image prune --filter until and label select what is pruned", "[e2e][prune]") {
  KILN_REQUIRE_RUNTIME();
  Kiln kiln;
  BuildBusyboxBase(kiln);
  BuildImage(kiln, "a:1", "FROM kiln-busybox\nLABEL tier=a\nRUN echo a > /a\n");
  BuildImage(kiln, "b:1", "FROM kiln-busybox\nLABEL tier=b keep=yes\nRUN echo b > /b\n");
  BuildImage(kiln, "c:1", "FROM kiln-busybox\nRUN echo c > /c\n");
  auto present = [&](const std::string& name) {
    return kiln({"inspect", "--type", "image", name}).exit_code == 0;
  };

  for (const char* bad : {"bogus=1", "reference=a", "before=a:1", "until=yesterday"}) {
    const CommandResult r = kiln({"image", "prune", "-a", "-f", "--filter", bad});
    INFO(bad);
    CHECK(r.exit_code == 1);
    CHECK(r.err.rfind("Error: ", 0) == 0);
  }
  CHECK(kiln({"image", "prune", "-a", "-f", "--filter", "until=bad"}).err ==
        "Error: failed to parse value as time or duration: \"bad\"\n");

  // Everything was created within the last hour and after 2000.
  for (const char* until : {"until=1h", "until=2000-01-01", "until=946684800"}) {
    const CommandResult r = kiln({"image", "prune", "-a", "-f", "--filter", until});
    INFO(until);
    CHECK(r.exit_code == 0);
    CHECK(r.out == "Total reclaimed space: 0B\n");
  }

  CommandResult r = kiln({"image", "prune", "-a", "-f", "--filter", "label=tier=a"});
  CHECK(r.exit_code == 0);
  CHECK(r.out.rfind("Deleted Images:\nuntagged: a:1\n", 0) == 0);
  CHECK_FALSE(present("a:1"));
  CHECK(present("b:1"));
  CHECK(present("c:1"));

  // label!= keeps the labelled images; the base stays while b:1 needs it.
  r = kiln({"image", "prune", "-a", "-f", "--filter", "label!=keep"});
  CHECK(r.exit_code == 0);
  CHECK_FALSE(present("c:1"));
  CHECK(present("b:1"));
  CHECK(present("kiln-busybox"));

  r = kiln({"image", "prune", "-a", "-f", "--filter", "label!=keep=yes", "--filter", "until=1h"});
  CHECK(present("b:1"));

  const std::string future = std::to_string(
      std::chrono::duration_cast<std::chrono::seconds>(
          std::chrono::system_clock::now().time_since_epoch() + std::chrono::hours(1))
          .count());
  r = kiln({"image", "prune", "-a", "-f", "--filter", "until=" + future});
  CHECK(r.exit_code == 0);
  CHECK(r.out.find("untagged: b:1\n") != std::string::npos);
  CHECK(r.out.find("Total reclaimed space: ") != std::string::npos);
  CHECK_FALSE(present("b:1"));
  CHECK(kiln({"images", "-a", "-q"}).out.empty());
  CHECK(kiln({"system", "check"}).exit_code == 0);
}

TEST_CASE("rmi with containers and several repositories follows Docker's conflict rules",
          "[e2e][rmi]") {
  KILN_REQUIRE_RUNTIME();
  Kiln kiln;
  ContainerCleanup cleanup(kiln);
  BuildBusyboxBase(kiln);

  // By id with tags in several repositories, forced: every tag goes, then the image.
  BuildImage(kiln, "multi:1", "FROM kiln-busybox\nRUN echo m > /m\n");
  REQUIRE(kiln({"tag", "multi:1", "other:2"}).exit_code == 0);
  const std::string multi = ImageId(kiln, "multi:1");
  CommandResult r = kiln({"rmi", "-f", multi.substr(7, 12)});
  INFO(r.err);
  CHECK(r.exit_code == 0);
  std::vector<std::string> lines = Lines(r.out);
  REQUIRE(lines.size() >= 3);
  CHECK(lines[0] == "Untagged: multi:1");
  CHECK(lines[1] == "Untagged: other:2");
  CHECK(lines[2] == "Deleted: " + multi);
  CHECK(kiln({"inspect", multi}).exit_code == 1);

  BuildImage(kiln, "app:1", "FROM kiln-busybox\nRUN echo one > /one\n");
  std::string app = ImageId(kiln, "app:1");
  std::string app12 = app.substr(7, 12);

  // A stopped container: removing the image needs -f, by id or by its only tag.
  r = kiln({"run", "--name", "stopped", "app:1", "true"});
  REQUIRE(r.exit_code == 0);
  const std::string stopped = InspectOne(kiln, {"--type", "container", "stopped"})["Id"];
  r = kiln({"rmi", app12});
  CHECK(r.exit_code == 1);
  CHECK(r.err == "Error: conflict: unable to delete " + app12 +
                     " (must be forced) - image is being used by stopped container " +
                     stopped.substr(0, 12) + "\n");
  r = kiln({"rmi", "app:1"});
  CHECK(r.exit_code == 1);
  CHECK(r.err ==
        "Error: conflict: unable to remove repository reference \"app:1\" (must force) "
        "- container " +
            stopped.substr(0, 12) + " is using its referenced image " + app12 + "\n");
  CHECK(ImageId(kiln, "app:1") == app);
  // Forced, the image goes; the stopped container stays.
  r = kiln({"rmi", "-f", app12});
  CHECK(r.exit_code == 0);
  CHECK(r.out == "Untagged: app:1\nDeleted: " + app + "\n");
  CHECK(kiln({"ps", "-aq"}).out == stopped.substr(0, 12) + "\n");
  REQUIRE(kiln({"rm", "stopped"}).exit_code == 0);
  BuildImage(kiln, "app:1", "FROM kiln-busybox\nRUN echo one again > /one\n");
  app = ImageId(kiln, "app:1");
  app12 = app.substr(7, 12);

  // A running container: no removal by id, even forced; a forced untag leaves the image.
  r = kiln({"run", "-d", "--name", "web", "app:1", "sleep", "60"});
  REQUIRE(r.exit_code == 0);
  const std::string web = r.out.substr(0, 12);
  const std::string running_conflict = "Error: conflict: unable to delete " + app12 +
                                       " (cannot be forced) - image is being used by running "
                                       "container " +
                                       web + "\n";
  r = kiln({"rmi", app12});
  CHECK(r.exit_code == 1);
  CHECK(r.err == running_conflict);
  r = kiln({"rmi", "-f", app12});
  CHECK(r.exit_code == 1);
  CHECK(r.err == running_conflict);
  r = kiln({"rmi", "-f", "app:1"});
  CHECK(r.exit_code == 0);
  CHECK(r.out == "Untagged: app:1\n");
  CHECK(kiln({"inspect", "app:1"}).exit_code == 1);
  CHECK(ImageId(kiln, app) == app);

  // inspect finds containers by name with or without --type, with sizes on request.
  const json container = InspectOne(kiln, {"web"});
  CHECK(container["Name"] == "/web");
  CHECK(container["Image"] == app);
  CHECK_FALSE(container.contains("SizeRw"));
  const json sized = InspectOne(kiln, {"--type", "container", "--size", "web"});
  CHECK(sized.contains("SizeRw"));
  CHECK(sized["SizeRootFs"].get<int64_t>() > 1000000);
  r = kiln({"inspect", "--type", "image", "web"});
  CHECK(r.exit_code == 1);
  CHECK(r.err == "Error: No such image: web\n");
  r = kiln({"inspect", "--type", "volume", "web"});
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("\"volume\" is not a valid value for --type") != std::string::npos);
  CHECK(kiln({"inspect", "-f", "{{.Id}}", "web", app}).out ==
        container["Id"].get<std::string>() + "\n" + app + "\n");

  // Once the container is gone, the untagged image can go, and the store is consistent.
  REQUIRE(kiln({"stop", "-t", "1", "web"}).exit_code == 0);
  REQUIRE(kiln({"rm", "web"}).exit_code == 0);
  r = kiln({"rmi", app12});
  CHECK(r.exit_code == 0);
  CHECK(Lines(r.out).at(0) == "Deleted: " + app);
  CHECK_FALSE(fs::exists(kiln.root() / "oci/blobs/sha256" / app.substr(7)));
  const CommandResult check = kiln({"system", "check"});
  INFO(check.out << check.err);
  CHECK(check.exit_code == 0);
}

/// Some character that starts at least two of `ids` (pigeonhole: 17 hex ids share one).
char SharedFirstCharacter(const std::vector<std::string>& ids) {
  std::map<char, int> first;
  for (const std::string& id : ids)
    if (++first[id.at(0)] == 2) return id[0];
  FAIL("no shared first character");
  return 0;
}

TEST_CASE("inspect refuses ambiguous id prefixes of images and containers", "[e2e][inspect]") {
  KILN_REQUIRE_RUNTIME();
  Kiln kiln;
  ContainerCleanup cleanup(kiln);
  TempDir work("kiln-prefix");
  MakeRootfs(work / "rootfs");
  Tar({"-C", (work / "rootfs").string(), "-cf", (work / "rootfs.tar").string(), "."});
  std::vector<std::string> images;
  for (int i = 0; i < 17; ++i) {
    const CommandResult r =
        kiln({"import", "-m", "copy " + std::to_string(i), (work / "rootfs.tar").string()});
    REQUIRE(r.exit_code == 0);
    images.push_back(r.out.substr(7, 64));
  }
  const std::string image_prefix(1, SharedFirstCharacter(images));
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"inspect", image_prefix},
        std::vector<std::string>{"inspect", "--type", "image", image_prefix}}) {
    const CommandResult r = kiln(args);
    CHECK(r.exit_code == 1);
    CHECK(r.err == "Error: multiple IDs found with provided prefix: " + image_prefix + "\n");
  }
  CHECK(ImageId(kiln, images[0].substr(0, 12)) == "sha256:" + images[0]);

  std::vector<std::string> containers;
  for (int i = 0; i < 17; ++i) {
    REQUIRE(
        kiln({"run", "--name", "c" + std::to_string(i), images[0], "sh", "-c", ":"}).exit_code ==
        0);
    containers.push_back(InspectOne(kiln, {"--type", "container", "c" + std::to_string(i)})["Id"]);
  }
  const std::string container_prefix(1, SharedFirstCharacter(containers));
  const CommandResult r = kiln({"inspect", "--type", "container", container_prefix});
  CHECK(r.exit_code == 1);
  CHECK(r.err.rfind("Error: multiple ", 0) == 0);
  CHECK(r.err.find("found with provided prefix: " + container_prefix + "\n") != std::string::npos);
  CHECK(InspectOne(kiln, {"--type", "container", containers[3].substr(0, 12)})["Name"] == "/c3");
}

}  // namespace
}  // namespace kiln::e2e
