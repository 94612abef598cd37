#include "engine/store/image_store.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/file.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <set>

#include <catch2/catch.hpp>

#include "engine/base/subprocess.h"
#include "engine/store/step_cache.h"
#include "engine/store/store_maintenance.h"
#include "tests/engine/store/store_test_support.h"

namespace kiln {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

using testing::CommitSimple;
using testing::ConfigFor;
using testing::CountFiles;
using testing::Overwrite;
using testing::PutLayer;
using testing::TempStore;

std::string Hex(const std::string& digest) {
  return digest.substr(7);
}

TEST_CASE("a new store is an empty OCI image layout", "[store]") {
  TempStore store;
  const fs::path oci = store->OciDir();
  CHECK(json::parse(ReadWholeFile(oci / "oci-layout")) == json{{"imageLayoutVersion", "1.0.0"}});
  const json index = json::parse(ReadWholeFile(oci / "index.json"));
  CHECK(index["schemaVersion"] == 2);
  CHECK(index["mediaType"] == "application/vnd.oci.image.index.v1+json");
  CHECK(index["manifests"] == json::array());
  for (const char* dir : {"oci/blobs/sha256", "images", "layers", "cache", "containers", "tmp"}) {
    CHECK(fs::is_directory(store->root() / dir));
  }
  CHECK(CheckStore(*store).ok());
  // Opening it again changes nothing.
  ImageStore again(store->root());
  CHECK(again.ReadIndex().manifests.empty());
}

TEST_CASE("committed images are found by tag, id and id prefix", "[store]") {
  TempStore store;
  const std::string id = CommitSimple(*store, "hi\n");
  CHECK(id == Digest::Of(ReadWholeFile(store->blobs().Path(Digest::Parse(id)))));
  store->Tag(id, ParseReference("app:1"));

  for (const std::string& query :
       std::vector<std::string>{"app:1", "docker.io/library/app:1", id, Hex(id), id.substr(0, 12),
                                Hex(id).substr(0, 12), Hex(id).substr(0, 1)}) {
    INFO(query);
    std::optional<ImageRecord> found = store->FindImage(query);
    REQUIRE(found);
    CHECK(found->id == id);
  }
  CHECK_FALSE(store->FindImage("app:2"));
  CHECK_FALSE(store->FindImage("other"));
  CHECK_FALSE(store->FindImage(""));

  const ImageRecord record = *store->FindImage("app:1");
  CHECK(store->FindImage("app@" + record.manifest_digest)->id == id);
  CHECK(record.created == "2024-01-01T00:00:00Z");
  CHECK_FALSE(record.intermediate);
  const json on_disk = json::parse(ReadWholeFile(store->root() / "images" / (Hex(id) + ".json")));
  CHECK(on_disk["id"] == id);
  CHECK(on_disk["manifest_digest"] == record.manifest_digest);

  Manifest manifest = store->ReadManifest(id);
  CHECK(manifest.config.digest == id);
  CHECK(manifest.config.media_type == kMediaTypeImageConfig);
  REQUIRE(manifest.layers.size() == 1);
  CHECK(manifest.layers[0].media_type == kMediaTypeLayer);
  CHECK(store->ReadConfig(id)["config"]["Cmd"] == json::array({"/bin/sh"}));
  CHECK(store->ReadImageConfig(id).rootfs.diff_ids ==
        std::vector<std::string>{manifest.layers[0].digest.String()});
}

TEST_CASE("an id prefix shared by two images is ambiguous", "[store]") {
  TempStore store;
  // 17 images: two of them must share their first hex digit.
  std::map<char, std::vector<std::string>> by_first;
  for (int i = 0; i < 17; ++i) {
    std::string id = CommitSimple(*store, "content " + std::to_string(i));
    by_first[id[7]].push_back(id);
  }
  auto shared = std::find_if(by_first.begin(), by_first.end(),
                             [](const auto& e) { return e.second.size() > 1; });
  REQUIRE(shared != by_first.end());
  const std::string prefix(1, shared->first);
  CHECK_THROWS_WITH(store->FindImage(prefix), "multiple IDs found with provided prefix: " + prefix);
  CHECK_THROWS_WITH(store->FindImage("sha256:" + prefix),
                    Catch::Contains("multiple IDs found with provided prefix"));
  CHECK(store->FindImage(shared->second[0])->id == shared->second[0]);
  CHECK(store->ListImages().size() == 17);
}

TEST_CASE("index.json holds one manifest descriptor per tag", "[store]") {
  TempStore store;
  const std::string a = CommitSimple(*store, "a");
  const std::string b = CommitSimple(*store, "b");
  const std::string untagged = CommitSimple(*store, "c");
  store->Tag(a, ParseReference("app:1"));
  store->Tag(a, ParseReference("localhost:5000/team/app"));
  store->Tag(b, ParseReference("app:2"));

  const json index = json::parse(ReadWholeFile(store->OciDir() / "index.json"));
  REQUIRE(index["manifests"].size() == 3);
  std::set<std::string> names;
  for (const json& d : index["manifests"]) {
    CHECK(d["mediaType"] == "application/vnd.oci.image.manifest.v1+json");
    const std::string digest = d["digest"];
    CHECK(d["size"] == fs::file_size(store->blobs().Path(Digest::Parse(digest))));
    names.insert(d["annotations"]["org.opencontainers.image.ref.name"]);
  }
  CHECK(names == std::set<std::string>{"docker.io/library/app:1", "docker.io/library/app:2",
                                       "localhost:5000/team/app:latest"});
  CHECK(store->TagsOf(a).size() == 2);
  CHECK(store->TagsOf(untagged).empty());

  // Retagging moves the tag.
  store->Tag(b, ParseReference("app:1"));
  CHECK(store->ReadIndex().manifests.size() == 3);
  CHECK(store->ImageForTag(ParseReference("app:1")) == b);
  CHECK(store->TagsOf(a).at(0).Familiar() == "localhost:5000/team/app:latest");

  CHECK(store->Untag(ParseReference("app:1")));
  CHECK_FALSE(store->Untag(ParseReference("app:1")));
  CHECK_FALSE(store->ImageForTag(ParseReference("app:1")));
  CHECK(store->ReadIndex().manifests.size() == 2);

  CHECK_THROWS_WITH(store->Tag("sha256:" + std::string(64, '0'), ParseReference("x")),
                    Catch::Contains("no such image"));
  CHECK_THROWS_WITH(store->Tag(a, ParseReference("x@" + a)), Catch::Contains("digest reference"));
}

TEST_CASE("a tag's stamp changes when that tag moves, and only then", "[store]") {
  TempStore store;
  const std::string a = CommitSimple(*store, "a");
  const std::string b = CommitSimple(*store, "b");
  const Reference app = ParseReference("app");
  const Reference other = ParseReference("other:1");
  const fs::path stamp = store->SyncTagStamp(app);
  CHECK(stamp == store->TagStamp(ParseReference("docker.io/library/app:latest")));
  CHECK(stamp != store->TagStamp(other));
  CHECK(ReadWholeFile(stamp).empty());  // no such tag yet

  store->Tag(a, app);
  const std::string manifest_a = store->GetImage(a)->manifest_digest;
  CHECK(ReadWholeFile(stamp) == manifest_a);
  const auto written = fs::last_write_time(stamp);
  const fs::path moved_away = store->TagStamp(other);
  store->Tag(b, other);  // another tag
  store->Tag(a, app);    // the same target again
  CHECK(fs::last_write_time(stamp) == written);
  CHECK(ReadWholeFile(moved_away) == store->GetImage(b)->manifest_digest);

  store->Tag(b, app);
  CHECK(ReadWholeFile(stamp) == store->GetImage(b)->manifest_digest);
  store->Untag(app);
  CHECK(ReadWholeFile(stamp).empty());

  // A tag moved behind the store's back (another tool writing index.json) is caught up with.
  store->Tag(a, app);
  ImageIndex index = store->ReadIndex();
  std::erase_if(index.manifests, [](const Descriptor& d) {
    return d.annotations.at("org.opencontainers.image.ref.name") == "docker.io/library/app:latest";
  });
  Overwrite(store->OciDir() / "index.json", json(index).dump());
  CHECK(ReadWholeFile(stamp) == manifest_a);
  store->SyncTagStamp(app);
  CHECK(ReadWholeFile(stamp).empty());
}

TEST_CASE("equal configs and layers give the same image id in any store", "[store]") {
  TempStore one, two;
  const std::string a = CommitSimple(*one, "same", "2020-01-01T00:00:00Z");
  const std::string b = CommitSimple(*two, "same", "2020-01-01T00:00:00Z");
  CHECK(a == b);
  CHECK(CommitSimple(*one, "same", "2020-01-01T00:00:00Z") == a);
  CHECK(CommitSimple(*one, "same", "2020-01-01T00:00:01Z") != a);
  CHECK(ReadWholeFile(one->blobs().Path(Digest::Parse(a))) ==
        ReadWholeFile(two->blobs().Path(Digest::Parse(b))));
}

TEST_CASE("commit validates layers and parent, intermediate images can be promoted", "[store]") {
  TempStore store;
  Descriptor layer = PutLayer(*store, "f", "x");
  ImageConfig config = ConfigFor({layer}, "2024-01-01T00:00:00Z");
  Descriptor missing{std::string(kMediaTypeLayer), Digest::Of("nope"), 4, {}, std::nullopt};
  CHECK_THROWS_WITH(store->CommitImage(config, {missing}, "", true), Catch::Contains("missing"));
  CHECK_THROWS_WITH(store->CommitImage(config, {layer, layer}, "", true),
                    Catch::Contains("1 rootfs.diff_ids for 2 layers"));
  CHECK_THROWS_WITH(store->CommitImage(config, {layer}, Digest::Of("p").String(), true),
                    Catch::Contains("parent image"));

  const std::string base = store->CommitImage(config, {layer}, "", true).String();
  CHECK(store->GetImage(base)->intermediate);
  ImageConfig child_config = config;
  child_config.config.cmd = {"echo"};
  const std::string child = store->CommitImage(child_config, {layer}, base, true).String();
  CHECK(store->GetImage(child)->parent == base);
  store->SetIntermediate(child, false);
  CHECK_FALSE(store->GetImage(child)->intermediate);
  // Committing it again as intermediate does not hide a final image.
  store->CommitImage(child_config, {layer}, base, true);
  CHECK_FALSE(store->GetImage(child)->intermediate);

  // diff_ids are filled from uncompressed layers when left empty.
  ImageConfig bare = ImageConfig::ForHost();
  const std::string filled = store->CommitImage(bare, {layer}, "", false).String();
  CHECK(store->ReadImageConfig(filled).rootfs.diff_ids ==
        std::vector<std::string>{layer.digest.String()});
}

TEST_CASE("json configs are stored verbatim with sorted keys", "[store]") {
  TempStore store;
  const json config = json::parse(
      R"({"os":"linux","architecture":"amd64","config":{},"history":[],
          "rootfs":{"type":"layers","diff_ids":[]}})");
  const std::string id = store->CommitImage(config, {}, "", true).String();
  CHECK(
      ReadWholeFile(store->blobs().Path(Digest::Parse(id))) ==
      R"({"architecture":"amd64","config":{},"history":[],"os":"linux","rootfs":{"diff_ids":[],"type":"layers"}})");
  CHECK(store->ReadConfig(id) == config);
}

TEST_CASE("a layer is unpacked once, atomically", "[store]") {
  TempStore store;
  const Digest digest = Digest::Of("layer");
  int calls = 0;
  auto unpack = [&](const fs::path& into) {
    ++calls;
    CHECK(fs::is_empty(into));
    std::ofstream(into / "file") << "content";
  };
  CHECK_THROWS_WITH(store->EnsureUnpackedLayer(digest,
                                               [](const fs::path& into) {
                                                 std::ofstream(into / "partial") << "x";
                                                 throw std::runtime_error("unpack failed");
                                               }),
                    "unpack failed");
  CHECK_FALSE(fs::exists(store->LayerDir(digest)));
  CHECK(CountFiles(store->root() / "tmp") == 0);

  const fs::path dir = store->EnsureUnpackedLayer(digest, unpack);
  CHECK(dir == store->root() / "layers" / digest.Hex());
  CHECK(ReadWholeFile(dir / "file") == "content");
  CHECK((fs::status(dir).permissions() & fs::perms::all) == fs::perms(0755));
  CHECK(store->EnsureUnpackedLayer(digest, unpack) == dir);
  CHECK(calls == 1);
  CHECK(CountFiles(store->root() / "tmp") == 0);
}

TEST_CASE("a layer unpacked before a reboot is unpacked again, one of this boot is kept",
          "[store]") {
  TempStore store;
  const Digest digest = Digest::Of("layer");
  int calls = 0;
  auto unpack = [&](const fs::path& into) {
    ++calls;
    std::ofstream(into / "file") << "content " << calls;
  };
  const fs::path dir = store->EnsureUnpackedLayer(digest, unpack);
  const fs::path marker = store->root() / "layers-unsynced" / digest.Hex();
  CHECK(ReadWholeFile(marker) == ReadWholeFile("/proc/sys/kernel/random/boot_id").substr(0, 36));
  CHECK(store->HasTrustedUnpackedLayer(digest));

  // Written under another boot, or with its marker's content lost in a crash.
  for (const std::string& other : {std::string("0c7d1e2f-other-boot"), std::string()}) {
    INFO("marker: \"" << other << "\"");
    std::ofstream(marker, std::ios::trunc) << other;
    std::ofstream(dir / "file", std::ios::trunc);  // as a crash may leave it: empty
    CHECK_FALSE(store->HasTrustedUnpackedLayer(digest));
    const int before = calls;
    CHECK(store->EnsureUnpackedLayer(digest, unpack) == dir);
    CHECK(calls == before + 1);
    CHECK(ReadWholeFile(dir / "file") == "content " + std::to_string(calls));
    CHECK(store->HasTrustedUnpackedLayer(digest));
  }
  CHECK(CountFiles(store->root() / "tmp") == 0);

  // A layer without a marker was synced when it was written (as kiln did before markers).
  fs::remove(marker);
  CHECK(store->HasTrustedUnpackedLayer(digest));

  // An adopted tree replaces an untrusted layer too, and is kept when the layer is trusted.
  std::ofstream(marker, std::ios::trunc) << "old";
  const fs::path tree = store->root() / "tmp" / "adopted";
  fs::create_directories(tree);
  std::ofstream(tree / "file") << "adopted";
  CHECK(store->AdoptUnpackedLayer(digest, tree));
  CHECK(ReadWholeFile(dir / "file") == "adopted");
  fs::create_directories(tree);
  CHECK_FALSE(store->AdoptUnpackedLayer(digest, tree));
  fs::remove_all(tree);
  CHECK(CountFiles(store->root() / "tmp") == 0);
}

TEST_CASE("the store lock is exclusive across open files and re-entrant inside", "[store]") {
  TempStore store;
  auto try_lock = [&] {
    int fd = ::open((store->root() / "lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    REQUIRE(fd >= 0);
    bool got = ::flock(fd, LOCK_EX | LOCK_NB) == 0;
    ::close(fd);
    return got;
  };
  {
    StoreLock outer = store->Lock();
    CHECK_FALSE(try_lock());
    {
      StoreLock inner = store->Lock();  // would deadlock if not re-entrant
      StepCache(*store).Put("k", Digest::Parse(CommitSimple(*store, "locked")));
    }
    CHECK_FALSE(try_lock());
  }
  CHECK(try_lock());
}

TEST_CASE("the default root follows KILN_ROOT, then uid, then XDG_DATA_HOME", "[store]") {
  struct EnvGuard {
    std::string name;
    std::optional<std::string> old;
    explicit EnvGuard(std::string n) : name(std::move(n)) {
      if (const char* v = std::getenv(name.c_str())) old = v;
    }
    ~EnvGuard() {
      if (old) {
        ::setenv(name.c_str(), old->c_str(), 1);
      } else {
        ::unsetenv(name.c_str());
      }
    }
  } root_guard("KILN_ROOT"), xdg_guard("XDG_DATA_HOME"), home_guard("HOME");
  ::setenv("KILN_ROOT", "/custom/root", 1);
  CHECK(ImageStore::DefaultRoot() == "/custom/root");
  ::unsetenv("KILN_ROOT");
  ::setenv("XDG_DATA_HOME", "/xdg", 1);
  ::setenv("HOME", "/home/u", 1);
  if (::geteuid() == 0) {
    CHECK(ImageStore::DefaultRoot() == "/var/lib/kiln");
  } else {
    CHECK(ImageStore::DefaultRoot() == "/xdg/kiln");
    ::unsetenv("XDG_DATA_HOME");
    CHECK(ImageStore::DefaultRoot() == "/home/u/.local/share/kiln");
  }
}

// --- the real OCI tools read the store as it is -------------------------------------------------

struct CommandResult {
  int status;
  std::string output;
};

/// Runs `command` through /bin/sh; its stdout and stderr together.
CommandResult RunCommand(const std::string& command) {
  CommandResult result{-1, {}};
  ProcessSpec spec;
  spec.argv = {"/bin/sh", "-c", command};
  spec.on_stdout = [&](std::string_view chunk) { result.output.append(chunk); };
  result.status = ExitCode(RunProcess(std::move(spec)));
  return result;
}

bool HaveTool(const std::string& tool) {
  if (RunCommand("command -v " + tool).status == 0) return true;
  WARN(tool + " is not installed; skipping its check");
  return false;
}

std::string TaggedStore(TempStore& store) {
  Descriptor layer = PutLayer(*store, "hello.txt", "hello from kiln\n");
  ImageConfig config = ImageConfig::ForHost();
  config.created = "2024-01-01T00:00:00Z";
  config.config.cmd = {"/bin/sh"};
  config.config.env = {"PATH=/usr/bin:/bin"};
  config.history = {{"2024-01-01T00:00:00Z", "COPY hello.txt /", "", "", false}};
  const std::string id = store->CommitImage(config, {layer}, "", false).String();
  store->Tag(id, ParseReference("app:1"));
  // An intermediate image in the store must not confuse the tools either.
  store->CommitImage(ConfigFor({layer}, "2024-01-02T00:00:00Z"), {layer}, "", true);
  return id;
}

TEST_CASE("skopeo inspects a committed image", "[store][tools]") {
  if (!HaveTool("skopeo")) return;
  TempStore store;
  const std::string id = TaggedStore(store);
  CommandResult r =
      RunCommand("skopeo inspect oci:" + store->OciDir().string() + ":docker.io/library/app:1");
  INFO(r.output);
  REQUIRE(r.status == 0);
  const json inspected = json::parse(r.output);
  CHECK(inspected["Digest"] == store->GetImage(id)->manifest_digest);
  CHECK(inspected["Layers"].size() == 1);
  CHECK(inspected["Os"] == "linux");

  CommandResult config = RunCommand("skopeo inspect --config oci:" + store->OciDir().string() +
                                    ":docker.io/library/app:1");
  INFO(config.output);
  REQUIRE(config.status == 0);
  CHECK(json::parse(config.output)["config"]["Cmd"] == json::array({"/bin/sh"}));
}

TEST_CASE("umoci lists, stats and unpacks a committed image", "[store][tools]") {
  if (!HaveTool("umoci")) return;
  TempStore store;
  TaggedStore(store);
  const std::string layout = store->OciDir().string();
  CommandResult ls = RunCommand("umoci ls --layout " + layout);
  INFO(ls.output);
  REQUIRE(ls.status == 0);
  CHECK_THAT(ls.output, Catch::Contains("docker.io/library/app:1"));

  CommandResult stat = RunCommand("umoci stat --image " + layout + ":docker.io/library/app:1");
  INFO(stat.output);
  CHECK(stat.status == 0);
  CHECK_THAT(stat.output, Catch::Contains("COPY hello.txt /"));

  const fs::path bundle = store.dir() / "bundle";
  CommandResult unpack = RunCommand("umoci unpack --rootless --image " + layout +
                                    ":docker.io/library/app:1 " + bundle.string());
  INFO(unpack.output);
  REQUIRE(unpack.status == 0);
  CHECK(ReadWholeFile(bundle / "rootfs" / "hello.txt") == "hello from kiln\n");
}

TEST_CASE("oci-image-tool validates the store's image layout", "[store][tools]") {
  if (!HaveTool("oci-image-tool")) return;
  TempStore store;
  TaggedStore(store);
  CommandResult r =
      RunCommand("oci-image-tool validate --type image --ref name=docker.io/library/app:1 " +
                 store->OciDir().string());
  INFO(r.output);
  CHECK(r.status == 0);
  CHECK_THAT(r.output, !Catch::Contains("invalid"));

  // The check is real: a broken config fails it.
  const std::string id = store->FindImage("app:1")->id;
  Overwrite(store->blobs().Path(Digest::Parse(id)), R"({"architecture":5})");
  CommandResult broken =
      RunCommand("oci-image-tool validate --type image --ref name=docker.io/library/app:1 " +
                 store->OciDir().string());
  INFO(broken.output);
  CHECK(broken.status != 0);
}

}  // namespace
}  // namespace kiln
