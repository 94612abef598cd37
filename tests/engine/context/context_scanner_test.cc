#include "engine/context/context_scanner.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <thread>

#include "engine/context/file_hash_cache.h"
#include "tests/engine/context/copy_test_support.h"

namespace kiln {
namespace {

using testing::TempDir;
using testing::TestMatcher;
using testing::WriteFile;

std::vector<std::string> Paths(const std::vector<ContextEntry>& entries) {
  std::vector<std::string> paths;
  for (const ContextEntry& entry : entries) paths.push_back(entry.path);
  return paths;
}

const ContextEntry& Find(const std::vector<ContextEntry>& entries, const std::string& path) {
  for (const ContextEntry& entry : entries) {
    if (entry.path == path) return entry;
  }
  FAIL("no entry " << path);
  throw std::logic_error("unreachable");
}

/// A small context: files, a sub directory, a symlink to a directory and one leaving the context.
void MakeContext(const TempDir& dir) {
  WriteFile(dir / "Dockerfile", "FROM scratch\n");
  WriteFile(dir / "a.txt", "alpha");
  WriteFile(dir / "a-b.txt", "dash");
  WriteFile(dir / "src/main.c", "int main() {}\n", 0755);
  WriteFile(dir / "src/lib/util.c", "void f() {}\n");
  std::filesystem::create_symlink("src", dir / "link-to-src");
  std::filesystem::create_symlink("../../etc", dir / "src/escape");
}

std::string DigestOf(const TempDir& dir, const std::vector<std::string>& sources) {
  const PathMatcher matcher = TestMatcher();
  return InputsDigest(
      SelectEntries(ScanContext(dir.path(), matcher, nullptr), sources, {}, matcher));
}

TEST_CASE("scan lists entries sorted, never following symlinks", "[context_scanner]") {
  TempDir dir;
  MakeContext(dir);
  const std::vector<ContextEntry> entries = ScanContext(dir.path(), TestMatcher(), nullptr);
  CHECK(Paths(entries) == std::vector<std::string>{"Dockerfile", "a-b.txt", "a.txt", "link-to-src",
                                                   "src", "src/escape", "src/lib", "src/lib/util.c",
                                                   "src/main.c"});
  const ContextEntry& link = Find(entries, "link-to-src");
  CHECK(link.type == EntryType::kSymlink);
  CHECK(link.link_target == "src");
  CHECK(link.content_hash.empty());
  CHECK(Find(entries, "src/escape").link_target == "../../etc");
  const ContextEntry& main_c = Find(entries, "src/main.c");
  CHECK(main_c.type == EntryType::kRegular);
  CHECK(main_c.mode == 0755);
  CHECK(main_c.size == 14);
  CHECK(main_c.content_hash.size() == 32);
  CHECK(Find(entries, "a.txt").content_hash != Find(entries, "a-b.txt").content_hash);
  CHECK(Find(entries, "src").type == EntryType::kDirectory);
}

TEST_CASE("scan honours ignore rules and descends only for exceptions", "[context_scanner]") {
  TempDir dir;
  MakeContext(dir);
  WriteFile(dir / "build/out.o", "obj");
  WriteFile(dir / "debug.log", "log");
  WriteFile(dir / "docs/keep.md", "keep");
  WriteFile(dir / "docs/drop.md", "drop");
  WriteFile(dir / "docs/deep/x.md", "x");
  const PathMatcher matcher = TestMatcher({"build", "*.log", "docs", "!docs/keep.md"});
  const std::vector<std::string> paths = Paths(ScanContext(dir.path(), matcher, nullptr));
  CHECK(std::find(paths.begin(), paths.end(), "build") == paths.end());
  CHECK(std::find(paths.begin(), paths.end(), "build/out.o") == paths.end());
  CHECK(std::find(paths.begin(), paths.end(), "debug.log") == paths.end());
  CHECK(std::find(paths.begin(), paths.end(), "docs") != paths.end());
  CHECK(std::find(paths.begin(), paths.end(), "docs/keep.md") != paths.end());
  CHECK(std::find(paths.begin(), paths.end(), "docs/drop.md") == paths.end());
  CHECK(std::find(paths.begin(), paths.end(), "docs/deep") == paths.end());
}

TEST_CASE("COPY input digests follow content, not mtimes", "[context_scanner]") {
  TempDir dir;
  MakeContext(dir);
  const std::vector<std::string> sources = {"src/"};
  const std::string before = DigestOf(dir, sources);
  CHECK(DigestOf(dir, sources) == before);

  SECTION("touch changes nothing") {
    const struct timespec times[2] = {{12345, 0}, {12345, 0}};
    REQUIRE(utimensat(AT_FDCWD, (dir / "src/main.c").c_str(), times, 0) == 0);
    CHECK(DigestOf(dir, sources) == before);
  }
  SECTION("a file outside the sources changes nothing") {
    WriteFile(dir / "a.txt", "changed");
    CHECK(DigestOf(dir, sources) == before);
  }
  SECTION("an edit changes it") {
    WriteFile(dir / "src/main.c", "int main() { return 1; }\n", 0755);
    CHECK(DigestOf(dir, sources) != before);
  }
  SECTION("adding a file changes it") {
    WriteFile(dir / "src/lib/new.c", "");
    CHECK(DigestOf(dir, sources) != before);
  }
  SECTION("removing a file changes it") {
    std::filesystem::remove(dir / "src/lib/util.c");
    CHECK(DigestOf(dir, sources) != before);
  }
  SECTION("renaming a file changes it") {
    std::filesystem::rename(dir / "src/lib/util.c", dir / "src/lib/util2.c");
    CHECK(DigestOf(dir, sources) != before);
  }
  SECTION("chmod changes it") {
    REQUIRE(chmod((dir / "src/lib/util.c").c_str(), 0600) == 0);
    CHECK(DigestOf(dir, sources) != before);
  }
  SECTION("retargeting a symlink changes it") {
    std::filesystem::remove(dir / "src/escape");
    std::filesystem::create_symlink("../etc", dir / "src/escape");
    CHECK(DigestOf(dir, sources) != before);
  }
}

TEST_CASE("InputsDigest does not depend on the order of entries", "[context_scanner]") {
  TempDir dir;
  MakeContext(dir);
  std::vector<ContextEntry> entries = ScanContext(dir.path(), TestMatcher(), nullptr);
  const std::string digest = InputsDigest(entries);
  std::reverse(entries.begin(), entries.end());
  CHECK(InputsDigest(entries) == digest);
  entries.pop_back();
  CHECK(InputsDigest(entries) != digest);
}

TEST_CASE("SelectEntries picks what each kind of source reads", "[context_scanner]") {
  TempDir dir;
  MakeContext(dir);
  WriteFile(dir / "docs/readme.md", "r");
  const PathMatcher matcher = TestMatcher();
  const std::vector<ContextEntry> entries = ScanContext(dir.path(), matcher, nullptr);
  struct Case {
    std::vector<std::string> sources;
    std::vector<std::string> excludes;
    std::vector<std::string> expected;
  };
  const std::vector<Case> cases = {
      {{"src/"}, {}, {"src", "src/escape", "src/lib", "src/lib/util.c", "src/main.c"}},
      {{"*.txt"}, {}, {"a-b.txt", "a.txt"}},
      {{"src/lib/util.c"}, {}, {"src/lib/util.c"}},
      {{"../../a.txt"}, {}, {"a.txt"}},
      {{"/src/./lib"}, {}, {"src/lib", "src/lib/util.c"}},
      {{"a.txt", "a.txt", "a-b.txt"}, {}, {"a-b.txt", "a.txt"}},
      // Patterns without '/' match at the top of the source only, like .dockerignore.
      {{"src"}, {"*.c"}, {"src", "src/escape", "src/lib", "src/lib/util.c"}},
      {{"src"}, {"lib"}, {"src", "src/escape", "src/main.c"}},
      {{"*.txt"}, {"a-*"}, {"a.txt"}},
      // A symlink source is followed inside the context.
      {{"link-to-src/lib"}, {}, {"src/lib", "src/lib/util.c"}},
  };
  for (const Case& c : cases) {
    INFO("sources " << c.sources.front());
    CHECK(Paths(SelectEntries(entries, c.sources, c.excludes, matcher)) == c.expected);
  }
  CHECK(SelectEntries(entries, {"."}, {}, matcher).size() == entries.size());
}

TEST_CASE("a source matching nothing is Docker's not-found error", "[context_scanner]") {
  TempDir dir;
  MakeContext(dir);
  WriteFile(dir / "secret.key", "k");
  const PathMatcher matcher = TestMatcher({"secret.key"});
  const std::vector<ContextEntry> entries = ScanContext(dir.path(), matcher, nullptr);
  CHECK_THROWS_WITH(SelectEntries(entries, {"/missing.txt"}, {}, matcher),
                    "COPY failed: file not found in build context or excluded by .dockerignore: "
                    "stat missing.txt: file does not exist");
  CHECK_THROWS_AS(SelectEntries(entries, {"*.none"}, {}, matcher), SourceNotFoundError);
  CHECK_THROWS_AS(SelectEntries(entries, {"secret.key"}, {}, matcher), SourceNotFoundError);
  CHECK_THROWS_WITH(SelectEntries(entries, {"src/escape"}, {}, matcher, "ADD"),
                    "ADD failed: file not found in build context or excluded by .dockerignore: "
                    "stat src/escape: file does not exist");
}

TEST_CASE("the hash cache avoids re-reading unchanged files",
          "[context_scanner][file_hash_cache]") {
  TempDir dir;
  TempDir build;
  MakeContext(dir);
  // Files changed within the racy window of a read are never recorded: let the clock move on.
  std::this_thread::sleep_for(std::chrono::milliseconds(60));
  const std::filesystem::path cache_file = build / "context.hashes";
  const PathMatcher matcher = TestMatcher();

  FileHashCache first = FileHashCache::Load(cache_file);
  const std::vector<ContextEntry> cold = ScanContext(dir.path(), matcher, &first);
  CHECK(first.files_read() == 5);
  first.Save();
  REQUIRE(std::filesystem::exists(cache_file));

  FileHashCache second = FileHashCache::Load(cache_file);
  CHECK(second.size() == 5);
  const std::vector<ContextEntry> warm = ScanContext(dir.path(), matcher, &second);
  CHECK(second.files_read() == 0);
  CHECK(InputsDigest(warm) == InputsDigest(cold));

  WriteFile(dir / "a.txt", "alphA");  // same size, new content
  FileHashCache third = FileHashCache::Load(cache_file);
  const std::vector<ContextEntry> edited = ScanContext(dir.path(), matcher, &third);
  CHECK(third.files_read() == 1);
  CHECK(InputsDigest(edited) != InputsDigest(cold));
}

/// User and system CPU time of this process, in milliseconds.
std::pair<double, double> CpuMs() {
  struct rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  auto ms = [](const struct timeval& tv) {
    return static_cast<double>(tv.tv_sec) * 1e3 + static_cast<double>(tv.tv_usec) / 1e3;
  };
  return {ms(usage.ru_utime), ms(usage.ru_stime)};
}

// Run explicitly: `kiln_engine_tests "[.perf]"`; creates 100,000 files (or scans the directory
// named by $KILN_PERF_CONTEXT, which must not be written meanwhile).
TEST_CASE("no-op scan of 100,000 files is fast", "[.perf]") {
  TempDir dir;
  TempDir build;
  std::filesystem::path context = dir.path();
  if (const char* given = std::getenv("KILN_PERF_CONTEXT")) {
    context = given;
  } else {
    for (int d = 0; d < 100; ++d) {
      const std::filesystem::path sub = dir / std::string("d").append(std::to_string(d));
      std::filesystem::create_directory(sub);
      for (int f = 0; f < 1000; ++f) {
        std::ofstream(sub / ("file" + std::to_string(f) + ".txt")) << f;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(60));
  }
  const std::filesystem::path cache_file = build / "cache.bin";
  const PathMatcher matcher = TestMatcher();
  {
    FileHashCache cache = FileHashCache::Load(cache_file);
    ScanContext(context, matcher, &cache);
    cache.Save();
  }
  for (int run = 0; run < 3; ++run) {
    const auto [user_start, system_start] = CpuMs();
    const auto start = std::chrono::steady_clock::now();
    FileHashCache cache = FileHashCache::Load(cache_file);
    const auto loaded = std::chrono::steady_clock::now();
    const std::vector<ContextEntry> entries = ScanContext(context, matcher, &cache);
    const auto scanned = std::chrono::steady_clock::now();
    const std::string digest = InputsDigest(entries);
    cache.Save();
    const auto end = std::chrono::steady_clock::now();
    const auto [user_end, system_end] = CpuMs();
    const double user_ms = user_end - user_start;
    const double system_ms = system_end - system_start;
    auto ms = [](auto d) {
      return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
    };
    WARN("no-op scan of " << entries.size() << " entries: " << ms(end - start) << " ms (load "
                          << ms(loaded - start) << ", scan " << ms(scanned - loaded)
                          << ", digest+save " << ms(end - scanned) << "); CPU user " << user_ms
                          << " ms, system " << system_ms << " ms");
    CHECK(cache.files_read() == 0);
    // The machine running the tests may be shared by parallel builds, and its system-call cost
    // (lstat of every file) is not ours: bound the user CPU time and the wall time generously.
    CHECK(user_ms < 150);
    CHECK(ms(end - start) < 3000);
  }
}

}  // namespace
}  // namespace kiln
