// End-to-end: examples/monorepo, twelve services from one manifest in one ninja graph. ninja
// prints one status line per edge it runs, so counting lines counts step executions.
#include <algorithm>
#include <catch2/catch.hpp>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "tests/e2e/e2e_support.h"

namespace kiln::e2e {
namespace {
namespace fs = std::filesystem;

const std::vector<std::string> kServices = {"api",     "auth",     "billing",   "cart",
                                            "catalog", "gateway",  "inventory", "mailer",
                                            "orders",  "payments", "search",    "users"};
const std::vector<std::string> kBaseSteps = {
    "FROM kiln-busybox:latest AS base", "COPY base/ /srv/", "RUN sh /srv/bin/setup-layout",
    "RUN sh /srv/bin/install-service --self-test", "FROM base"};
const std::string kServiceRun =
    "RUN sh /srv/bin/install-service /srv/app && sh /srv/app/run --check";

/// The descriptions of the edges a ninja run printed ("[3/77] [2/9] COPY base/ /srv/" gives
/// "COPY base/ /srv/"; "[9/77] Writing image api" gives "Writing image api").
std::vector<std::string> EdgesRun(const std::string& ninja_output) {
  std::vector<std::string> edges;
  std::istringstream in(ninja_output);
  for (std::string line; std::getline(in, line);) {
    for (int prefix = 0; prefix < 2 && !line.empty() && line[0] == '['; ++prefix) {
      const size_t end = line.find("] ");
      if (end == std::string::npos) break;
      line.erase(0, end + 2);
      if (prefix == 0)
        edges.push_back(line);
      else
        edges.back() = line;
    }
  }
  return edges;
}

size_t Count(const std::vector<std::string>& edges, const std::string& text) {
  return std::count(edges.begin(), edges.end(), text);
}

/// The edges that did real work: steps other than FROM of a store image (which is rechecked on
/// every run in case its tag moved) and image writes; context hashing is left out too.
std::vector<std::string> WorkEdges(const std::vector<std::string>& edges) {
  std::vector<std::string> work;
  for (const std::string& e : edges)
    if (e.rfind("Hashing the context", 0) != 0 && e != kBaseSteps[0]) work.push_back(e);
  return work;
}

/// A copy of examples/monorepo, a store holding the busybox base, and a generated build dir.
class Monorepo {
 public:
  Monorepo() {
    BuildBusyboxBase(kiln_);
    fs::copy(fs::path(KILN_SOURCE_DIR) / "examples/monorepo", repo_.path(),
             fs::copy_options::recursive);
    const CommandResult r =
        kiln_({"generate", "--manifest", manifest(), "-o", out_.path().string()});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
  }

  /// Runs `ninja -C OUT -j2 [targets]` and returns the edges it ran.
  std::vector<std::string> Ninja(const std::vector<std::string>& targets = {}) {
    std::vector<std::string> argv = {"ninja", "-C", out_.path().string(), "-j2"};
    argv.insert(argv.end(), targets.begin(), targets.end());
    last_ = Run(argv, {{"KILN_ROOT", kiln_.root().string()}});
    INFO(last_.out << last_.err);
    REQUIRE(last_.exit_code == 0);
    return EdgesRun(last_.out);
  }

  /// The id `monorepo/NAME:dev` names in the store, or "" when it names nothing.
  std::string ImageId(const std::string& name) const {
    const CommandResult r = kiln_({"inspect", "--format", "{{.Id}}", "monorepo/" + name + ":dev"});
    return r.exit_code == 0 ? r.out.substr(0, r.out.find('\n')) : "";
  }
  std::map<std::string, std::string> ImageIds() const {
    std::map<std::string, std::string> ids;
    for (const std::string& name : kServices) ids[name] = ImageId(name);
    return ids;
  }

  void Write(const std::string& rel, const std::string& content) {
    // mtimes must move even on file systems with coarse timestamps
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    WriteFile(repo_ / rel, content);
  }

  std::string manifest() const { return (repo_ / "kiln.json").string(); }
  const fs::path& out() const { return out_.path(); }
  const Kiln& kiln() const { return kiln_; }
  const CommandResult& last() const { return last_; }

 private:
  Kiln kiln_;
  TempDir repo_{"kiln-monorepo"};
  TempDir out_{"kiln-monorepo-out"};
  CommandResult last_;
};

TEST_CASE("monorepo: the manifest lists twelve services on one base stage", "[e2e][monorepo]") {
  const fs::path example = fs::path(KILN_SOURCE_DIR) / "examples/monorepo";
  const std::string manifest = ReadFile(example / "kiln.json");
  std::string base_stage;
  for (const std::string& name : kServices) {
    INFO(name);
    CHECK(manifest.find("\"services/" + name + "/Dockerfile\"") != std::string::npos);
    const std::string dockerfile = ReadFile(example / "services" / name / "Dockerfile");
    const std::string stage = dockerfile.substr(0, dockerfile.find("\n\n"));
    if (base_stage.empty()) base_stage = stage;
    CHECK(stage == base_stage);  // the same text, so the same keys
  }
}

TEST_CASE("monorepo: the shared base stage is one edge per step", "[e2e][monorepo]") {
  KILN_REQUIRE_RUNTIME();
  Monorepo m;
  const std::string ninja = ReadFile(m.out() / "build.ninja");
  auto edges_with = [&](const std::string& what) {
    size_t n = 0;
    std::string escaped;  // ninja escapes spaces and colons in variable values
    for (char c : what) {
      if (c == ' ' || c == ':') escaped += '$';
      escaped += c;
    }
    for (size_t at = 0; (at = ninja.find("] " + escaped + "\n", at)) != std::string::npos; ++at)
      ++n;
    return n;
  };
  for (const std::string& step : kBaseSteps) {
    INFO(step);
    CHECK(edges_with(step) == 1);
  }
  CHECK(edges_with(kServiceRun) == kServices.size());
}

TEST_CASE("monorepo: ninja builds one image, then the rest without rebuilding the base",
          "[e2e][monorepo]") {
  KILN_REQUIRE_RUNTIME();
  Monorepo m;

  // One image by its manifest name: the base steps and api's own, nothing of the others.
  std::vector<std::string> ran = m.Ninja({"api"});
  for (const std::string& step : kBaseSteps) CHECK(Count(ran, step) == 1);
  CHECK(Count(ran, "COPY services/api/ /srv/app/") == 1);
  CHECK(Count(ran, kServiceRun) == 1);
  CHECK(Count(ran, "Writing image api") == 1);
  CHECK(Count(ran, "COPY services/auth/ /srv/app/") == 0);
  CHECK_FALSE(m.ImageId("api").empty());
  CHECK(m.ImageId("auth").empty());

  // Everything: the eleven other services in parallel on the base built above. Tagging api
  // moved no tag the base names, so not even its FROM looks again.
  ran = m.Ninja();
  for (const std::string& step : kBaseSteps) {
    INFO(step);
    CHECK(Count(ran, step) == 0);
  }
  CHECK(Count(ran, kServiceRun) == kServices.size() - 1);
  CHECK(Count(ran, "Writing image api") == 0);
  const std::map<std::string, std::string> ids = m.ImageIds();
  std::set<std::string> distinct;
  for (const auto& [name, id] : ids) {
    INFO(name);
    CHECK(id.rfind("sha256:", 0) == 0);
    CHECK(ReadFile(m.out() / "images" / (name + ".iid")).rfind(id, 0) == 0);
    distinct.insert(id);
  }
  CHECK(distinct.size() == kServices.size());

  // A second run does no work and changes no image.
  ran = m.Ninja();
  CHECK(WorkEdges(ran).empty());
  CHECK(m.ImageIds() == ids);

  // The images work: the base's layout, the service's launcher and config.
  const CommandResult run = m.kiln()({"run", "--rm", "monorepo/cart:dev"});
  INFO(run.err);
  CHECK(run.exit_code == 0);
  CHECK(run.err + run.out == "cart: keeps shopping carts, on port 8004\n");
}

TEST_CASE("monorepo: an edit in one service rebuilds only that image", "[e2e][monorepo]") {
  KILN_REQUIRE_RUNTIME();
  Monorepo m;
  m.Ninja();
  std::map<std::string, std::string> before = m.ImageIds();

  m.Write("services/cart/service.conf", "NAME=cart\nPORT=9004\nDESCRIPTION=\"keeps carts\"\n");
  const std::vector<std::string> ran = WorkEdges(m.Ninja());
  CHECK(ran == std::vector<std::string>{"COPY services/cart/ /srv/app/", kServiceRun, "USER srv",
                                        "CMD [\"/srv/app/run\"]", "Writing image cart"});
  std::map<std::string, std::string> after = m.ImageIds();
  CHECK(after["cart"] != before["cart"]);
  after["cart"] = before["cart"];
  CHECK(after == before);

  // A broken service fails the build at its RUN, and names the problem.
  m.Write("services/users/service.conf", "NAME=users\nPORT=eighty\n");
  std::vector<std::string> argv = {"ninja", "-C", m.out().string(), "-j2", "users"};
  const CommandResult broken = Run(argv, {{"KILN_ROOT", m.kiln().root().string()}});
  CHECK(broken.exit_code != 0);
  CHECK(broken.out.find("PORT must be a number, not 'eighty'") != std::string::npos);
}

TEST_CASE("monorepo: kiln build --manifest builds the images it names", "[e2e][monorepo]") {
  KILN_REQUIRE_RUNTIME();
  Monorepo m;
  m.Write("services/users/app.sh", "echo users v2\n");
  const CommandResult r =
      m.kiln()({"build", "--progress=plain", "--manifest", m.manifest(), "users", "mailer"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const std::vector<std::string> ran = RanSteps(r.err);
  CHECK(Count(ran, "RUN sh /srv/bin/setup-layout") == 1);  // shared: once for both
  CHECK(Count(ran, "COPY services/users/ /srv/app/") == 1);
  CHECK(Count(ran, "COPY services/mailer/ /srv/app/") == 1);
  CHECK(Count(ran, kServiceRun) == 2);
  CHECK(Count(ran, "COPY services/api/ /srv/app/") == 0);
  CHECK(r.err.find("naming to docker.io/monorepo/users:dev done") != std::string::npos);
  const std::string users = m.ImageId("users");
  CHECK_FALSE(users.empty());
  CHECK_FALSE(m.ImageId("mailer").empty());
  CHECK(m.ImageId("api").empty());

  // ninja's graph and kiln build share the store's step cache: ninja's build of users reuses
  // the results kiln build made and writes the same image.
  m.Ninja({"users"});
  CHECK(m.ImageId("users") == users);

  const CommandResult unknown = m.kiln()({"build", "--manifest", m.manifest(), "nosuchservice"});
  CHECK(unknown.exit_code == 1);
  CHECK(unknown.err.find("has no image nosuchservice") != std::string::npos);
}

}  // namespace
}  // namespace kiln::e2e
