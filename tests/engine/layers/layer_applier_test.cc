#include "engine/layers/layer_applier.h"

#include <catch2/catch.hpp>

#include "engine/layers/layer_writer.h"
#include "tests/engine/layers/layer_test_support.h"

namespace kiln {
namespace {

using namespace kiln::testing;

struct stat Lstat(const fs::path& path) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) throw std::runtime_error("lstat " + path.string());
  return st;
}

bool Exists(const fs::path& path) {
  return fs::exists(fs::symlink_status(path));
}

// Every path below `dir`, relative to it, sorted.
std::vector<std::string> Listing(const fs::path& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    out.push_back(e.path().lexically_relative(dir).string());
  std::sort(out.begin(), out.end());
  return out;
}

TEST_CASE("a written layer applies back with data, modes, links and mtimes", "[layer_applier]") {
  TempDir tmp;
  const fs::path src = tmp / "src";
  WriteFile(src / "etc/config", "key=value\n");
  WriteFile(src / "bin/tool", std::string(2 << 20, 't'));
  fs::permissions(src / "bin/tool", fs::perms(04755));
  fs::create_directories(src / "locked");
  WriteFile(src / "locked/inside", "i");
  fs::permissions(src / "locked", fs::perms(0555));
  fs::create_symlink("../etc/config", src / "bin/rel-link");
  fs::create_symlink("/etc/passwd", src / "abs-link");
  fs::create_hard_link(src / "etc/config", src / "bin/hard");
  REQUIRE(::mkfifo((src / "fifo").c_str(), 0640) == 0);
  for (const auto& e : fs::recursive_directory_iterator(src)) SetMtime(e.path(), 1234567890);
  SetMtime(src / "etc", 1111111111);
  WriteLayerToFile(src, tmp / "l.tar");

  const fs::path dest = tmp / "dest";
  ApplyLayer(tmp / "l.tar", dest, WhiteoutMode::kApply);

  CHECK(Listing(dest) == Listing(src));
  CHECK(ReadFile(dest / "bin/tool") == std::string(2 << 20, 't'));
  CHECK((Lstat(dest / "bin/tool").st_mode & 07777) == 04755);
  CHECK((Lstat(dest / "locked").st_mode & 07777) == 0555);
  CHECK(ReadFile(dest / "locked/inside") == "i");
  CHECK(fs::read_symlink(dest / "bin/rel-link") == "../etc/config");
  CHECK(fs::read_symlink(dest / "abs-link") == "/etc/passwd");
  CHECK(Lstat(dest / "bin/hard").st_ino == Lstat(dest / "etc/config").st_ino);
  CHECK(S_ISFIFO(Lstat(dest / "fifo").st_mode));
  CHECK((Lstat(dest / "fifo").st_mode & 07777) == 0640);
  CHECK(Lstat(dest / "bin/tool").st_mtime == 1234567890);
  CHECK(Lstat(dest / "bin/rel-link").st_mtime == 1234567890);
  CHECK(Lstat(dest / "etc").st_mtime == 1111111111);  // set after its children were written
  CHECK(Lstat(dest / "locked").st_mtime == 1234567890);
  fs::permissions(dest / "locked", fs::perms(0755));  // let TempDir clean up as non-root
  fs::permissions(src / "locked", fs::perms(0755));
}

TEST_CASE("long and non-UTF-8 names round-trip byte for byte", "[layer_applier]") {
  TempDir tmp;
  const std::string long_name = std::string(150, 'd') + "/" + std::string(150, 'f') + "\xc3\xa9";
  const std::string binary_name = std::string(110, 'b') + "\xff\xfe";
  WriteFile(tmp / "src" / long_name, "long");
  WriteFile(tmp / "src" / binary_name, "binary");
  WriteLayerToFile(tmp / "src", tmp / "l.tar");
  ApplyLayer(tmp / "l.tar", tmp / "dest", WhiteoutMode::kApply);
  CHECK(ReadFile(tmp / "dest" / long_name) == "long");
  CHECK(ReadFile(tmp / "dest" / binary_name) == "binary");
  CHECK(Listing(tmp / "dest") == Listing(tmp / "src"));
}

TEST_CASE("owners, devices and xattrs including security.capability survive a round trip",
          "[layer_applier]") {
  if (!IsRoot()) {
    WARN("skipped: owners, devices and security.capability need root");
    return;
  }
  TempDir tmp;
  const fs::path src = tmp / "src";
  WriteFile(src / "ping", "elf");
  fs::create_directories(src / "home/user");
  fs::create_symlink("ping", src / "ping-link");
  REQUIRE(::mknod((src / "null").c_str(), S_IFCHR | 0666, makedev(1, 3)) == 0);
  REQUIRE(::chown((src / "home/user").c_str(), 1000, 1000) == 0);
  REQUIRE(::lchown((src / "ping-link").c_str(), 42, 43) == 0);
  REQUIRE(::chown((src / "ping").c_str(), 7, 8) == 0);
  const std::string capability(
      "\x01\x00\x00\x02\x00\x20\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
      "\x00\x00\x00\x00",
      20);
  SetXattr(src / "ping", "security.capability", capability);
  SetXattr(src / "home/user", "user.tag", "home");
  WriteLayerToFile(src, tmp / "l.tar");

  const fs::path dest = tmp / "dest";
  ApplyLayer(tmp / "l.tar", dest, WhiteoutMode::kApply);
  CHECK(Lstat(dest / "home/user").st_uid == 1000);
  CHECK(Lstat(dest / "ping-link").st_uid == 42);
  CHECK(Lstat(dest / "ping-link").st_gid == 43);
  CHECK(Lstat(dest / "ping").st_uid == 7);
  CHECK(GetXattr(dest / "ping", "security.capability") == capability);
  CHECK(GetXattr(dest / "home/user", "user.tag") == "home");
  CHECK(Lstat(dest / "null").st_rdev == makedev(1, 3));
}

TEST_CASE("whiteouts and opaque markers delete lower entries in apply mode", "[layer_applier]") {
  TempDir tmp;
  const fs::path dest = tmp / "dest";
  for (const char* f : {"a/old", "a/keep", "b", "d/x", "d/sub/y", "e/lower", "s/lower"})
    WriteFile(dest / f, "lower");
  WriteTar(tmp / "l.tar", {{"a/", 'd'},
                           {"a/.wh.old", 'f'},
                           {".wh.b", 'f'},
                           {"d/", 'd'},
                           {"d/.wh..wh..opq", 'f'},
                           {"d/new", 'f', "new"},
                           // opaque marker after this layer's own entry: the entry stays
                           {"e/", 'd'},
                           {"e/mine", 'f', "mine"},
                           {"e/.wh..wh..opq", 'f'},
                           // a whiteout of an entry of the same layer does not delete it
                           {"s/", 'd'},
                           {"s/same", 'f', "same"},
                           {"s/.wh.same", 'f'},
                           {".wh.never-existed", 'f'},
                           {"nodir/.wh.x", 'f'}});
  ApplyLayer(tmp / "l.tar", dest, WhiteoutMode::kApply);
  CHECK(Listing(dest) == std::vector<std::string>{"a", "a/keep", "d", "d/new", "e", "e/mine", "s",
                                                  "s/lower", "s/same"});
}

TEST_CASE("a whited-out directory recreated in the same layer loses its lower contents",
          "[layer_applier]") {
  TempDir tmp;
  const fs::path dest = tmp / "dest";
  WriteFile(dest / "dir/lower", "lower");
  WriteTar(tmp / "l.tar", {{"dir/", 'd'}, {"dir/upper", 'f', "u"}, {".wh.dir", 'f'}});
  ApplyLayer(tmp / "l.tar", dest, WhiteoutMode::kApply);
  CHECK(Listing(dest) == std::vector<std::string>{"dir", "dir/upper"});
}

TEST_CASE("overlay mode writes whiteout devices and opaque xattrs", "[layer_applier]") {
  if (!IsRoot()) {
    WARN("skipped: whiteout devices and trusted.overlay.opaque need root");
    return;
  }
  TempDir tmp;
  const fs::path dest = tmp / "dest";
  WriteTar(tmp / "l.tar", {{"etc/", 'd'},
                           {"etc/.wh.gone", 'f'},
                           {"etc/opaque/", 'd'},
                           {"etc/opaque/.wh..wh..opq", 'f'},
                           {"etc/opaque/file", 'f', "f"},
                           {"etc/.wh.replaced", 'f'},
                           {"etc/replaced/", 'd'},
                           {"etc/.wh..wh.plnk", 'f'}});
  ApplyLayer(tmp / "l.tar", dest, WhiteoutMode::kOverlay);
  const struct stat gone = Lstat(dest / "etc/gone");
  CHECK(S_ISCHR(gone.st_mode));
  CHECK(gone.st_rdev == makedev(0, 0));
  CHECK(GetXattr(dest / "etc/opaque", "trusted.overlay.opaque") == "y");
  CHECK(ReadFile(dest / "etc/opaque/file") == "f");
  CHECK(GetXattr(dest / "etc", "trusted.overlay.opaque") == "<none>");
  // A directory replacing a whiteout hides the lower directory of that name.
  CHECK(S_ISDIR(Lstat(dest / "etc/replaced").st_mode));
  CHECK(GetXattr(dest / "etc/replaced", "trusted.overlay.opaque") == "y");
  CHECK(Listing(dest) == std::vector<std::string>{"etc", "etc/gone", "etc/opaque",
                                                  "etc/opaque/file", "etc/replaced"});
}

TEST_CASE("overlay xattrs inside a tar are not applied", "[layer_applier]") {
  if (!IsRoot()) {
    WARN("skipped: trusted.* xattrs need root");
    return;
  }
  TempDir tmp;
  WriteTar(tmp / "l.tar",
           {{"d/", 'd', "", 0755, 1, {{"trusted.overlay.redirect", "/x"}, {"user.ok", "1"}}}});
  ApplyLayer(tmp / "l.tar", tmp / "dest", WhiteoutMode::kOverlay);
  CHECK(GetXattr(tmp / "dest/d", "trusted.overlay.redirect") == "<none>");
  CHECK(GetXattr(tmp / "dest/d", "user.ok") == "1");
}

TEST_CASE("compressed layers are detected and unpacked", "[layer_applier]") {
  const std::string filter = GENERATE("none", "gzip", "bzip2", "xz", "zstd");
  INFO(filter);
  TempDir tmp;
  WriteTar(tmp / "l.tar", {{"dir/", 'd'}, {"dir/hello", 'f', "hello " + filter}}, filter);
  ApplyLayer(tmp / "l.tar", tmp / "dest", WhiteoutMode::kApply);
  CHECK(ReadFile(tmp / "dest/dir/hello") == "hello " + filter);
}

TEST_CASE("existing entries are replaced, whatever their type", "[layer_applier]") {
  TempDir tmp;
  const fs::path dest = tmp / "dest";
  WriteFile(dest / "file-to-dir", "old");
  WriteFile(dest / "dir-to-file/child", "old");
  WriteFile(dest / "kept/lower", "lower");
  WriteFile(tmp / "outside/target", "precious");
  fs::create_symlink(tmp / "outside/target", dest / "link-to-file");
  fs::create_directory_symlink(tmp / "outside", dest / "link-to-dir");
  WriteTar(tmp / "l.tar", {{"file-to-dir/", 'd'},
                           {"file-to-dir/f", 'f', "new"},
                           {"dir-to-file", 'f', "now a file"},
                           {"kept/", 'd', "", 0700},
                           {"kept/upper", 'f', "upper"},
                           {"link-to-file", 'f', "replaced, not followed"},
                           {"link-to-dir/", 'd'}});
  ApplyLayer(tmp / "l.tar", dest, WhiteoutMode::kApply);
  CHECK(ReadFile(dest / "file-to-dir/f") == "new");
  CHECK(ReadFile(dest / "dir-to-file") == "now a file");
  CHECK(ReadFile(dest / "kept/lower") == "lower");
  CHECK((Lstat(dest / "kept").st_mode & 0777) == 0700);
  CHECK(ReadFile(dest / "link-to-file") == "replaced, not followed");
  CHECK(S_ISDIR(Lstat(dest / "link-to-dir").st_mode));
  CHECK(ReadFile(tmp / "outside/target") == "precious");
  CHECK(Listing(tmp / "outside") == std::vector<std::string>{"target"});
}

TEST_CASE("names are cleaned before they are applied", "[layer_applier]") {
  TempDir tmp;
  WriteTar(tmp / "l.tar", {{"./", 'd', "", 0700},
                           {"./a/./b", 'f', "1"},
                           {"a//c", 'f', "2"},
                           {"a/x/../d", 'f', "3"},
                           {"e/", 'd'},
                           {"e/../f", 'f', "4"}});
  ApplyLayer(tmp / "l.tar", tmp / "dest", WhiteoutMode::kApply);
  CHECK(Listing(tmp / "dest") == std::vector<std::string>{"a", "a/b", "a/c", "a/d", "e", "f"});
  CHECK(ReadFile(tmp / "dest/a/d") == "3");
  CHECK(ReadFile(tmp / "dest/f") == "4");
  // The top directory's own entry does not touch dest's mode.
  CHECK((Lstat(tmp / "dest").st_mode & 0777) != 0700);
}

TEST_CASE("symlinks used as directories resolve inside the destination", "[layer_applier]") {
  TempDir tmp;
  const fs::path dest = tmp / "dest";
  fs::create_directories(dest / "usr/bin");
  fs::create_directories(dest / "run");
  fs::create_directory_symlink("usr/bin", dest / "bin");
  fs::create_directories(dest / "var");
  fs::create_directory_symlink("/run", dest / "var/run");  // absolute: rooted at dest
  fs::create_directory_symlink("/", dest / "root-link");
  WriteTar(tmp / "l.tar", {{"bin/tool", 'f', "t"},
                           {"var/run/pid", 'f', "1"},
                           {"root-link/etc/x", 'f', "x"},
                           {"hl", 'h', "root-link/etc/x"}});
  ApplyLayer(tmp / "l.tar", dest, WhiteoutMode::kApply);
  CHECK(ReadFile(dest / "usr/bin/tool") == "t");
  CHECK(ReadFile(dest / "run/pid") == "1");
  CHECK(ReadFile(dest / "etc/x") == "x");
  CHECK(Lstat(dest / "hl").st_ino == Lstat(dest / "etc/x").st_ino);
  CHECK_FALSE(Exists("/etc/x"));
}

struct MaliciousCase {
  const char* what;
  std::vector<TarSpec> entries;
  const char* message;
};

TEST_CASE("malicious layers are refused and nothing is written outside", "[layer_applier]") {
  // dest and sentinel are siblings in one temp dir, so "../sentinel" from dest hits the sentinel.
  const auto c = GENERATE(values<MaliciousCase>({
      {"dot-dot", {{"../evil", 'f', "x"}}, "layer entry \"../evil\": path escapes the destination"},
      {"dot-dot into the sentinel",
       {{"../sentinel/evil", 'f', "x"}},
       "layer entry \"../sentinel/evil\": path escapes the destination"},
      {"absolute", {{"/abs", 'f', "x"}}, "layer entry \"/abs\": path is absolute"},
      {"nested dot-dot",
       {{"a/", 'd'}, {"a/../../evil", 'f', "x"}},
       "layer entry \"a/../../evil\": path escapes the destination"},
      {"relative symlink climbing out",
       {{"link", 'l', "../.."}, {"link/evil", 'f', "x"}},
       "layer entry \"link/evil\": path escapes the destination through symlink \"link\""},
      {"symlink to the sentinel",
       {{"link", 'l', "../sentinel"}, {"link/evil", 'f', "x"}},
       "layer entry \"link/evil\": path escapes the destination through symlink \"link\""},
      {"chained symlinks climbing out",
       {{"a/", 'd'}, {"a/up", 'l', ".."}, {"a/up2", 'l', "up/.."}, {"a/up2/evil", 'f', "x"}},
       "layer entry \"a/up2/evil\": path escapes the destination through symlink \"a/up\""},
      {"absolute symlink then dot-dot",
       {{"link", 'l', "/../sentinel"}, {"link/evil", 'f', "x"}},
       "escapes the destination through symlink \"link\""},
      {"hard link out",
       {{"passwd", 'h', "../../etc/passwd"}},
       "layer entry \"passwd\": hard link target \"../../etc/passwd\" escapes the destination"},
      {"hard link absolute",
       {{"passwd", 'h', "/etc/passwd"}},
       "layer entry \"passwd\": hard link target \"/etc/passwd\" is absolute"},
      {"hard link through a symlink",
       {{"link", 'l', "../sentinel"}, {"grab", 'h', "link/file"}},
       "layer entry \"grab\": path escapes the destination through symlink \"link\""},
      {"hard link through an absolute symlink",
       {{"link", 'l', "/"}, {"passwd", 'h', "link/etc/passwd"}},
       "layer entry \"passwd\": hard link target \"link/etc/passwd\" does not exist"},
      {"symlink loop",
       {{"loop", 'l', "loop"}, {"loop/x", 'f', "x"}},
       "layer entry \"loop/x\": too many levels of symbolic links"},
      {"whiteout through a symlink",
       {{"link", 'l', "../sentinel"}, {"link/.wh.file", 'f'}},
       "layer entry \"link/.wh.file\": path escapes the destination through symlink \"link\""},
      {"opaque through a symlink",
       {{"link", 'l', "../sentinel"}, {"link/.wh..wh..opq", 'f'}},
       "layer entry \"link/.wh..wh..opq\": path escapes the destination through symlink"},
  }));
  INFO(c.what);
  TempDir tmp;
  WriteFile(tmp / "sentinel/file", "precious");
  WriteTar(tmp / "l.tar", c.entries);
  CHECK_THROWS_WITH(ApplyLayer(tmp / "l.tar", tmp / "dest", WhiteoutMode::kApply),
                    Catch::Contains(c.message));
  std::vector<std::string> outside;
  for (const std::string& p : Listing(tmp.path()))
    if (p != "dest" && !p.starts_with("dest/")) outside.push_back(p);
  CHECK(outside == std::vector<std::string>{"l.tar", "sentinel", "sentinel/file"});
  CHECK(ReadFile(tmp / "sentinel/file") == "precious");
  CHECK_FALSE(Exists(tmp.path().parent_path() / "evil"));
}

TEST_CASE("unreadable and truncated layers fail with the layer's path", "[layer_applier]") {
  TempDir tmp;
  CHECK_THROWS_WITH(ApplyLayer(tmp / "missing.tar", tmp / "dest", WhiteoutMode::kApply),
                    Catch::Contains("missing.tar"));
  WriteTar(tmp / "l.tar", {{"big", 'f', std::string(100000, 'b')}});
  const std::string bytes = ReadFile(tmp / "l.tar");
  WriteFile(tmp / "cut.tar", bytes.substr(0, 20000));
  CHECK_THROWS_AS(ApplyLayer(tmp / "cut.tar", tmp / "dest", WhiteoutMode::kApply), LayerError);
  // An empty file is an empty layer.
  WriteFile(tmp / "empty.tar", "");
  CHECK_NOTHROW(ApplyLayer(tmp / "empty.tar", tmp / "dest2", WhiteoutMode::kApply));
}

}  // namespace
}  // namespace kiln
