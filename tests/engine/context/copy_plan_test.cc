#include "engine/context/copy_plan.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <memory>

#include "engine/base/hash.h"
#include "engine/layers/archive_detect.h"
#include "tests/engine/context/copy_test_support.h"
#include "tests/engine/context/http_test_server.h"

namespace kiln {
namespace {

using testing::ListTree;
using testing::Lstat;
using testing::ReadFile;
using testing::TempDir;
using testing::TestMatcher;
using testing::WriteFile;

/// A context with files, a sub directory, symlinks and a hard link; everything owned by 1000.
struct Fixture {
  TempDir context;
  TempDir work;
  std::filesystem::path staging = work / "staging";
  std::filesystem::path scratch = work / "scratch";

  Fixture() {
    WriteFile(context / "a.txt", "alpha");
    WriteFile(context / "b.txt", "beta");
    WriteFile(context / "notes.md", "notes");
    WriteFile(context / "src/main.c", "main", 0755);
    WriteFile(context / "src/README.md", "readme");
    WriteFile(context / "src/lib/util.c", "util", 0600);
    WriteFile(context / "x/y/one.txt", "one");
    WriteFile(context / "x/y/two.txt", "two");
    std::filesystem::create_symlink("main.c", context / "src/main-link");
    std::filesystem::create_symlink("a.txt", context / "link.txt");
    std::filesystem::create_hard_link(context / "src/main.c", context / "src/main-hard.c");
    for (const auto& entry : std::filesystem::recursive_directory_iterator(context.path())) {
      lchown(entry.path().c_str(), 1000, 1000);
    }
    const struct timespec times[2] = {{1'600'000'000, 0}, {1'600'000'000, 0}};
    utimensat(AT_FDCWD, (context / "a.txt").c_str(), times, 0);
    std::filesystem::create_directories(scratch);
  }

  CopyRequest Request(std::vector<std::string> sources, std::string dest) const {
    CopyRequest request;
    request.source_root = context.path();
    request.sources = std::move(sources);
    request.destination = std::move(dest);
    request.matcher = TestMatcher();
    request.created_time = 1'700'000'000;
    return request;
  }

  CopyOutcome Stage(const CopyRequest& request) const {
    return StageCopy(request, staging, scratch);
  }
  std::vector<std::string> Tree() const { return ListTree(staging); }
};

TEST_CASE("COPY destination rules", "[copy_plan]") {
  struct Case {
    std::vector<std::string> sources;
    std::string dest;
    std::vector<std::string> tree;
  };
  const std::vector<Case> cases = {
      // A directory source copies its contents, not itself.
      {{"src"},
       "/app",
       {"app/", "app/README.md", "app/lib/", "app/lib/util.c", "app/main-hard.c", "app/main-link",
        "app/main.c"}},
      // A file to a path without '/' becomes that file.
      {{"a.txt"}, "/etc/b.conf", {"etc/", "etc/b.conf"}},
      // '/' makes the destination a directory receiving the base name.
      {{"a.txt"}, "/data/", {"data/", "data/a.txt"}},
      {{"a.txt", "b.txt"}, "/data/", {"data/", "data/a.txt", "data/b.txt"}},
      {{"*.txt"}, "/data/", {"data/", "data/a.txt", "data/b.txt", "data/link.txt"}},
      // A wildcard matching one file behaves like that file.
      {{"n*.md"}, "/doc", {"doc"}},
      // Sources are cleaned inside the context.
      {{"../../a.txt"}, "/up/", {"up/", "up/a.txt"}},
      // Relative destinations are below WORKDIR (here /work).
      {{"a.txt"}, "rel/", {"work/", "work/rel/", "work/rel/a.txt"}},
      {{"a.txt"}, ".", {"work/", "work/a.txt"}},
      {{"x/y/*.txt"}, "/t/", {"t/", "t/one.txt", "t/two.txt"}},
  };
  for (const Case& c : cases) {
    Fixture f;
    INFO(c.sources.front() << " -> " << c.dest);
    CopyRequest request = f.Request(c.sources, c.dest);
    request.workdir = "/work";
    f.Stage(request);
    CHECK(f.Tree() == c.tree);
  }
}

TEST_CASE("several sources need a destination ending in /", "[copy_plan]") {
  Fixture f;
  const std::string message =
      "When using COPY with more than one source file, the destination must be a directory and "
      "end with a /";
  CHECK_THROWS_WITH(f.Stage(f.Request({"a.txt", "b.txt"}, "/data")), message);
  CHECK_THROWS_WITH(f.Stage(f.Request({"*.txt"}, "/data")), message);
  CopyRequest add = f.Request({"a.txt", "b.txt"}, "/data");
  add.instruction = "ADD";
  CHECK_THROWS_WITH(f.Stage(add), Catch::StartsWith("When using ADD with more than one"));
}

TEST_CASE("a file source into a directory the image already has", "[copy_plan]") {
  Fixture f;
  TempDir image;
  std::filesystem::create_directories(image / "etc");
  chmod((image / "etc").c_str(), 0700);
  std::filesystem::create_directories(image / "run");
  std::filesystem::create_directories(image / "var");
  std::filesystem::create_symlink("/run", image / "var/run");
  CopyRequest request = f.Request({"a.txt"}, "/etc");
  request.existing = LookupInRootfs(image.path());
  CHECK(f.Stage(request).destination == "/etc");
  CHECK(f.Tree() == std::vector<std::string>{"etc/", "etc/a.txt"});
  // The layer repeats the image's metadata for directories it already has.
  CHECK((Lstat(f.staging / "etc").st_mode & 07777) == 0700);

  SECTION("symlinked parents are resolved in the image") {
    Fixture g;
    CopyRequest into_run = g.Request({"b.txt"}, "/var/run/b.pid");
    into_run.existing = LookupInRootfs(image.path());
    CHECK(g.Stage(into_run).destination == "/run/b.pid");
    CHECK(g.Tree() == std::vector<std::string>{"run/", "run/b.pid"});
  }
}

TEST_CASE("Flag --parents keeps source paths, after a /./ pivot", "[copy_plan]") {
  Fixture f;
  CopyRequest request = f.Request({"x/y/one.txt", "./src/lib"}, "/p/");
  request.parents = true;
  f.Stage(request);
  CHECK(f.Tree() == std::vector<std::string>{"p/", "p/src/", "p/src/lib/", "p/src/lib/util.c",
                                             "p/x/", "p/x/y/", "p/x/y/one.txt"});
  Fixture g;
  CopyRequest pivot = g.Request({"x/./y/*.txt"}, "/q/");
  pivot.parents = true;
  g.Stage(pivot);
  CHECK(g.Tree() == std::vector<std::string>{"q/", "q/y/", "q/y/one.txt", "q/y/two.txt"});
}

TEST_CASE("owners and modes", "[copy_plan]") {
  SECTION("context sources are owned by root, modes and mtimes kept") {
    Fixture f;
    f.Stage(f.Request({"a.txt", "src"}, "/app/"));
    const struct stat file = Lstat(f.staging / "app/a.txt");
    CHECK(file.st_uid == 0);
    CHECK(file.st_gid == 0);
    CHECK((file.st_mode & 07777) == 0644);
    CHECK(file.st_mtim.tv_sec == 1'600'000'000);
    CHECK((Lstat(f.staging / "app/main.c").st_mode & 07777) == 0755);
    CHECK((Lstat(f.staging / "app/lib/util.c").st_mode & 07777) == 0600);
    CHECK(Lstat(f.staging / "app/lib").st_uid == 0);
  }
  SECTION("under a set-gid staging directory files still get the owner asked for") {
    Fixture f;
    std::filesystem::create_directories(f.staging);
    REQUIRE(chown(f.staging.c_str(), 0, 4321) == 0);
    REQUIRE(chmod(f.staging.c_str(), 02755) == 0);
    f.Stage(f.Request({"a.txt", "src"}, "/app/"));
    CHECK(Lstat(f.staging / "app/a.txt").st_gid == 0);
    CHECK(Lstat(f.staging / "app/lib/util.c").st_gid == 0);
  }
  SECTION("--from sources keep their owners") {
    Fixture f;
    CopyRequest request = f.Request({"src"}, "/app");
    request.from_context = false;
    f.Stage(request);
    CHECK(Lstat(f.staging / "app/main.c").st_uid == 1000);
    CHECK(Lstat(f.staging / "app/lib").st_gid == 1000);
    CHECK(Lstat(f.staging / "app/main-link").st_uid == 1000);
  }
  SECTION("--chown and --chmod apply to everything copied; new parents get only the owner") {
    Fixture f;
    CopyRequest request = f.Request({"src"}, "/opt/app");
    request.uid = 1234;
    request.gid = 5678;
    request.chmod = ParseChmod("0640");
    f.Stage(request);
    for (const char* path : {"opt/app", "opt/app/main.c", "opt/app/lib", "opt/app/lib/util.c"}) {
      INFO(path);
      const struct stat st = Lstat(f.staging / path);
      CHECK(st.st_uid == 1234);
      CHECK(st.st_gid == 5678);
      CHECK((st.st_mode & 07777) == 0640);
    }
    const struct stat parent = Lstat(f.staging / "opt");
    CHECK(parent.st_uid == 1234);
    CHECK(parent.st_gid == 5678);
    CHECK((parent.st_mode & 07777) == 0755);
    CHECK(parent.st_mtim.tv_sec == 1'700'000'000);
    CHECK(S_ISLNK(Lstat(f.staging / "opt/app/main-link").st_mode));
  }
  CHECK(ParseChmod("755") == 0755);
  CHECK_THROWS_AS(ParseChmod("u+x"), CopyError);
  CHECK_THROWS_AS(ParseChmod("17777"), CopyError);
}

TEST_CASE("a large tree is copied whole, with each file's bytes, mode, owner and time",
          "[copy_plan]") {
  Fixture f;
  // Enough files for the copy to be shared among threads, with modes that need a chmod
  // (set-id, more than the umask allows) and an earlier source the tree replaces in part.
  constexpr int kFiles = 700;
  for (int i = 0; i < kFiles; ++i) {
    const std::string name = "big/d" + std::to_string(i % 7) + "/f" + std::to_string(i);
    const mode_t mode = i % 3 == 0 ? 04755 : i % 3 == 1 ? 0666 : 0600;
    WriteFile(f.context / name, std::string(static_cast<size_t>(i), 'x') + name, mode);
    const struct timespec times[2] = {{1'500'000'000 + i, 0}, {1'500'000'000 + i, 0}};
    REQUIRE(utimensat(AT_FDCWD, (f.context / name).c_str(), times, 0) == 0);
  }
  WriteFile(f.context / "early/d0/f0", "replaced");
  CopyRequest request = f.Request({"early", "big"}, "/srv/");
  request.uid = 42;
  request.gid = 43;
  f.Stage(request);
  for (int i = 0; i < kFiles; ++i) {
    const std::string rel = "d" + std::to_string(i % 7) + "/f" + std::to_string(i);
    INFO(rel);
    const struct stat st = Lstat(f.staging / "srv" / rel);
    CHECK(ReadFile(f.staging / "srv" / rel) ==
          std::string(static_cast<size_t>(i), 'x') + "big/" + rel);
    CHECK((st.st_mode & 07777) == (i % 3 == 0 ? 04755u : i % 3 == 1 ? 0666u : 0600u));
    CHECK(st.st_uid == 42);
    CHECK(st.st_gid == 43);
    CHECK(st.st_mtim.tv_sec == 1'500'000'000 + i);
  }
}

TEST_CASE("Flag --exclude, ignore rules, symlinks and hard links", "[copy_plan]") {
  SECTION("--exclude skips matching paths below a directory and matched sources") {
    Fixture f;
    CopyRequest request = f.Request({"src", "*.md"}, "/app/");
    request.excludes = {"*.md", "lib"};
    f.Stage(request);
    CHECK(f.Tree() ==
          std::vector<std::string>{"app/", "app/main-hard.c", "app/main-link", "app/main.c"});
  }
  SECTION("context ignore rules hide files, with exceptions") {
    Fixture f;
    CopyRequest request = f.Request({"."}, "/app/");
    request.matcher = TestMatcher({"src", "!src/lib", "*.txt", "x"});
    f.Stage(request);
    CHECK(f.Tree() == std::vector<std::string>{"app/", "app/notes.md", "app/src/", "app/src/lib/",
                                               "app/src/lib/util.c"});
    request.sources = {"a.txt"};
    CHECK_THROWS_AS(f.Stage(request), SourceNotFoundError);
    Fixture g;
    request.sources = {"src"};
    g.Stage(request);
    CHECK(g.Tree() == std::vector<std::string>{"app/", "app/lib/", "app/lib/util.c"});
  }
  SECTION("symlinks below a source are copied as symlinks, a symlink source is followed") {
    Fixture f;
    f.Stage(f.Request({"src", "link.txt"}, "/app/"));
    CHECK(std::filesystem::read_symlink(f.staging / "app/main-link") == "main.c");
    CHECK(S_ISREG(Lstat(f.staging / "app/link.txt").st_mode));
    CHECK(ReadFile(f.staging / "app/link.txt") == "alpha");
  }
  SECTION("file capabilities and user xattrs survive the copy and --chown") {
    Fixture f;
    // cap_net_raw+ep, VFS_CAP_REVISION_2.
    const unsigned char capability[20] = {0, 0, 0, 2, 0, 0x20, 0, 0, 0, 0x20,
                                          0, 0, 0, 0, 0, 0,    0, 0, 0, 0};
    const std::filesystem::path ping = f.context / "src/main.c";
    if (setxattr(ping.c_str(), "security.capability", capability, sizeof capability, 0) != 0 ||
        setxattr(ping.c_str(), "user.note", "kiln", 4, 0) != 0) {
      WARN("xattrs not supported here: skipped");
      return;
    }
    CopyRequest request = f.Request({"src/main.c"}, "/bin/ping");
    request.uid = 5;
    f.Stage(request);
    char value[64];
    CHECK(getxattr((f.staging / "bin/ping").c_str(), "security.capability", value, sizeof value) ==
          sizeof capability);
    CHECK(getxattr((f.staging / "bin/ping").c_str(), "user.note", value, sizeof value) == 4);
  }
  SECTION("hard links within the copied set stay hard links") {
    Fixture f;
    f.Stage(f.Request({"src"}, "/app"));
    CHECK(Lstat(f.staging / "app/main.c").st_ino == Lstat(f.staging / "app/main-hard.c").st_ino);
  }
}

TEST_CASE("missing sources and bad URLs give clear errors", "[copy_plan]") {
  Fixture f;
  CHECK_THROWS_WITH(f.Stage(f.Request({"missing.txt"}, "/x")),
                    "COPY failed: file not found in build context or excluded by .dockerignore: "
                    "stat missing.txt: file does not exist");
  CopyRequest from_stage = f.Request({"/usr/bin/none"}, "/x");
  from_stage.from_context = false;
  CHECK_THROWS_WITH(f.Stage(from_stage), "COPY failed: stat usr/bin/none: file does not exist");
  CHECK_THROWS_WITH(f.Stage(f.Request({"http://127.0.0.1/x"}, "/x")),
                    Catch::Contains("source can't be a URL for COPY"));
  CopyRequest git = f.Request({"https://example.invalid/repo.git"}, "/src");
  git.instruction = "ADD";
  CHECK_THROWS_WITH(f.Stage(git), Catch::Contains("git repositories is not supported"));
  CopyRequest checksum = f.Request({"a.txt"}, "/x");
  checksum.instruction = "ADD";
  checksum.checksum = "sha256:00";
  CHECK_THROWS_WITH(f.Stage(checksum), Catch::Contains("checksum can't be specified"));
}

TEST_CASE("heredoc files are written under the destination", "[copy_plan]") {
  Fixture f;
  CopyRequest request = f.Request({}, "/etc/");
  request.inline_files = {{"motd", "hello\n"}, {"issue", "kiln\n"}};
  f.Stage(request);
  CHECK(ReadFile(f.staging / "etc/motd") == "hello\n");
  CHECK((Lstat(f.staging / "etc/issue").st_mode & 07777) == 0644);
  CHECK(Lstat(f.staging / "etc/issue").st_mtim.tv_sec == 1'700'000'000);
  Fixture g;
  CopyRequest single = g.Request({}, "/run.sh");
  single.inline_files = {{"EOF", "echo hi\n"}};
  single.chmod = 0755;
  g.Stage(single);
  CHECK((Lstat(g.staging / "run.sh").st_mode & 07777) == 0755);
}

// ---- ADD ----------------------------------------------------------------------------------

struct TarEntry {
  std::string name;
  std::string content;
  char type = 'f';  ///< 'f' file, 'd' directory, 'l' symlink (content = target)
};

void WriteTar(const std::filesystem::path& path, const std::vector<TarEntry>& entries, int filter) {
  std::unique_ptr<archive, decltype(&archive_write_free)> writer(archive_write_new(),
                                                                 &archive_write_free);
  archive_write_set_format_pax_restricted(writer.get());
  REQUIRE(archive_write_add_filter(writer.get(), filter) == ARCHIVE_OK);
  REQUIRE(archive_write_open_filename(writer.get(), path.c_str()) == ARCHIVE_OK);
  for (const TarEntry& e : entries) {
    std::unique_ptr<archive_entry, decltype(&archive_entry_free)> entry(archive_entry_new(),
                                                                        &archive_entry_free);
    archive_entry_set_pathname(entry.get(), e.name.c_str());
    archive_entry_set_mtime(entry.get(), 1'500'000'000, 0);
    if (e.type == 'd') {
      archive_entry_set_filetype(entry.get(), AE_IFDIR);
      archive_entry_set_perm(entry.get(), 0755);
    } else if (e.type == 'l') {
      archive_entry_set_filetype(entry.get(), AE_IFLNK);
      archive_entry_set_perm(entry.get(), 0777);
      archive_entry_set_symlink(entry.get(), e.content.c_str());
    } else {
      archive_entry_set_filetype(entry.get(), AE_IFREG);
      archive_entry_set_perm(entry.get(), 0644);
      archive_entry_set_size(entry.get(), static_cast<la_int64_t>(e.content.size()));
    }
    REQUIRE(archive_write_header(writer.get(), entry.get()) == ARCHIVE_OK);
    if (e.type == 'f') {
      archive_write_data(writer.get(), e.content.data(), e.content.size());
    }
  }
  REQUIRE(archive_write_close(writer.get()) == ARCHIVE_OK);
}

TEST_CASE("archives are detected by content", "[copy_plan][archive_detect]") {
  TempDir dir;
  const std::vector<TarEntry> entries = {{"f.txt", "x"}};
  WriteTar(dir / "plain.bin", entries, ARCHIVE_FILTER_NONE);
  WriteTar(dir / "gz.bin", entries, ARCHIVE_FILTER_GZIP);
  WriteTar(dir / "xz.bin", entries, ARCHIVE_FILTER_XZ);
  WriteTar(dir / "zst.bin", entries, ARCHIVE_FILTER_ZSTD);
  WriteFile(dir / "text.tar", "just text, named like an archive");
  WriteFile(dir / "empty.tar", "");
  for (const char* name : {"plain.bin", "gz.bin", "xz.bin", "zst.bin"}) {
    INFO(name);
    CHECK(IsTarArchive(dir / name));
  }
  CHECK_FALSE(IsTarArchive(dir / "text.tar"));
  CHECK_FALSE(IsTarArchive(dir / "empty.tar"));
  CHECK_FALSE(IsTarArchive(dir / "missing"));
}

TEST_CASE("ADD extracts local archives, COPY does not", "[copy_plan]") {
  const std::vector<TarEntry> entries = {
      {"pkg", "", 'd'}, {"pkg/bin.sh", "#!/bin/sh\n"}, {"pkg/link", "bin.sh", 'l'}};
  for (const int filter : {ARCHIVE_FILTER_GZIP, ARCHIVE_FILTER_ZSTD}) {
    Fixture f;
    WriteTar(f.context / "pkg.tar.any", entries, filter);
    CopyRequest request = f.Request({"pkg.tar.any", "a.txt"}, "/opt/");
    request.instruction = "ADD";
    request.uid = 7;
    request.gid = 8;
    f.Stage(request);
    CHECK(f.Tree() == std::vector<std::string>{"opt/", "opt/a.txt", "opt/pkg/", "opt/pkg/bin.sh",
                                               "opt/pkg/link"});
    CHECK(ReadFile(f.staging / "opt/pkg/bin.sh") == "#!/bin/sh\n");
    CHECK(Lstat(f.staging / "opt/pkg/bin.sh").st_uid == 7);
    CHECK(Lstat(f.staging / "opt/pkg/bin.sh").st_mtim.tv_sec == 1'500'000'000);
    CHECK(ListTree(f.scratch).empty());

    Fixture g;
    WriteTar(g.context / "pkg.tgz", entries, filter);
    g.Stage(g.Request({"pkg.tgz"}, "/opt/"));
    CHECK(g.Tree() == std::vector<std::string>{"opt/", "opt/pkg.tgz"});
  }
}

#if __has_include("engine/layers/layer_applier.h")
TEST_CASE("ADD refuses archives escaping the destination", "[copy_plan]") {
  const std::vector<std::vector<TarEntry>> malicious = {
      {{"../evil.txt", "x"}},
      {{"/abs/evil.txt", "x"}},
      {{"out", "../../..", 'l'}, {"out/evil.txt", "x"}},
  };
  for (const std::vector<TarEntry>& entries : malicious) {
    Fixture f;
    INFO(entries.front().name);
    WriteTar(f.context / "bad.tar", entries, ARCHIVE_FILTER_GZIP);
    CopyRequest request = f.Request({"bad.tar"}, "/opt/");
    request.instruction = "ADD";
    CHECK_THROWS_AS(f.Stage(request), std::runtime_error);
    CHECK_FALSE(std::filesystem::exists(f.work / "evil.txt"));
    CHECK_FALSE(std::filesystem::exists(f.staging / "evil.txt"));
    CHECK_FALSE(std::filesystem::exists(f.staging / "opt/evil.txt"));
    CHECK_FALSE(std::filesystem::exists(f.scratch / "evil.txt"));
  }
}
#endif

TEST_CASE("ADD downloads URLs and verifies checksums", "[copy_plan][url_fetch]") {
  testing::HttpTestServer server;
  server.Add("/files/tool.tar.gz", "not really an archive", 1'400'000'000);
  const std::string url = server.Url("/files/tool.tar.gz");
  const std::string digest = Sha256Digest("not really an archive");

  Fixture f;
  CopyRequest request = f.Request({url}, "/downloads/");
  request.instruction = "ADD";
  request.checksum = digest;
  const CopyOutcome outcome = f.Stage(request);
  CHECK(outcome.downloads == std::vector<std::string>{url + " " + digest});
  CHECK(f.Tree() == std::vector<std::string>{"downloads/", "downloads/tool.tar.gz"});
  const struct stat st = Lstat(f.staging / "downloads/tool.tar.gz");
  CHECK((st.st_mode & 07777) == 0600);
  CHECK(st.st_uid == 0);
  CHECK(st.st_mtim.tv_sec == 1'400'000'000);
  CHECK(ReadFile(f.staging / "downloads/tool.tar.gz") == "not really an archive");

  Fixture g;
  CopyRequest renamed = g.Request({url}, "/opt/tool");
  renamed.instruction = "ADD";
  renamed.chmod = 0755;
  g.Stage(renamed);
  CHECK((Lstat(g.staging / "opt/tool").st_mode & 07777) == 0755);

  Fixture h;
  CopyRequest mismatch = h.Request({url}, "/downloads/");
  mismatch.instruction = "ADD";
  mismatch.checksum = Sha256Digest("something else");
  CHECK_THROWS_WITH(h.Stage(mismatch), "checksum mismatch for " + url + ": expected " +
                                           mismatch.checksum + ", got " + digest);
  CHECK_FALSE(std::filesystem::exists(h.staging / "downloads/tool.tar.gz"));
  CHECK(ListTree(h.scratch).empty());
}

TEST_CASE("ADD takes an upper-case scheme for a context path, as the frontend does",
          "[copy_plan][url_fetch]") {
  REQUIRE_FALSE(IsUrlSource("HTTP://h.test/x"));
  Fixture f;
  CopyRequest request = f.Request({"HTTP://h.test/x"}, "/downloads/");
  request.instruction = "ADD";
  CHECK_THROWS_AS(f.Stage(request), SourceNotFoundError);
  CHECK(f.Tree().empty());
}

}  // namespace
}  // namespace kiln
