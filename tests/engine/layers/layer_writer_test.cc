#include "engine/layers/layer_writer.h"

#include <catch2/catch.hpp>

#include <sys/xattr.h>
#include <clocale>
#include <set>

#include "engine/base/hash.h"
#include "tests/engine/layers/layer_test_support.h"

namespace kiln {
namespace {

using namespace kiln::testing;

// A tree with a bit of everything an unprivileged user can make.
void MakeTree(const fs::path& root) {
  WriteFile(root / "etc/config", "key=value\n");
  WriteFile(root / "bin/tool", std::string(300000, 'x'));
  fs::permissions(root / "bin/tool", fs::perms(0755));
  WriteFile(root / "empty", "");
  fs::create_directories(root / "var/empty");
  fs::create_symlink("../etc/config", root / "bin/config-link");
  fs::create_hard_link(root / "etc/config", root / "bin/config-hard");
}

const TarEntry& Find(const std::vector<TarEntry>& entries, const std::string& name) {
  for (const TarEntry& e : entries)
    if (e.name == name) return e;
  FAIL("no entry " << name);
  throw std::logic_error("unreachable");
}

TEST_CASE("the same tree gives the same bytes and digest", "[layer_writer]") {
  TempDir tmp;
  MakeTree(tmp / "root");
  const WrittenLayer first = WriteLayerToFile(tmp / "root", tmp / "1.tar");
  const WrittenLayer second = WriteLayerToFile(tmp / "root", tmp / "2.tar");
  CHECK(first.bytes == second.bytes);
  CHECK(first.blob.diff_id == second.blob.diff_id);
  CHECK(first.blob.diff_id == Sha256Digest(first.bytes));
  CHECK(first.blob.size == first.bytes.size());
}

TEST_CASE("SOURCE_DATE_EPOCH clamps mtimes so touched trees give the same digest",
          "[layer_writer]") {
  TempDir tmp;
  MakeTree(tmp / "a");
  MakeTree(tmp / "b");
  for (const auto& e : fs::recursive_directory_iterator(tmp / "a")) SetMtime(e.path(), 1700000000);
  for (const auto& e : fs::recursive_directory_iterator(tmp / "b")) SetMtime(e.path(), 1800000000);
  CHECK(WriteLayerToFile(tmp / "a", tmp / "a.tar").blob.diff_id !=
        WriteLayerToFile(tmp / "b", tmp / "b.tar").blob.diff_id);

  LayerOptions opts;
  opts.source_date_epoch = 1500000000;
  const WrittenLayer a = WriteLayerToFile(tmp / "a", tmp / "a.tar", opts);
  const WrittenLayer b = WriteLayerToFile(tmp / "b", tmp / "b.tar", opts);
  CHECK(a.bytes == b.bytes);
  for (const TarEntry& e : ReadTar(tmp / "a.tar")) CHECK(e.mtime == 1500000000);

  // Older files keep their own mtime: the clamp is min(mtime, epoch).
  opts.source_date_epoch = 1750000000;
  for (const TarEntry& e :
       ReadTar((WriteLayerToFile(tmp / "a", tmp / "a.tar", opts), tmp / "a.tar")))
    CHECK(e.mtime == 1700000000);
}

TEST_CASE("entries are sorted depth-first in byte order, directories with a trailing slash",
          "[layer_writer]") {
  TempDir tmp;
  for (const char* name : {"b", "a-b", "a/x", "a/B", "A", "\xc3\xa9t\xc3\xa9", "a/sub/z"})
    WriteFile(tmp / "root" / name, name);
  fs::create_directories(tmp / "root/zdir");
  WriteLayerToFile(tmp / "root", tmp / "l.tar");
  // Bytes, not characters: "\xc3\xa9" (é) sorts after "z".
  CHECK(Names(ReadTar(tmp / "l.tar")) == std::vector<std::string>{"A", "a/", "a/B", "a/sub/",
                                                                  "a/sub/z", "a/x", "a-b", "b",
                                                                  "zdir/", "\xc3\xa9t\xc3\xa9"});
}

TEST_CASE("the process locale does not change the tar", "[layer_writer]") {
  TempDir tmp;
  // Non-ASCII names long enough to need a PAX path record, and one that is not UTF-8 at all.
  WriteFile(tmp / "root" / (std::string(120, 'x') + "\xc3\xa9"), "utf8");
  WriteFile(tmp / "root" / (std::string(120, 'y') + "\xff\xfe"), "binary");
  const std::string saved = std::setlocale(LC_ALL, nullptr);
  std::setlocale(LC_ALL, "C");
  const WrittenLayer c = WriteLayerToFile(tmp / "root", tmp / "c.tar");
  const bool has_utf8 = std::setlocale(LC_ALL, "C.UTF-8") != nullptr;
  const WrittenLayer utf8 = WriteLayerToFile(tmp / "root", tmp / "u.tar");
  std::setlocale(LC_ALL, saved.c_str());
  if (!has_utf8) WARN("no C.UTF-8 locale: only the C locale was tried");
  CHECK(c.bytes == utf8.bytes);
  CHECK(Names(ReadTar(tmp / "c.tar")) ==
        std::vector<std::string>{std::string(120, 'x') + "\xc3\xa9",
                                 std::string(120, 'y') + "\xff\xfe"});
}

TEST_CASE("headers are PAX, with numeric owners, no user names and no atime/ctime",
          "[layer_writer]") {
  TempDir tmp;
  const std::string long_name = std::string(150, 'n') + "/" + std::string(120, 'f');
  WriteFile(tmp / "root" / long_name, "data");
  WriteFile(tmp / "root/short", "s");
  const WrittenLayer l = WriteLayerToFile(tmp / "root", tmp / "l.tar");

  // First header: a PAX extended header ('x') carrying the long path, in a ustar block.
  REQUIRE(l.bytes.size() >= 1024);
  CHECK(l.bytes[156] == 'x');
  CHECK(l.bytes.substr(257, 6) == std::string("ustar\0", 6));
  CHECK(l.bytes.find("path=" + std::string(150, 'n') + "/") != std::string::npos);
  CHECK(l.bytes.find("atime=") == std::string::npos);
  CHECK(l.bytes.find("ctime=") == std::string::npos);
  // Unblocked: the archive ends with exactly two zero blocks.
  CHECK(l.bytes.size() % 512 == 0);
  CHECK(l.bytes.substr(l.bytes.size() - 1024) == std::string(1024, '\0'));

  const std::vector<TarEntry> entries = ReadTar(tmp / "l.tar");
  const TarEntry& file = Find(entries, long_name);
  CHECK(file.data == "data");
  for (const TarEntry& e : entries) {
    CHECK(e.uname.empty());
    CHECK(e.gname.empty());
    CHECK_FALSE(e.atime_set);
    CHECK_FALSE(e.ctime_set);
    CHECK(e.uid == ::getuid());
  }
}

TEST_CASE("file data, modes, symlinks and hard links are stored", "[layer_writer]") {
  TempDir tmp;
  MakeTree(tmp / "root");
  fs::permissions(tmp / "root/empty", fs::perms(04750));
  WriteLayerToFile(tmp / "root", tmp / "l.tar");
  const std::vector<TarEntry> entries = ReadTar(tmp / "l.tar");

  CHECK(Find(entries, "bin/tool").data == std::string(300000, 'x'));
  CHECK(Find(entries, "bin/tool").perm == 0755);
  CHECK(Find(entries, "empty").perm == 04750);
  CHECK(Find(entries, "var/empty/").type == AE_IFDIR);

  const TarEntry& link = Find(entries, "bin/config-link");
  CHECK(link.type == AE_IFLNK);
  CHECK(link.symlink == "../etc/config");

  // bin/config-hard sorts before etc/config: it carries the data, etc/config links to it.
  const TarEntry& first = Find(entries, "bin/config-hard");
  CHECK(first.hardlink.empty());
  CHECK(first.data == "key=value\n");
  const TarEntry& second = Find(entries, "etc/config");
  CHECK(second.hardlink == "bin/config-hard");
  CHECK(second.data.empty());
}

TEST_CASE("symlinks to directories are stored, not followed", "[layer_writer]") {
  TempDir tmp;
  WriteFile(tmp / "outside/secret", "s");
  fs::create_directories(tmp / "root");
  fs::create_directory_symlink(tmp / "outside", tmp / "root/out");
  WriteLayerToFile(tmp / "root", tmp / "l.tar");
  const std::vector<TarEntry> entries = ReadTar(tmp / "l.tar");
  CHECK(Names(entries) == std::vector<std::string>{"out"});
  CHECK(entries[0].symlink == (tmp / "outside").string());
}

TEST_CASE("devices, fifos and xattrs including security.capability", "[layer_writer]") {
  if (!IsRoot()) {
    WARN("skipped: making devices and security.capability needs root");
    return;
  }
  TempDir tmp;
  const fs::path root = tmp / "root";
  fs::create_directories(root);
  REQUIRE(::mknod((root / "null").c_str(), S_IFCHR | 0666, makedev(1, 3)) == 0);
  REQUIRE(::mknod((root / "loop0").c_str(), S_IFBLK | 0660, makedev(7, 0)) == 0);
  REQUIRE(::mkfifo((root / "pipe").c_str(), 0600) == 0);
  WriteFile(root / "ping", "elf");
  const std::string capability(
      "\x01\x00\x00\x02\x00\x20\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
      "\x00\x00\x00\x00",
      20);
  SetXattr(root / "ping", "security.capability", capability);
  SetXattr(root / "ping", "user.note", "hello");
  SetXattr(root / "ping", "trusted.overlay.origin", "internal");
  WriteLayerToFile(root, tmp / "l.tar");
  const std::vector<TarEntry> entries = ReadTar(tmp / "l.tar");

  const TarEntry& null = Find(entries, "null");
  CHECK(null.type == AE_IFCHR);
  CHECK(null.rdev_major == 1);
  CHECK(null.rdev_minor == 3);
  CHECK(Find(entries, "loop0").type == AE_IFBLK);
  CHECK(Find(entries, "loop0").rdev_major == 7);
  CHECK(Find(entries, "pipe").type == AE_IFIFO);
  const TarEntry& ping = Find(entries, "ping");
  CHECK(ping.xattrs == std::map<std::string, std::string>{{"security.capability", capability},
                                                          {"user.note", "hello"}});
}

TEST_CASE("an overlay upper dir becomes whiteouts and opaque markers", "[layer_writer]") {
  if (!IsRoot()) {
    WARN("skipped: overlay whiteout devices and trusted.* xattrs need root");
    return;
  }
  TempDir tmp;
  const fs::path root = tmp / "upper";
  fs::create_directories(root / "etc/opaque");
  fs::create_directories(root / "etc/useropaque");
  REQUIRE(::mknod((root / "etc/gone").c_str(), S_IFCHR, makedev(0, 0)) == 0);
  SetXattr(root / "etc/opaque", "trusted.overlay.opaque", "y");
  SetXattr(root / "etc/useropaque", "user.overlay.opaque", "y");
  WriteFile(root / "etc/opaque/-first", "kept");
  WriteFile(root / "etc/zz", "z");

  LayerOptions opts;
  opts.overlay_upper = true;
  WriteLayerToFile(root, tmp / "l.tar", opts);
  const std::vector<TarEntry> entries = ReadTar(tmp / "l.tar");
  CHECK(Names(entries) == std::vector<std::string>{"etc/", "etc/.wh.gone", "etc/opaque/",
                                                   "etc/opaque/.wh..wh..opq", "etc/opaque/-first",
                                                   "etc/useropaque/", "etc/useropaque/.wh..wh..opq",
                                                   "etc/zz"});
  const TarEntry& whiteout = Find(entries, "etc/.wh.gone");
  CHECK(whiteout.type == AE_IFREG);
  CHECK(whiteout.data.empty());
  CHECK(Find(entries, "etc/opaque/").xattrs.empty());
  CHECK(Find(entries, "etc/useropaque/").xattrs.empty());

  // Not an upper dir: the device is just a device, the opaque dir just a dir.
  WriteLayerToFile(root, tmp / "plain.tar");
  const std::vector<TarEntry> plain = ReadTar(tmp / "plain.tar");
  CHECK(Find(plain, "etc/gone").type == AE_IFCHR);
  CHECK(Find(plain, "etc/useropaque/").xattrs.count("user.overlay.opaque") == 1);
  for (const TarEntry& e : plain) CHECK(e.name.find(".wh.") == std::string::npos);
}

TEST_CASE("whiteout devices sharing one inode stay whiteouts, not hard links", "[layer_writer]") {
  if (!IsRoot()) {
    WARN("skipped: whiteout devices need root");
    return;
  }
  TempDir tmp;
  fs::create_directories(tmp / "upper");
  REQUIRE(::mknod((tmp / "upper/a").c_str(), S_IFCHR, makedev(0, 0)) == 0);
  fs::create_hard_link(tmp / "upper/a", tmp / "upper/b");
  LayerOptions opts;
  opts.overlay_upper = true;
  WriteLayerToFile(tmp / "upper", tmp / "l.tar", opts);
  const std::vector<TarEntry> entries = ReadTar(tmp / "l.tar");
  REQUIRE(Names(entries) == std::vector<std::string>{".wh.a", ".wh.b"});
  for (const TarEntry& e : entries) CHECK(e.hardlink.empty());
}

TEST_CASE("owner and mode overrides apply to files and directories", "[layer_writer]") {
  TempDir tmp;
  MakeTree(tmp / "root");
  LayerOptions opts;
  opts.uid = 1234;
  opts.gid = 5678;
  opts.mode_override = 0640;
  WriteLayerToFile(tmp / "root", tmp / "l.tar", opts);
  for (const TarEntry& e : ReadTar(tmp / "l.tar")) {
    INFO(e.name);
    CHECK(e.uid == 1234);
    CHECK(e.gid == 5678);
    CHECK(e.perm == (e.type == AE_IFLNK ? 0777u : 0640u));
  }
}

TEST_CASE("the lower-level writer adds entries under a prefix", "[layer_writer]") {
  TempDir tmp;
  WriteFile(tmp / "src/b", "B");
  WriteFile(tmp / "src/a/c", "C");
  const fs::path tar = tmp / "l.tar";
  UniqueFd fd(::open(tar.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644));
  LayerWriter writer(fd.get(), LayerOptions{.source_date_epoch = 100});
  writer.AddDirectory("app", {0755, 0, 0, 200});
  writer.AddWhiteout("app/old");
  writer.AddOpaque("app/");
  writer.AddTreeFromDisk("app/src", tmp / "src");
  writer.AddEntryFromDisk("app/single", tmp / "src/b");
  const LayerBlob blob = writer.Finish();
  fd.Reset();
  CHECK(blob.diff_id == Sha256Digest(ReadFile(tar)));
  const std::vector<TarEntry> entries = ReadTar(tar);
  CHECK(Names(entries) == std::vector<std::string>{"app/", "app/.wh.old", "app/.wh..wh..opq",
                                                   "app/src/", "app/src/a/", "app/src/a/c",
                                                   "app/src/b", "app/single"});
  CHECK(Find(entries, "app/").mtime == 100);
  CHECK(Find(entries, "app/single").data == "B");
  CHECK_THROWS_AS(writer.AddDirectory("late", {}), LayerError);
}

/// Adds `path` as `name`, then (for a directory) its children depth-first in byte order, one
/// AddEntryFromDisk call per entry: the order AddTreeFromDisk promises, entry by entry.
void AddOneByOne(LayerWriter& writer, const std::string& name, const fs::path& path) {
  writer.AddEntryFromDisk(name, path);
  if (!fs::is_directory(fs::symlink_status(path))) return;
  std::set<std::string> children;
  for (const fs::directory_entry& child : fs::directory_iterator(path))
    children.insert(child.path().filename().string());
  for (const std::string& child : children) AddOneByOne(writer, name + "/" + child, path / child);
}

TEST_CASE("large directories read ahead give the same bytes as entries added one by one",
          "[layer_writer]") {
  TempDir tmp;
  const fs::path root = tmp / "root";
  // More entries than one read-ahead chunk: small files (some empty, some with xattrs), a file
  // too large to read ahead, hard links, symlinks and a subdirectory among them.
  for (int i = 0; i < 300; ++i)
    WriteFile(root / "many" / ("f" + std::to_string(i)),
              std::string(i % 7 == 0 ? 0 : i, 'a' + i % 26));
  for (int i = 0; i < 300; i += 50)
    ::setxattr((root / "many" / ("f" + std::to_string(i))).c_str(), "user.k", "v", 1, 0);
  WriteFile(root / "many/large", std::string(200000, 'L'));
  fs::create_hard_link(root / "many/f10", root / "many/hard");
  fs::create_symlink("f1", root / "many/link");
  WriteFile(root / "many/sub/inner", "inner");
  fs::permissions(root / "many/f3", fs::perms(0600));

  LayerOptions overrides;
  overrides.uid = 7;
  overrides.gid = 8;
  overrides.mode_override = 0640;
  overrides.source_date_epoch = 1000;
  for (const LayerOptions& opts : {LayerOptions{}, overrides}) {
    const WrittenLayer tree = WriteLayerToFile(root, tmp / "tree.tar", opts);
    const fs::path tar = tmp / "one-by-one.tar";
    UniqueFd fd(::open(tar.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644));
    LayerWriter writer(fd.get(), opts);
    AddOneByOne(writer, "many", root / "many");
    const LayerBlob blob = writer.Finish();
    fd.Reset();
    CHECK(tree.blob.diff_id == blob.diff_id);
    CHECK(tree.bytes == ReadFile(tar));
    const std::vector<TarEntry> entries = ReadTar(tmp / "tree.tar");
    CHECK(entries.size() == 306);
    CHECK(Find(entries, "many/f299").data == std::string(299, 'a' + 299 % 26));
  }
}

TEST_CASE("writer errors name the entry or path", "[layer_writer]") {
  TempDir tmp;
  const fs::path tar = tmp / "l.tar";
  UniqueFd out(::open(tar.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644));
  CHECK_THROWS_WITH(WriteLayer(tmp / "missing", out.get(), {}),
                    Catch::Contains("missing") && Catch::Contains("No such file"));
  LayerWriter writer(out.get(), {});
  CHECK_THROWS_WITH(writer.AddEntryFromDisk("x/y", tmp / "nope"),
                    Catch::StartsWith("layer entry \"x/y\": cannot stat"));

  // A descriptor that cannot be written: the failure surfaces with errno's words.
  WriteFile(tmp / "root/big", std::string(3 << 20, 'b'));
  UniqueFd read_only(::open(tar.c_str(), O_RDONLY));
  CHECK_THROWS_WITH(WriteLayer(tmp / "root", read_only.get(), {}),
                    Catch::Contains("cannot write the layer") && Catch::Contains("Bad file"));
}

}  // namespace
}  // namespace kiln
