#include "engine/run/overlay_mount.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <sstream>

#include <catch2/catch.hpp>

#include "tests/engine/run/runtime_test_support.h"

namespace kiln {
namespace {

namespace fs = std::filesystem;
using test::ReadTextFile;
using test::TreeEntries;
using test::WriteTextFile;
using testing::TempDir;

/// Whiteouts and opaque markers need root (mknod, trusted.* xattrs).
bool NeedRoot() {
  if (::geteuid() == 0) return false;
  WARN("skipping: overlay whiteouts need root");
  return true;
}

void Whiteout(const fs::path& path) {
  fs::create_directories(path.parent_path());
  REQUIRE(::mknod(path.c_str(), S_IFCHR | 0, makedev(0, 0)) == 0);
}

void Opaque(const fs::path& dir) {
  fs::create_directories(dir);
  REQUIRE(::setxattr(dir.c_str(), "trusted.overlay.opaque", "y", 1, 0) == 0);
}

bool IsOpaque(const fs::path& dir) {
  char value = 0;
  return ::getxattr(dir.c_str(), "trusted.overlay.opaque", &value, 1) == 1 && value == 'y';
}

/// Three layers (top-most first): bottom has a, d/x, d/y, e/z, keep/k; middle deletes a and
/// makes d opaque with d/w; top deletes e/z and adds e/new.
struct LayerStack {
  TempDir scratch{"kiln-layers"};
  std::vector<fs::path> layers;

  LayerStack() {
    fs::path bottom = scratch.path() / "bottom", middle = scratch.path() / "middle",
             top = scratch.path() / "top";
    WriteTextFile(bottom / "a", "a");
    WriteTextFile(bottom / "d/x", "x");
    WriteTextFile(bottom / "d/y", "y");
    WriteTextFile(bottom / "e/z", "z");
    WriteTextFile(bottom / "keep/k", "k");
    Whiteout(middle / "a");
    Opaque(middle / "d");
    WriteTextFile(middle / "d/w", "w");
    Whiteout(top / "e/z");
    WriteTextFile(top / "e/new", "new");
    layers = {top, middle, bottom};
  }
};

const std::set<std::string> kMerged = {"d", "d/w", "e", "e/new", "keep", "keep/k"};

TEST_CASE("FindInLayers honours whiteouts and opaque directories", "[overlay]") {
  if (NeedRoot()) return;
  LayerStack stack;
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"a", ""},
      {"d/x", ""},
      {"d/w", "middle/d/w"},
      {"e/z", ""},
      {"e/new", "top/e/new"},
      {"keep/k", "bottom/keep/k"},
      {"missing", ""},
      {"keep/k/deeper", ""},
  };
  for (const auto& [relative, expected] : cases) {
    INFO(relative);
    auto found = FindInLayers(stack.layers, relative);
    if (expected.empty()) {
      CHECK_FALSE(found.has_value());
    } else {
      REQUIRE(found.has_value());
      CHECK(*found == stack.scratch.path() / expected);
    }
  }
}

TEST_CASE("MergeLayers applies whiteouts and opaque directories", "[overlay]") {
  if (NeedRoot()) return;
  LayerStack stack;
  fs::path merged = stack.scratch.path() / "merged";
  MergeLayers(stack.layers, merged);
  CHECK(TreeEntries(merged) == kMerged);
  CHECK(ReadTextFile(merged / "e/new") == "new");
  CHECK_FALSE(IsOpaque(merged / "d"));
}

TEST_CASE("CopyTree keeps metadata, symlinks and hard links", "[overlay]") {
  TempDir scratch;
  fs::path src = scratch.path() / "src";
  WriteTextFile(src / "dir/file", "content");
  fs::create_hard_link(src / "dir/file", src / "dir/link");
  fs::create_symlink("dir/file", src / "sym");
  fs::permissions(src / "dir/file", fs::perms(0640));
  struct timespec times[2] = {{1000, 5}, {2000, 7}};
  REQUIRE(::utimensat(AT_FDCWD, (src / "dir/file").c_str(), times, 0) == 0);
  CopyTree(src, scratch.path() / "dst");
  fs::path dst = scratch.path() / "dst";
  struct stat file {
  }, link{};
  REQUIRE(::lstat((dst / "dir/file").c_str(), &file) == 0);
  REQUIRE(::lstat((dst / "dir/link").c_str(), &link) == 0);
  CHECK(file.st_ino == link.st_ino);
  CHECK((file.st_mode & 07777) == 0640);
  CHECK(file.st_mtim.tv_sec == 2000);
  CHECK(file.st_mtim.tv_nsec == 7);
  CHECK(fs::read_symlink(dst / "sym") == "dir/file");
  CHECK(ReadTextFile(dst / "dir/file") == "content");
}

TEST_CASE("DiffTrees writes an overlay-style upper dir", "[overlay]") {
  if (NeedRoot()) return;
  TempDir scratch;
  fs::path base = scratch.path() / "base";
  WriteTextFile(base / "same/f", "same");
  WriteTextFile(base / "mod/f", "old");
  WriteTextFile(base / "gone/f", "x");
  WriteTextFile(base / "chmod/f", "x");
  WriteTextFile(base / "dir_to_file/f", "x");
  WriteTextFile(base / "file_to_dir", "x");
  fs::path rootfs = scratch.path() / "rootfs";
  CopyTree(base, rootfs);
  WriteTextFile(rootfs / "mod/f", "new content");
  fs::remove(rootfs / "gone/f");
  fs::permissions(rootfs / "chmod/f", fs::perms(0600));
  fs::remove_all(rootfs / "dir_to_file");
  WriteTextFile(rootfs / "dir_to_file", "now a file");
  fs::remove(rootfs / "file_to_dir");
  WriteTextFile(rootfs / "file_to_dir/inner", "inner");
  WriteTextFile(rootfs / "added/deep/f", "added");
  fs::create_hard_link(rootfs / "added/deep/f", rootfs / "added/link");

  fs::path upper = scratch.path() / "upper";
  DiffTrees(base, rootfs, upper);
  CHECK(TreeEntries(upper) == std::set<std::string>{"added", "added/deep", "added/deep/f",
                                                    "added/link", "chmod", "chmod/f", "dir_to_file",
                                                    "file_to_dir", "file_to_dir/inner", "gone",
                                                    "gone/f", "mod", "mod/f"});
  CHECK(ReadTextFile(upper / "mod/f") == "new content");
  CHECK(test::IsWhiteoutAt(upper / "gone/f"));
  CHECK(IsOpaque(upper / "file_to_dir"));
  CHECK_FALSE(IsOpaque(upper / "added"));
  CHECK(fs::equivalent(upper / "added/deep/f", upper / "added/link"));
  // Parent directories carry the changed tree's metadata, times included.
  struct stat want {
  }, got{};
  REQUIRE(::lstat((rootfs / "gone").c_str(), &want) == 0);
  REQUIRE(::lstat((upper / "gone").c_str(), &got) == 0);
  CHECK(want.st_mtim.tv_sec == got.st_mtim.tv_sec);
  CHECK(want.st_mtim.tv_nsec == got.st_mtim.tv_nsec);
}

TEST_CASE("an overlay mount shows the merged layers and records changes in the upper dir",
          "[overlay]") {
  if (NeedRoot()) return;
  LayerStack stack;
  fs::path scratch = stack.scratch.path() / "rw";
  std::optional<WritableRootfs> rootfs;
  rootfs.emplace(stack.layers, scratch);
  if (!rootfs->overlay()) {
    WARN("overlayfs unavailable, fallback in use: " << rootfs->fallback_reason());
  }
  CHECK(TreeEntries(rootfs->root()) == kMerged);
  fs::remove(rootfs->root() / "keep/k");
  WriteTextFile(rootfs->root() / "n", "n");
  fs::path upper = rootfs->Finish();
  CHECK(test::IsWhiteoutAt(upper / "keep/k"));
  CHECK(ReadTextFile(upper / "n") == "n");
  CHECK(TreeEntries(upper) == std::set<std::string>{"keep", "keep/k", "n"});
}

TEST_CASE("many long layer paths are mounted with short relative names", "[overlay]") {
  if (NeedRoot()) return;
  TempDir scratch;
  std::vector<fs::path> layers;
  const std::string long_name(120, 'l');
  for (int i = 0; i < 60; ++i) {
    fs::path layer = scratch.path() / (long_name + std::to_string(i));
    WriteTextFile(layer / ("file" + std::to_string(i)), std::to_string(i));
    layers.push_back(layer);
  }
  try {
    OverlayMount mount(layers, scratch.path() / "upper", scratch.path() / "work",
                       scratch.path() / "merged", scratch.path() / "l");
    CHECK(TreeEntries(scratch.path() / "merged").size() == 60);
    CHECK(ReadTextFile(scratch.path() / "merged/file59") == "59");
  } catch (const OverlayError& error) {
    WARN("overlayfs unavailable: " << error.what());
  }
  CHECK_THROWS_AS(
      OverlayMount(std::vector<fs::path>(kMaxOverlayLowers + 1, layers[0]), scratch.path() / "u",
                   scratch.path() / "w", scratch.path() / "m", scratch.path() / "l2"),
      OverlayError);
}

/// The mount options /proc/self/mountinfo lists for the mount at `target`.
std::string MountOptionsAt(const fs::path& target) {
  std::istringstream info(ReadTextFile("/proc/self/mountinfo"));
  for (std::string line; std::getline(info, line);) {
    std::istringstream fields(line);
    std::string id, parent, device, root, mount_point;
    fields >> id >> parent >> device >> root >> mount_point;
    if (mount_point == target.string()) return line.substr(line.rfind(' ') + 1);
  }
  return "";
}

TEST_CASE("only an upper that outlives its mount is synced on unmount, and work dirs remount",
          "[overlay]") {
  if (NeedRoot()) return;
  LayerStack stack;
  for (const UpperSync sync : {UpperSync::kNever, UpperSync::kOnUnmount}) {
    const fs::path scratch = stack.scratch.path() / (sync == UpperSync::kNever ? "v" : "d");
    for (int round = 0; round < 2; ++round) {  // the same work directory, mounted again
      WritableRootfs rootfs(stack.layers, scratch, sync);
      if (!rootfs.overlay() && round == 0) {
        WARN("overlayfs unavailable, fallback in use: " << rootfs.fallback_reason());
        return;
      }
      INFO("fallback reason: " << rootfs.fallback_reason());
      REQUIRE(rootfs.overlay());
      const std::string options = MountOptionsAt(rootfs.root());
      INFO("options: " << options);
      CHECK((options.find("volatile") != std::string::npos) == (sync == UpperSync::kNever));
      WriteTextFile(rootfs.root() / ("round" + std::to_string(round)), "x");
      CHECK(TreeEntries(rootfs.Finish()).count("round" + std::to_string(round)) == 1);
    }
  }
}

}  // namespace
}  // namespace kiln
