// End-to-end: `kiln build` executes Dockerfiles into real images (RUN through runc), readable by
// umoci and skopeo.
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/e2e/e2e_support.h"

namespace kiln::e2e {
namespace {
namespace fs = std::filesystem;

struct stat Stat(const fs::path& p) {
  struct stat st {};
  REQUIRE(lstat(p.c_str(), &st) == 0);
  return st;
}

/// Makes a .tar.gz holding pkg/readme.txt with the system tar.
void MakeTarGz(const fs::path& dir, const std::string& name) {
  WriteFile(dir / "tarsrc/pkg/readme.txt", "packed\n");
  REQUIRE(Run({"tar", "-C", (dir / "tarsrc").string(), "-czf", (dir / name).string(), "pkg"})
              .exit_code == 0);
  fs::remove_all(dir / "tarsrc");
}

TEST_CASE("a busybox base builds from scratch and runs its shell", "[e2e][build]") {
  KILN_REQUIRE_RUNTIME();
  Kiln kiln;
  BuildBusyboxBase(kiln);
  TempDir out;
  UnpackWithUmoci(kiln, "docker.io/library/kiln-busybox:latest", out / "bundle");
  CHECK(fs::is_regular_file(out / "bundle/rootfs/bin/busybox"));
  CHECK(fs::is_symlink(out / "bundle/rootfs/bin/sh"));
}

TEST_CASE("RUN, COPY, ADD, ENV, WORKDIR and USER produce the files and config Docker would",
          "[e2e][build]") {
  KILN_REQUIRE_RUNTIME();
  Kiln kiln;
  BuildBusyboxBase(kiln);
  TempDir ctx;
  WriteFile(ctx / "a.txt", "A\n");
  WriteFile(ctx / "b.txt", "B\n");
  WriteFile(ctx / "c.md", "not copied\n");
  WriteFile(ctx / "conf/app.conf", "key=value\n");
  MakeTarGz(ctx.path(), "bundle.tar.gz");
  WriteFile(ctx / "Dockerfile", R"DF(FROM kiln-busybox:latest
ENV GREETING=hello
WORKDIR /app
COPY *.txt ./
COPY --chown=1000:1000 --chmod=640 conf/app.conf /etc/app.conf
ADD bundle.tar.gz /opt/
RUN echo "$GREETING" > /app/greeting && rm /bin/vi
RUN ["/bin/sh", "-c", "id -u > /app/uid"]
RUN mkdir -m 1777 /tmp
USER 1000
RUN id -u > /tmp/uid-user
CMD ["sh"]
)DF");
  const CommandResult r = kiln({"build", "--progress=plain", "-t", "app:1", ctx.path().string()});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.err.find("naming to docker.io/library/app:1 done") != std::string::npos);

  TempDir out;
  UnpackWithUmoci(kiln, "docker.io/library/app:1", out / "b");
  const fs::path root = out / "b/rootfs";
  CHECK(ReadFile(root / "app/a.txt") == "A\n");
  CHECK(ReadFile(root / "app/b.txt") == "B\n");
  CHECK_FALSE(fs::exists(root / "app/c.md"));
  const struct stat conf = Stat(root / "etc/app.conf");
  CHECK((conf.st_mode & 07777) == 0640);
  CHECK(conf.st_uid == 1000);
  CHECK(conf.st_gid == 1000);
  CHECK(ReadFile(root / "opt/pkg/readme.txt") == "packed\n");
  CHECK(ReadFile(root / "app/greeting") == "hello\n");
  CHECK_FALSE(fs::exists(fs::symlink_status(root / "bin/vi")));  // whiteout of a lower file
  CHECK(fs::exists(fs::symlink_status(root / "bin/ls")));
  CHECK(ReadFile(root / "app/uid") == "0\n");
  CHECK(ReadFile(root / "tmp/uid-user") == "1000\n");

  const CommandResult inspect =
      Run({"skopeo", "inspect", "--config",
           "oci:" + (kiln.root() / "oci").string() + ":docker.io/library/app:1"});
  INFO(inspect.err);
  REQUIRE(inspect.exit_code == 0);
  const nlohmann::json config = nlohmann::json::parse(inspect.out);
  CHECK(config["config"]["WorkingDir"] == "/app");
  CHECK(config["config"]["User"] == "1000");
  CHECK(config["config"]["Cmd"] == nlohmann::json({"sh"}));
  bool has_greeting = false;
  for (const auto& e : config["config"]["Env"]) has_greeting |= e == "GREETING=hello";
  CHECK(has_greeting);
  // history: 2 base entries (COPY, RUN) + 11 instructions
  REQUIRE(config["history"].size() == 13);
  CHECK(config["history"][2]["created_by"] == "ENV GREETING=hello");
  CHECK(config["history"][2]["empty_layer"] == true);
  CHECK(config["history"][7]["created_by"].get<std::string>().find("RUN /bin/sh -c echo") == 0);
  CHECK(config["rootfs"]["diff_ids"].size() == 2 + 8);  // WORKDIR creates /app
}

TEST_CASE("multi-stage COPY --from takes files from an earlier stage", "[e2e][build]") {
  KILN_REQUIRE_RUNTIME();
  Kiln kiln;
  BuildBusyboxBase(kiln);
  TempDir ctx;
  WriteFile(ctx / "Dockerfile", R"DF(FROM kiln-busybox:latest AS build
RUN mkdir -p /out && echo built > /out/artifact && echo unused > /out/other
FROM scratch
COPY --from=build /out/artifact /artifact
)DF");
  const CommandResult r = kiln({"build", "-t", "slim", ctx.path().string()});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  TempDir out;
  UnpackWithUmoci(kiln, "docker.io/library/slim:latest", out / "b");
  CHECK(ReadFile(out / "b/rootfs/artifact") == "built\n");
  CHECK_FALSE(fs::exists(out / "b/rootfs/bin"));
}

TEST_CASE("RUN --mount=type=cache persists and type=secret never lands in a layer",
          "[e2e][build]") {
  KILN_REQUIRE_RUNTIME();
  Kiln kiln;
  BuildBusyboxBase(kiln);
  TempDir ctx;
  WriteFile(ctx / "secret.txt", "s3cret-value");
  WriteFile(ctx / "Dockerfile", R"DF(FROM kiln-busybox:latest
RUN --mount=type=cache,target=/cache echo run >> /cache/log && wc -l < /cache/log > /count
RUN --mount=type=secret,id=tok wc -c < /run/secrets/tok > /secret-size
)DF");
  const std::string secret = "id=tok,src=" + (ctx / "secret.txt").string();
  REQUIRE(kiln({"build", "-q", "-t", "c", "--secret", secret, ctx.path().string()}).exit_code == 0);
  const CommandResult again =
      kiln({"build", "-q", "--no-cache", "-t", "c", "--secret", secret, ctx.path().string()});
  INFO(again.err);
  REQUIRE(again.exit_code == 0);
  TempDir out;
  UnpackWithUmoci(kiln, "docker.io/library/c:latest", out / "b");
  CHECK(ReadFile(out / "b/rootfs/count") == "2\n");
  CHECK(ReadFile(out / "b/rootfs/secret-size") == "12\n");
  CHECK_FALSE(fs::exists(out / "b/rootfs/run/secrets/tok"));
  for (const auto& blob : fs::directory_iterator(kiln.root() / "oci/blobs/sha256"))
    CHECK(ReadFile(blob.path()).find("s3cret-value") == std::string::npos);
}

TEST_CASE("SOURCE_DATE_EPOCH gives the same digests in two stores", "[e2e][build]") {
  KILN_REQUIRE_RUNTIME();
  TempDir ctx;
  fs::copy_file("/bin/busybox", ctx / "busybox");
  WriteFile(ctx / "file.txt", "same\n");
  WriteFile(ctx / "Dockerfile", R"DF(FROM scratch
COPY busybox /bin/busybox
COPY file.txt /data/
RUN ["/bin/busybox", "sh", "-c", "echo ran > /data/out"]
ENV A=1
)DF");
  std::string ids[2];
  for (std::string& id : ids) {
    Kiln kiln;
    const CommandResult r = kiln({"build", "-q", "-t", "r", ctx.path().string()}, "",
                                 {{"SOURCE_DATE_EPOCH", "1700000000"}});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    id = r.out;
    const nlohmann::json index = nlohmann::json::parse(ReadFile(kiln.root() / "oci/index.json"));
    REQUIRE(index["manifests"].size() == 1);
    id += index["manifests"][0]["digest"].get<std::string>();
  }
  CHECK(ids[0] == ids[1]);
}

}  // namespace
}  // namespace kiln::e2e
