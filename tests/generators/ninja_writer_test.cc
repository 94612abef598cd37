#include "generators/ninja_writer.h"

#include <set>
#include <sstream>

#include <catch2/catch.hpp>

namespace kiln {
namespace {

Step MakeStep(int id, int stage, int parent, StepKind kind, std::string text) {
  Step s;
  s.id = id;
  s.stage = stage;
  s.parent = parent;
  s.kind = kind;
  s.instruction = text.substr(0, text.find(' '));
  s.text = text;
  s.value = text;  // distinct texts make distinct key texts
  return s;
}

/// Two stages: "base" (FROM scratch, COPY a /a) and the target (FROM base, COPY --from=0).
StepGraph TwoStageGraph() {
  StepGraph g;
  g.context = "/ctx";
  g.steps.push_back(MakeStep(0, 0, -1, StepKind::kFrom, "FROM scratch"));
  g.steps[0].base_image = "scratch";
  g.steps.push_back(MakeStep(1, 0, 0, StepKind::kCopy, "COPY a /a"));
  g.steps[1].sources = {"a"};
  g.steps[1].destination = "/a";
  g.steps.push_back(MakeStep(2, 1, -1, StepKind::kFrom, "FROM busybox"));
  g.steps[2].base_image = "busybox";
  g.steps.push_back(MakeStep(3, 1, 2, StepKind::kCopy, "COPY --from=0 /a /b"));
  g.steps[3].from_stage = 0;
  g.steps.push_back(MakeStep(4, 1, 3, StepKind::kRun, "RUN make"));
  g.stages = {{0, "base", {0, 1}, {}}, {1, "", {2, 3, 4}, {0}}};
  g.target_stage = 1;
  return g;
}

/// The paths the `build` lines of `text` name (outputs, inputs, implicit and order-only ones),
/// unescaped, each once, and whether one depends on `always`: a reading of the written text
/// independent of the writer, to check what it reports against.
NinjaGraphFiles ReadBackGraphFiles(const std::string& text) {
  NinjaGraphFiles files;
  std::set<std::string> seen;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("build ", 0) != 0) continue;
    std::vector<std::string> words;
    std::string word;
    for (size_t i = 6; i <= line.size(); ++i) {
      const char c = i < line.size() ? line[i] : ' ';
      if (c == '$' && i + 1 < line.size()) {
        word.push_back(line[++i]);
      } else if (c == ' ' || c == ':') {
        if (!word.empty()) words.push_back(word);
        if (c == ':') words.push_back(":");
        word.clear();
      } else {
        word.push_back(c);
      }
    }
    bool after_colon = false, rule_seen = false;
    for (const std::string& w : words) {
      if (w == ":") {
        after_colon = true;
      } else if (after_colon && !rule_seen) {
        rule_seen = true;  // the rule's name
      } else if (w == "|" || w == "||") {
        continue;
      } else if (w == "always") {
        files.uses_always |= after_colon;
      } else if (seen.insert(w).second) {
        files.paths.push_back(w);
      }
    }
  }
  return files;
}

TEST_CASE("edge keys depend on content, not on position", "[ninja_writer]") {
  StepGraph g = TwoStageGraph();
  const auto keys = StepEdgeKeys(g);
  REQUIRE(keys.size() == 5);
  CHECK(keys[1] != keys[3]);
  StepGraph edited = g;
  edited.steps[1].sources = {"b"};
  const auto edited_keys = StepEdgeKeys(edited);
  CHECK(edited_keys[0] == keys[0]);
  CHECK(edited_keys[1] != keys[1]);
  CHECK(edited_keys[2] == keys[2]);  // FROM of the other stage does not read stage 0
  CHECK(edited_keys[3] != keys[3]);  // COPY --from=0 reads the edited stage
  CHECK(edited_keys[4] != keys[4]);
  edited.steps[1].line = 40;  // moving an instruction changes nothing
  CHECK(StepEdgeKeys(edited)[1] == edited_keys[1]);
}

TEST_CASE("only steps reading the context get an input set", "[ninja_writer]") {
  StepGraph g = TwoStageGraph();
  CHECK_FALSE(InputSetKey(g, g.steps[1]).empty());
  CHECK(InputSetKey(g, g.steps[3]).empty());
  CHECK(InputSetKey(g, g.steps[4]).empty());
  Step run = g.steps[4];
  run.mounts.push_back({"bind", "/src", -1, "", {}});
  CHECK_FALSE(InputSetKey(g, run).empty());
  StepGraph ignored = g;
  ignored.ignore_patterns = {"*.o"};
  CHECK(InputSetKey(ignored, g.steps[1]) != InputSetKey(g, g.steps[1]));
}

TEST_CASE("build.ninja has hashing, step and image edges with restat", "[ninja_writer]") {
  StepGraph g = TwoStageGraph();
  const auto keys = StepEdgeKeys(g);
  const std::string text =
      WriteNinjaFile({{"app", "graphs/app.json", &g, "images/app.iid"}},
                     {"/usr/bin/kiln", "/b", {"/ctx/Dockerfile"}, {"request.json"}, 2});
  const std::string input = InputDigestPath(InputSetKey(g, g.steps[1]));
  CHECK(text.find("build " + input +
                  ": hash | always\n  select = $ --select$ graphs/app.json$:1\n") !=
        std::string::npos);
  CHECK(text.find("build " + StepResultPath(keys[1]) + ": step " + input + " " +
                  StepResultPath(keys[0])) != std::string::npos);
  // FROM busybox names a store image: without the store's tag index, rechecked every build.
  CHECK(text.find("build " + StepResultPath(keys[2]) + ": step | always") != std::string::npos);
  CHECK(text.find("build " + StepResultPath(keys[4]) + ": run_step " + StepResultPath(keys[3])) !=
        std::string::npos);
  CHECK(text.find("build images/app.iid: image " + StepResultPath(keys[4]) + " | request.json") !=
        std::string::npos);
  CHECK(text.find("build build.ninja: regenerate | /ctx/Dockerfile") != std::string::npos);
  CHECK(text.find("restat = 1") != std::string::npos);
  CHECK(text.find("default app") != std::string::npos);
}

TEST_CASE("identical steps of two images are one edge", "[ninja_writer]") {
  StepGraph a = TwoStageGraph();
  StepGraph b = TwoStageGraph();
  b.steps[4].value = b.steps[4].text = "RUN make other";
  const std::string text = WriteNinjaFile(
      {{"a", "graphs/a.json", &a, "images/a.iid"}, {"b", "graphs/b.json", &b, "images/b.iid"}},
      {"/usr/bin/kiln", "/b", {}, {}, 2});
  const std::string shared = "build " + StepResultPath(StepEdgeKeys(a)[1]) + ":";
  const size_t first = text.find(shared);
  REQUIRE(first != std::string::npos);
  CHECK(text.find(shared, first + 1) == std::string::npos);
  CHECK(text.find("build " + StepResultPath(StepEdgeKeys(b)[4]) + ":") != std::string::npos);
}

TEST_CASE("steps naming a store image depend on its tag index", "[ninja_writer]") {
  StepGraph g = TwoStageGraph();
  const auto keys = StepEdgeKeys(g);
  NinjaOptions options{"/usr/bin/kiln", "/b", {}, {}, 2};
  options.tag_index = "/store/oci/index.json";
  const std::string text =
      WriteNinjaFile({{"app", "graphs/app.json", &g, "images/app.iid"}}, options);
  CHECK(text.find("build " + StepResultPath(keys[2]) + ": step | /store/oci/index.json\n") !=
        std::string::npos);
  CHECK(text.find("build " + StepResultPath(keys[0]) + ": step\n") !=
        std::string::npos);  // scratch

  StepGraph url = g;
  url.steps[1].kind = StepKind::kAdd;
  url.steps[1].sources = {"https://example.invalid/a.tgz"};
  const std::string add =
      WriteNinjaFile({{"app", "graphs/app.json", &url, "images/app.iid"}}, options);
  CHECK(add.find("build " + StepResultPath(StepEdgeKeys(url)[1]) + ": step " +
                 StepResultPath(keys[0]) + " | always\n") != std::string::npos);
}

TEST_CASE("steps naming a tag with a stamp depend on that stamp alone", "[ninja_writer]") {
  StepGraph g = TwoStageGraph();
  const auto keys = StepEdgeKeys(g);
  NinjaOptions options{"/usr/bin/kiln", "/b", {}, {}, 2};
  options.tag_index = "/store/oci/index.json";
  options.image_stamps = {{"busybox", "/store/tags/0123"}, {"other", "/store/tags/4567"}};
  const std::string text =
      WriteNinjaFile({{"app", "graphs/app.json", &g, "images/app.iid"}}, options);
  CHECK(text.find("build " + StepResultPath(keys[2]) + ": step | /store/tags/0123\n") !=
        std::string::npos);
  CHECK(text.find("index.json") == std::string::npos);
  CHECK(StoreImagesRead(g.steps[2]) == std::vector<std::string>{"busybox"});
  CHECK(StoreImagesRead(g.steps[0]).empty());  // scratch
}

TEST_CASE("the driver's file has no regenerate edge and hashes only when asked", "[ninja_writer]") {
  StepGraph g = TwoStageGraph();
  NinjaOptions options{"/usr/bin/kiln", "/b", {"/ctx/Dockerfile"}, {}, 2};
  options.for_driver = true;
  const std::string text =
      WriteNinjaFile({{"app", "graphs/app.json", &g, "images/app.iid"}}, options);
  const std::string input = InputDigestPath(InputSetKey(g, g.steps[1]));
  CHECK(text.find("build " + input + ": hash\n") != std::string::npos);
  CHECK(text.find("build build.ninja") == std::string::npos);
  const std::vector<HashEdge> edges = HashEdges({{"app", "graphs/app.json", &g, "images/app.iid"}});
  REQUIRE(edges.size() == 1);
  CHECK(edges[0].context == "/ctx");
  CHECK(edges[0].outputs == std::vector<std::string>{input});
  REQUIRE(edges[0].selections.size() == 1);
  CHECK(edges[0].selections[0].image == 0);
  CHECK(edges[0].selections[0].graph_file == "graphs/app.json");
  CHECK(edges[0].selections[0].steps == "1");
}

TEST_CASE("images sharing a context share one hashing edge", "[ninja_writer]") {
  StepGraph a = TwoStageGraph();
  StepGraph b = TwoStageGraph();
  b.steps[1].sources = {"b"};
  StepGraph other = TwoStageGraph();
  other.context = "/elsewhere";
  const std::string text = WriteNinjaFile({{"a", "graphs/a.json", &a, "images/a.iid"},
                                           {"b", "graphs/b.json", &b, "images/b.iid"},
                                           {"c", "graphs/c.json", &other, "images/c.iid"}},
                                          {"/usr/bin/kiln", "/b", {}, {}, 2});
  CHECK(text.find("select = $ --select$ graphs/a.json$:1$ --select$ graphs/b.json$:1\n") !=
        std::string::npos);
  CHECK(text.find("select = $ --select$ graphs/c.json$:1\n") != std::string::npos);
  size_t edges = 0;
  for (size_t at = text.find(": hash |"); at != std::string::npos;
       at = text.find(": hash |", at + 1))
    ++edges;
  CHECK(edges == 2);
}

TEST_CASE("the writer reports every file its statements name", "[ninja_writer]") {
  StepGraph g = TwoStageGraph();
  const auto keys = StepEdgeKeys(g);
  NinjaOptions options{"/usr/bin/kiln", "/b", {"/ctx/Dockerfile"}, {"request.json"}, 2};
  options.tag_index = "/store/oci/index.json";
  options.image_stamps = {{"busybox", "/store/tags/with space"}};
  options.for_driver = true;
  const std::vector<NinjaImage> images = {{"app", "graphs/app.json", &g, "images/app.iid"}};
  NinjaGraphFiles files;
  const std::string text = WriteNinjaFile(images, options, &files);

  CHECK_FALSE(files.uses_always);
  const NinjaGraphFiles read_back = ReadBackGraphFiles(text);
  CHECK(files.paths == read_back.paths);
  CHECK_FALSE(read_back.uses_always);
  const std::string input = InputDigestPath(InputSetKey(g, g.steps[1]));
  CHECK(files.paths == std::vector<std::string>{input, StepResultPath(keys[0]),
                                                StepResultPath(keys[1]), StepResultPath(keys[2]),
                                                "/store/tags/with space", StepResultPath(keys[3]),
                                                StepResultPath(keys[4]), "images/app.iid",
                                                "request.json", "app"});

  SECTION("a step that must always look again") {
    StepGraph url = g;
    url.steps[1].kind = StepKind::kAdd;
    url.steps[1].sources = {"https://example.invalid/a.tgz"};
    WriteNinjaFile({{"app", "graphs/app.json", &url, "images/app.iid"}}, options, &files);
    CHECK(files.uses_always);
  }
  SECTION("build.ninja, whose hashing runs every time and which regenerates itself") {
    options.for_driver = false;
    const std::string full = WriteNinjaFile(images, options, &files);
    CHECK(files.uses_always);
    CHECK(files.paths == ReadBackGraphFiles(full).paths);
    CHECK(files.paths.at(0) == "build.ninja");
    CHECK(files.paths.at(1) == "/ctx/Dockerfile");
  }
}

}  // namespace
}  // namespace kiln
