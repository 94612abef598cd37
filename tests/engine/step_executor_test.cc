#include "engine/step_executor.h"

#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "engine/base/atomic_file.h"
#include "engine/context/context_scanner.h"
#include "engine/store/image_config.h"
#include "engine/store/image_rootfs.h"
#include "engine/store/image_store.h"
#include "frontend/dockerignore.h"
#include "frontend/lowering.h"
#include "frontend/parser.h"
#include "tests/engine/run/runtime_test_support.h"
#include "tests/engine/store/store_test_support.h"

namespace kiln {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using testing::TempDir;
using testing::TempStore;

void WriteFile(const fs::path& path, const std::string& content) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary | std::ios::trunc) << content;
}

PathMatcher Matcher() {
  PathMatcher matcher;
  matcher.match = [](std::string_view pattern, std::string_view path) {
    return MatchPathPattern(pattern, path);
  };
  return matcher;
}

/// Runs every step of a Dockerfile as ninja's step edges do: each step gets its parent's record,
/// the records of the stages it reads and, for a COPY/ADD from the context, the digest of the
/// context entries it reads (as the hashing edge computes it).
class StepBuilder {
 public:
  StepBuilder(ImageStore& store, const fs::path& context) : store_(store), context_(context) {}

  /// The records of all steps, in graph order.
  std::vector<StepRecord> Build(const std::string& dockerfile, StepSettings settings = {}) {
    LowerOptions options;
    options.context = context_.string();
    graph_ = LowerDockerfile(ParseDockerfile(dockerfile), options);
    settings.matcher = Matcher();
    std::vector<StepRecord> records(graph_.steps.size());
    for (const Step& step : graph_.steps) {
      StepInputs in;
      in.graph = &graph_;
      in.step = step.id;
      if (step.parent >= 0) in.parent = records.at(step.parent);
      for (int stage : {step.base_stage, step.from_stage}) {
        if (stage >= 0) in.stages[stage] = records.at(graph_.stages.at(stage).steps.back());
      }
      in.inputs_digest = InputsDigestOf(step);
      records[step.id] = ExecuteStep(store_, in, settings);
    }
    return records;
  }

  const StepGraph& graph() const { return graph_; }

 private:
  std::string InputsDigestOf(const Step& step) const {
    if ((step.kind != StepKind::kCopy && step.kind != StepKind::kAdd) || step.from_stage >= 0 ||
        !step.from_image.empty()) {
      return "";
    }
    std::vector<std::string> sources;
    for (const std::string& s : step.sources)
      if (!IsHeredocSource(s) && !IsUrlSource(s)) sources.push_back(s);
    if (sources.empty()) return "";
    const std::vector<ContextEntry> entries = ScanContext(context_, Matcher(), nullptr);
    return InputsDigest(SelectEntryRefs(entries, sources, step.excludes, Matcher()));
  }

  ImageStore& store_;
  fs::path context_;
  StepGraph graph_;
};

TEST_CASE("FROM scratch is the empty image, cached without a store write", "[step_executor]") {
  TempStore store;
  TempDir context("kiln-step-context");
  const std::vector<StepRecord> records =
      StepBuilder(*store, context.path()).Build("FROM scratch\n");
  REQUIRE(records.size() == 1);
  const StepRecord& from = records[0];
  CHECK(from.image_id.empty());
  CHECK(from.cached);
  CHECK(from.content_key == ContentKey(EmptyImageConfig()));
  CHECK(from.key_parts == std::map<std::string, std::string>{{"base", from.content_key}});
  CHECK_FALSE(from.cache_key.empty());
  CHECK(store->ListImages().empty());
}

TEST_CASE("config steps change the config and add no layer; WORKDIR creates its directory",
          "[step_executor]") {
  TempStore store;
  TempDir context("kiln-step-context");
  const std::vector<StepRecord> records =
      StepBuilder(*store, context.path())
          .Build("FROM scratch\nENV A=1 B=two\nLABEL team=store\nWORKDIR /app/src\n");
  REQUIRE(records.size() == 4);
  for (size_t i = 1; i < records.size(); ++i) {
    INFO("step " << i);
    CHECK_FALSE(records[i].cached);
    CHECK(Digest::TryParse(records[i].image_id));
    CHECK(store->GetImage(records[i].image_id)->intermediate);
    CHECK(records[i].key_parts.at("parent") == records[i - 1].content_key);
  }
  CHECK(store->GetImage(records[2].image_id)->parent == records[1].image_id);

  const json env_image = store->ReadConfig(records[1].image_id);
  CHECK(env_image["config"]["Env"] == json::array({"A=1", "B=two"}));
  CHECK(store->ReadManifest(records[1].image_id).layers.empty());
  CHECK(store->ReadManifest(records[2].image_id).layers.empty());

  const json last = store->ReadConfig(records[3].image_id);
  CHECK(last["config"]["Labels"] == json{{"team", "store"}});
  CHECK(last["config"]["WorkingDir"] == "/app/src");
  CHECK(last["history"].size() == 3);
  const std::vector<Descriptor> layers = store->ReadManifest(records[3].image_id).layers;
  REQUIRE(layers.size() == 1);  // the directories WORKDIR created
  CHECK(fs::is_directory(store->LayerDir(layers[0].digest) / "app/src"));
  CHECK(last["rootfs"]["diff_ids"] == json::array({layers[0].digest.String()}));
}

TEST_CASE("COPY from the context writes a layer keyed on the files it reads", "[step_executor]") {
  TempStore store;
  TempDir context("kiln-step-context");
  WriteFile(context / "hello.txt", "hello\n");
  WriteFile(context / "unrelated.txt", "not copied\n");
  StepBuilder builder(*store, context.path());
  const std::string dockerfile = "FROM scratch\nCOPY hello.txt /greeting/\n";

  const std::vector<StepRecord> first = builder.Build(dockerfile);
  const StepRecord& copy = first.at(1);
  CHECK_FALSE(copy.cached);
  CHECK_FALSE(copy.key_parts.at("inputs").empty());
  const std::vector<Descriptor> layers = store->ReadManifest(copy.image_id).layers;
  REQUIRE(layers.size() == 1);
  CHECK(layers[0].media_type == kMediaTypeLayer);
  CHECK(store->blobs().Verify(layers[0].digest));
  // The tree the step built became the unpacked layer.
  CHECK(store->HasTrustedUnpackedLayer(layers[0].digest));
  CHECK(ReadWholeFile(store->LayerDir(layers[0].digest) / "greeting/hello.txt") == "hello\n");
  CHECK_FALSE(fs::exists(store->LayerDir(layers[0].digest) / "greeting/unrelated.txt"));

  // A file the step does not read changes nothing; one it reads changes the key.
  WriteFile(context / "unrelated.txt", "changed\n");
  const StepRecord again = builder.Build(dockerfile).at(1);
  CHECK(again.cached);
  CHECK(again.cache_key == copy.cache_key);
  WriteFile(context / "hello.txt", "hello, again\n");
  const StepRecord changed = builder.Build(dockerfile).at(1);
  CHECK_FALSE(changed.cached);
  CHECK(changed.key_parts.at("inputs") != copy.key_parts.at("inputs"));
  CHECK(changed.cache_key != copy.cache_key);
  CHECK(changed.content_key != copy.content_key);
}

TEST_CASE("the step cache reuses equal steps and keys on what changed", "[step_executor]") {
  TempStore store;
  TempDir context("kiln-step-context");
  StepBuilder builder(*store, context.path());
  const std::string dockerfile = "FROM scratch\nENV MODE=fast\nLABEL stage=one\n";

  const std::vector<StepRecord> first = builder.Build(dockerfile);
  const std::vector<StepRecord> second = builder.Build(dockerfile);
  for (size_t i = 1; i < first.size(); ++i) {
    INFO("step " << i);
    CHECK_FALSE(first[i].cached);
    CHECK(second[i].cached);
    CHECK(second[i].cache_key == first[i].cache_key);
    CHECK(second[i].content_key == first[i].content_key);
    CHECK(second[i].image_id == first[i].image_id);
  }

  // Another ENV value: another key for that step and every step after it.
  const std::vector<StepRecord> other =
      builder.Build("FROM scratch\nENV MODE=slow\nLABEL stage=one\n");
  CHECK_FALSE(other[1].cached);
  CHECK(other[1].cache_key != first[1].cache_key);
  CHECK(other[1].key_parts.at("instruction") != first[1].key_parts.at("instruction"));
  CHECK(other[2].key_parts.at("parent") != first[2].key_parts.at("parent"));
  CHECK(other[2].cache_key != first[2].cache_key);

  // --no-cache runs the step again under the same key.
  StepSettings no_cache;
  no_cache.no_cache = true;
  const std::vector<StepRecord> rerun = builder.Build(dockerfile, no_cache);
  CHECK_FALSE(rerun[1].cached);
  CHECK(rerun[1].cache_key == first[1].cache_key);
  CHECK(rerun[1].content_key == first[1].content_key);

  // The records keep their fields through the build directory's JSON.
  const StepRecord read_back = StepRecordFromJson(StepRecordToJson(second[2]));
  CHECK(read_back.cache_key == second[2].cache_key);
  CHECK(read_back.image_id == second[2].image_id);
  CHECK(read_back.content_key == second[2].content_key);
  CHECK(read_back.cached);
  CHECK(read_back.key_parts == second[2].key_parts);
}

TEST_CASE("a fixed SOURCE_DATE_EPOCH gives the same image ids in another store",
          "[step_executor]") {
  TempDir context("kiln-step-context");
  WriteFile(context / "f", "content\n");
  StepSettings settings;
  settings.source_date_epoch = 1700000000;
  const std::string dockerfile = "FROM scratch\nCOPY f /f\nENV X=1\n";
  TempStore one, two;
  const StepRecord a = StepBuilder(*one, context.path()).Build(dockerfile, settings).back();
  const StepRecord b = StepBuilder(*two, context.path()).Build(dockerfile, settings).back();
  CHECK(a.image_id == b.image_id);
  CHECK(a.cache_key == b.cache_key);
  CHECK(one->ReadConfig(a.image_id)["created"] == "2023-11-14T22:13:20Z");
}

TEST_CASE("FinishImage promotes the last step's image or adds the build's labels",
          "[step_executor]") {
  TempStore store;
  TempDir context("kiln-step-context");
  const StepRecord last =
      StepBuilder(*store, context.path()).Build("FROM scratch\nENV A=1\n").back();
  REQUIRE(store->GetImage(last.image_id)->intermediate);

  CHECK(FinishImage(*store, last.image_id, {}, std::nullopt) == last.image_id);
  CHECK_FALSE(store->GetImage(last.image_id)->intermediate);

  const std::string labelled = FinishImage(*store, last.image_id, {{"version", "2"}}, 0);
  CHECK(labelled != last.image_id);
  const std::optional<ImageRecord> record = store->GetImage(labelled);
  REQUIRE(record);
  CHECK_FALSE(record->intermediate);
  CHECK(record->parent == last.image_id);
  const json config = store->ReadConfig(labelled);
  CHECK(config["config"]["Labels"] == json{{"version", "2"}});
  CHECK(config["config"]["Env"] == json::array({"A=1"}));
}

TEST_CASE("RUN executes in a container on the parent's layers", "[step_executor][runtime]") {
  if (const std::optional<std::string> missing = test::ContainerPrerequisiteMissing()) {
    WARN("skipping RUN: " << *missing);
    return;
  }
  TempStore store;
  TempDir context("kiln-step-context");
  fs::copy_file("/bin/busybox", context / "busybox");
  StepBuilder builder(*store, context.path());
  const std::string dockerfile =
      "FROM scratch\n"
      "COPY busybox /bin/busybox\n"
      "ENV GREETING=hi\n"
      "RUN [\"/bin/busybox\", \"sh\", \"-c\", \"echo $GREETING > /out.txt\"]\n";
  const std::vector<StepRecord> records = builder.Build(dockerfile);
  const StepRecord& run = records.at(3);
  CHECK_FALSE(run.cached);
  const std::vector<Descriptor> layers = store->ReadManifest(run.image_id).layers;
  REQUIRE(layers.size() == 2);  // busybox, then what RUN wrote
  // The layer holds what the command wrote.
  const std::vector<fs::path> dirs = UnpackedLowerDirs(*store, layers);  // top-most first
  CHECK(ReadWholeFile(dirs.at(0) / "out.txt") == "hi\n");
  CHECK_FALSE(fs::exists(dirs.at(0) / "bin/busybox"));

  const StepRecord again = builder.Build(dockerfile).at(3);
  CHECK(again.cached);
  CHECK(again.image_id == run.image_id);

  // A failing command is the user's error, with the command's exit code.
  CHECK_THROWS_AS(builder.Build("FROM scratch\nCOPY busybox /bin/busybox\n"
                                "RUN [\"/bin/busybox\", \"false\"]\n"),
                  StepError);
}

}  // namespace
}  // namespace kiln
