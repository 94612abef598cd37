#include "engine/context/staging_tree.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "engine/base/unique_fd.h"
#include "tests/engine/context/copy_test_support.h"

namespace kiln {
namespace {

using testing::ListTree;
using testing::Lstat;
using testing::ReadFile;
using testing::TempDir;
using testing::WriteFile;

constexpr int64_t kSecond = 1'000'000'000;

/// A source tree and a staging tree beside it.
struct Trees {
  TempDir dir;
  std::filesystem::path source = dir / "source";
  std::filesystem::path staging = dir / "staging";

  Trees() { std::filesystem::create_directories(source); }
  UniqueFd SourceFd() const {
    return UniqueFd(::open(source.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  }
};

TEST_CASE("StagingTree copies entries with their metadata and keeps hard links", "[staging_tree]") {
  Trees t;
  WriteFile(t.source / "file", "content", 0600);
  std::filesystem::create_hard_link(t.source / "file", t.source / "hard");
  std::filesystem::create_symlink("file", t.source / "link");
  const UniqueFd source = t.SourceFd();

  StagingTree tree(t.staging);
  tree.MakeDirectory("dir", {0750, 0, 0, 5 * kSecond}, true);
  const StagedMetadata meta{0640, 0, 0, 7 * kSecond};
  for (const char* name : {"file", "hard", "link"}) {
    tree.CopyEntry(source.get(), name, std::string("dir/") + name, Lstat(t.source / name), meta);
  }
  tree.Finish();

  CHECK(ListTree(t.staging) ==
        std::vector<std::string>{"dir/", "dir/file", "dir/hard", "dir/link"});
  const struct stat file = Lstat(t.staging / "dir/file");
  CHECK(ReadFile(t.staging / "dir/file") == "content");
  CHECK((file.st_mode & 07777) == 0640);
  CHECK(file.st_mtim.tv_sec == 7);
  CHECK(Lstat(t.staging / "dir/hard").st_ino == file.st_ino);
  CHECK(std::filesystem::read_symlink(t.staging / "dir/link") == "file");
  // Directory metadata is applied last: writing into it did not move its time.
  const struct stat dir = Lstat(t.staging / "dir");
  CHECK((dir.st_mode & 07777) == 0750);
  CHECK(dir.st_mtim.tv_sec == 5);
}

TEST_CASE("StagingTree replaces what is staged, writes, moves in and merges", "[staging_tree]") {
  Trees t;
  StagingTree tree(t.staging);
  tree.MakeDirectory("a", {0755, 0, 0, kSecond}, true);
  tree.MakeDirectory("a/sub", {0755, 0, 0, kSecond}, true);
  tree.MakeDirectory("a-sibling", {0710, 0, 0, kSecond}, true);
  tree.WriteFile("a", "now a file", {0600, 0, 0, 2 * kSecond});  // the directory goes
  CHECK(ReadFile(t.staging / "a") == "now a file");

  WriteFile(t.dir / "download", "fetched");
  tree.MoveFileIn(t.dir / "download", "b", {0644, 0, 0, 3 * kSecond});
  CHECK_FALSE(std::filesystem::exists(t.dir / "download"));
  CHECK(Lstat(t.staging / "b").st_mtim.tv_sec == 3);

  tree.MakeDirectory("c", {0755, 0, 0, kSecond}, true);
  WriteFile(t.staging / "c/kept", "kept");
  WriteFile(t.dir / "unpacked/c/new", "new");
  WriteFile(t.dir / "unpacked/top", "top");
  tree.MergeIn(t.dir / "unpacked", "");
  CHECK(tree.RemoveIfEmpty("c") == false);
  tree.MakeDirectory("empty", {0755, 0, 0, kSecond}, true);
  CHECK(tree.RemoveIfEmpty("empty"));
  tree.Finish();  // "empty" is forgotten: applying its metadata would fail
  CHECK(ListTree(t.staging) ==
        std::vector<std::string>{"a", "a-sibling/", "b", "c/", "c/kept", "c/new", "top"});
  CHECK((Lstat(t.staging / "a").st_mode & 07777) == 0600);
  CHECK((Lstat(t.staging / "a-sibling").st_mode & 07777) == 0710);
}

}  // namespace
}  // namespace kiln
