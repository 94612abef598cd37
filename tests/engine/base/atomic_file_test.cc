#include "engine/base/atomic_file.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <system_error>

#include "tests/engine/context/copy_test_support.h"

namespace kiln {
namespace {

namespace fs = std::filesystem;
using testing::ReadFile;
using testing::TempDir;
using testing::WriteFile;

/// The names in `dir`.
std::vector<std::string> Names(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) names.push_back(entry.path().filename());
  std::sort(names.begin(), names.end());
  return names;
}

TEST_CASE("AtomicFileWriter: nothing shows at the target before Commit, all of it after",
          "[atomic_file]") {
  TempDir dir;
  WriteFile(dir / "target", "old");
  AtomicFileWriter writer(dir.path());
  writer.Write("new ");
  writer.Write(std::string_view("content"));
  CHECK(ReadFile(dir / "target") == "old");
  const fs::path temp = writer.temp_path();
  CHECK(temp.parent_path() == dir.path());
  writer.Commit(dir / "target");
  CHECK(ReadFile(dir / "target") == "new content");
  CHECK_FALSE(fs::exists(temp));
  CHECK(writer.fd() == -1);
  CHECK(Names(dir.path()) == std::vector<std::string>{"target"});
  struct stat st;
  REQUIRE(::stat((dir / "target").c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0644);
}

TEST_CASE("AtomicFileWriter: Discard and the destructor leave no temporary file", "[atomic_file]") {
  TempDir dir;
  {
    AtomicFileWriter writer(dir.path());
    writer.Write("abandoned");
    CHECK(Names(dir.path()).size() == 1);
    writer.Discard();
    CHECK(Names(dir.path()).empty());
    writer.Discard();  // idempotent
  }
  {
    AtomicFileWriter writer(dir.path());
    writer.Write("abandoned");
    AtomicFileWriter moved = std::move(writer);  // the moved-from writer owns nothing
  }
  CHECK(Names(dir.path()).empty());
}

TEST_CASE("WriteFileAtomic replaces a file, synced or not", "[atomic_file]") {
  TempDir dir;
  WriteFileAtomic(dir / "a", "first");
  CHECK(ReadFile(dir / "a") == "first");
  WriteFileAtomic(dir / "a", "second", {}, Durability::kUnsynced);
  CHECK(ReadFile(dir / "a") == "second");
  fs::create_directory(dir / "tmp");
  WriteFileAtomic(dir / "a", "third", dir / "tmp");
  CHECK(ReadFile(dir / "a") == "third");
  CHECK(Names(dir.path()) == std::vector<std::string>{"a", "tmp"});
  CHECK(Names(dir / "tmp").empty());
  CHECK_THROWS_AS(WriteFileAtomic(dir / "missing/a", "x"), std::system_error);
}

TEST_CASE("ReadWholeFile reads everything and names the path in errors", "[atomic_file]") {
  TempDir dir;
  const std::string big(300'000, 'z');
  WriteFile(dir / "big", big);
  CHECK(ReadWholeFile(dir / "big") == big);
  WriteFile(dir / "empty", "");
  CHECK(ReadWholeFile(dir / "empty").empty());
  const fs::path missing = dir / "missing";
  CHECK_THROWS_AS(ReadWholeFile(missing), std::system_error);
  CHECK_THROWS_WITH(ReadWholeFile(missing),
                    "cannot open " + missing.string() + ": No such file or directory");
  CHECK_THROWS_WITH(ReadWholeFile(dir.path()),
                    Catch::Contains("cannot read " + dir.path().string()));
}

TEST_CASE("ReadRegularFileIfPresent: regular files only, symlinks not followed", "[atomic_file]") {
  TempDir dir;
  WriteFile(dir / "file", "text");
  fs::create_symlink("file", dir / "link");
  fs::create_directory(dir / "sub");
  REQUIRE(::mkfifo((dir / "fifo").c_str(), 0600) == 0);
  CHECK(ReadRegularFileIfPresent(dir / "file") == "text");
  CHECK_FALSE(ReadRegularFileIfPresent(dir / "missing"));
  CHECK_FALSE(ReadRegularFileIfPresent(dir / "file/below"));
  CHECK_FALSE(ReadRegularFileIfPresent(dir / "link"));
  CHECK_FALSE(ReadRegularFileIfPresent(dir / "sub"));
  CHECK_FALSE(ReadRegularFileIfPresent(dir / "fifo"));  // without waiting for a writer
}

}  // namespace
}  // namespace kiln
