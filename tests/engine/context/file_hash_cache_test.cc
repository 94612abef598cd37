#include "engine/context/file_hash_cache.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <thread>

#include "engine/base/hash.h"
#include "tests/engine/context/copy_test_support.h"

namespace kiln {
namespace {

using testing::TempDir;
using testing::WriteFile;

/// Hashes `name` in `dir` through `cache`, as the scanner does.
std::string HashIn(FileHashCache& cache, const TempDir& dir, const std::string& name) {
  const int fd = open(dir.path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  REQUIRE(fd >= 0);
  struct stat st;
  REQUIRE(fstatat(fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0);
  std::string hash = cache.Hash(fd, name.c_str(), name, st);
  close(fd);
  return hash;
}

void LetClockPass() {
  std::this_thread::sleep_for(std::chrono::milliseconds(60));
}

TEST_CASE("hashes are xxHash3-128 of the contents", "[file_hash_cache]") {
  TempDir dir;
  WriteFile(dir / "f", "hello");
  FileHashCache cache;
  CHECK(HashIn(cache, dir, "f") == CacheKey("hello"));
  CHECK(cache.files_read() == 1);
}

TEST_CASE("records persist and spare reads of unchanged files", "[file_hash_cache]") {
  TempDir dir;
  WriteFile(dir / "a", "one");
  WriteFile(dir / "b", "two");
  LetClockPass();
  const std::filesystem::path file = dir / "cache/hashes.bin";
  {
    FileHashCache cache = FileHashCache::Load(file);
    HashIn(cache, dir, "a");
    HashIn(cache, dir, "b");
    CHECK(cache.files_read() == 2);
    HashIn(cache, dir, "a");
    CHECK(cache.files_read() == 2);
    cache.Save();
  }
  FileHashCache loaded = FileHashCache::Load(file);
  CHECK(loaded.size() == 2);
  CHECK(HashIn(loaded, dir, "a") == CacheKey("one"));
  CHECK(loaded.files_read() == 0);

  SECTION("unused records are dropped on save") {
    loaded.Save();
    CHECK(FileHashCache::Load(file).size() == 1);
  }
  SECTION("a cache saved over the file it was loaded from goes on serving and saving") {
    loaded.Save();  // replaces the file whose records `loaded` still holds
    CHECK(HashIn(loaded, dir, "a") == CacheKey("one"));
    CHECK(HashIn(loaded, dir, "b") == CacheKey("two"));
    CHECK(loaded.files_read() == 1);
    loaded.Save();
    FileHashCache again = FileHashCache::Load(file);
    CHECK(again.size() == 2);
    CHECK(HashIn(again, dir, "a") == CacheKey("one"));
    CHECK(HashIn(again, dir, "b") == CacheKey("two"));
    CHECK(again.files_read() == 0);
  }
  SECTION("a rewrite with the same size is read again") {
    WriteFile(dir / "b", "TWO");
    CHECK(HashIn(loaded, dir, "b") == CacheKey("TWO"));
    CHECK(loaded.files_read() == 1);
  }
  SECTION("a replaced inode is read again") {
    WriteFile(dir / "b2", "two");
    std::filesystem::rename(dir / "b2", dir / "b");
    HashIn(loaded, dir, "b");
    CHECK(loaded.files_read() == 1);
  }
}

TEST_CASE("lookups in another order than the saved one still hit", "[file_hash_cache]") {
  TempDir dir;
  for (const char* name : {"a", "b", "c"}) WriteFile(dir / name, name);
  LetClockPass();
  const std::filesystem::path file = dir / "hashes";
  FileHashCache first = FileHashCache::Load(file);
  for (const char* name : {"a", "b", "c"}) HashIn(first, dir, name);
  first.Save();
  FileHashCache second = FileHashCache::Load(file);
  for (const char* name : {"c", "a", "b"}) CHECK(HashIn(second, dir, name) == CacheKey(name));
  CHECK(second.files_read() == 0);
  second.Save();
  FileHashCache third = FileHashCache::Load(file);
  CHECK(third.size() == 3);
  for (const char* name : {"c", "a", "b"}) HashIn(third, dir, name);
  CHECK(third.files_read() == 0);
}

TEST_CASE("files changed just before the read are not recorded", "[file_hash_cache]") {
  TempDir dir;
  WriteFile(dir / "fresh", "new");
  FileHashCache cache(dir / "hashes");
  HashIn(cache, dir, "fresh");
  HashIn(cache, dir, "fresh");
  CHECK(cache.files_read() == 2);
  CHECK(cache.size() == 0);
}

TEST_CASE("a damaged or missing cache file gives an empty cache", "[file_hash_cache]") {
  TempDir dir;
  WriteFile(dir / "cache", "KILNFHC1 garbage that is not a cache");
  CHECK(FileHashCache::Load(dir / "cache").size() == 0);
  CHECK(FileHashCache::Load(dir / "missing").size() == 0);

  WriteFile(dir / "a", "one");
  LetClockPass();
  FileHashCache cache = FileHashCache::Load(dir / "good");
  HashIn(cache, dir, "a");
  cache.Save();
  const std::string bytes = testing::ReadFile(dir / "good");
  WriteFile(dir / "truncated", bytes.substr(0, bytes.size() - 3));
  CHECK(FileHashCache::Load(dir / "truncated").size() == 0);
}

}  // namespace
}  // namespace kiln
