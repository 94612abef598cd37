#include "engine/run/run_mounts.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <optional>

#include "engine/base/hash.h"
#include "engine/base/system_error.h"
#include "engine/run/overlay_mount.h"

namespace kiln {
namespace fs = std::filesystem;

namespace {

/// An option's value, nullopt when absent.
std::optional<std::string> Option(const RunMount& mount, const std::string& key) {
  auto it = mount.options.find(key);
  if (it == mount.options.end()) return std::nullopt;
  return it->second;
}

/// A boolean option: present without a value or "true" is true.
std::optional<bool> BoolOption(const RunMount& mount, const std::string& key) {
  auto value = Option(mount, key);
  if (!value) return std::nullopt;
  if (value->empty() || *value == "true" || *value == "1") return true;
  if (*value == "false" || *value == "0") return false;
  throw RunMountError("invalid value \"" + *value + "\" for mount option " + key);
}

bool ReadOnly(const RunMount& mount, bool default_value) {
  for (const char* key : {"readonly", "ro"}) {
    if (auto value = BoolOption(mount, key)) return *value;
  }
  for (const char* key : {"rw", "readwrite"}) {
    if (auto value = BoolOption(mount, key)) return !*value;
  }
  return default_value;
}

uint32_t NumberOption(const RunMount& mount, const std::string& key, uint32_t default_value,
                      int base) {
  auto value = Option(mount, key);
  if (!value) return default_value;
  try {
    size_t used = 0;
    unsigned long number = std::stoul(*value, &used, base);
    if (used == value->size() && number <= UINT32_MAX) return static_cast<uint32_t>(number);
  } catch (const std::exception&) {  // reported below
  }
  throw RunMountError("invalid value \"" + *value + "\" for mount option " + key);
}

class LockFile {
 public:
  explicit LockFile(const fs::path& path)
      : fd_(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600)) {
    if (fd_ < 0) ThrowErrno<RunMountError>("opening", path);
  }
  ~LockFile() {
    if (fd_ >= 0) ::close(fd_);
  }
  LockFile(LockFile&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  LockFile(const LockFile&) = delete;
  LockFile& operator=(const LockFile&) = delete;
  LockFile& operator=(LockFile&&) = delete;

  /// flock(2) with `operation`; false when LOCK_NB and busy.
  bool Lock(int operation) {
    while (::flock(fd_, operation) != 0) {
      if (errno == EWOULDBLOCK) return false;
      if (errno != EINTR) ThrowErrno<RunMountError>("locking cache mount");
    }
    return true;
  }

 private:
  int fd_;
};

void WriteSecretFile(const fs::path& path, const std::string& content, mode_t mode, uid_t uid,
                     gid_t gid) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) ThrowErrno<RunMountError>("creating", path);
  bool ok = ::write(fd, content.data(), content.size()) == static_cast<ssize_t>(content.size()) &&
            ::fchown(fd, uid, gid) == 0 && ::fchmod(fd, mode) == 0;
  int error = errno;
  ::close(fd);
  if (!ok) {
    errno = error;
    ThrowErrno<RunMountError>("writing secret file", path);
  }
}

std::string ReadSecret(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in.is_open()) throw RunMountError("reading secret " + path.string() + " failed");
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace

struct PreparedRunMounts::Resources {
  // Declared first, destroyed last: locks outlive the mounts using the caches.
  std::vector<LockFile> locks;
  std::vector<OverlayMount> overlays;
  fs::path secrets_tmpfs;  // mounted when not empty
  bool secrets_dir_ready = false;
  int next_scratch = 0;

  ~Resources() {
    if (!secrets_tmpfs.empty()) ::umount2(secrets_tmpfs.c_str(), MNT_DETACH);
  }

  fs::path NewScratch(const fs::path& scratch, const std::string& kind) {
    fs::path dir = scratch / (kind + "-" + std::to_string(next_scratch++));
    fs::create_directories(dir);
    return dir;
  }
};

PreparedRunMounts::~PreparedRunMounts() = default;

std::string CacheMountDirName(const std::string& id) {
  std::string readable;
  for (char c : id) {
    bool plain = std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
    readable += plain ? c : '_';
    if (readable.size() == 48) break;
  }
  while (!readable.empty() && readable.front() == '.') readable.erase(0, 1);
  return readable + "-" + CacheKey(id).substr(0, 12);
}

namespace {

/// The cache directory for `mount`, locked as its sharing mode asks, created on first use.
fs::path AcquireCache(const RunMount& mount, const RunMountSources& sources,
                      std::vector<LockFile>& locks) {
  std::string id = Option(mount, "id").value_or("");
  if (id.empty()) id = mount.target;
  std::string sharing = Option(mount, "sharing").value_or("shared");
  if (sharing != "shared" && sharing != "private" && sharing != "locked") {
    throw RunMountError("invalid cache sharing mode \"" + sharing +
                        "\" (shared, private or locked)");
  }
  fs::path root = sources.store_root / "cache-mounts";
  fs::create_directories(root);
  std::string base = CacheMountDirName(id);
  fs::path dir;
  for (int instance = 0;; ++instance) {
    std::string name = instance == 0 ? base : base + "." + std::to_string(instance);
    LockFile lock(root / (name + ".lock"));
    bool acquired = sharing == "shared"   ? lock.Lock(LOCK_SH)
                    : sharing == "locked" ? lock.Lock(LOCK_EX)
                                          : lock.Lock(LOCK_EX | LOCK_NB);
    if (!acquired) continue;  // private and busy: the next instance
    locks.push_back(std::move(lock));
    dir = root / name;
    break;
  }
  if (!fs::exists(dir)) {
    // Created aside and renamed, so a concurrent shared user sees it whole or not at all.
    fs::path staging = dir.string() + ".new-" + std::to_string(::getpid());
    fs::remove_all(staging);
    if (::mkdir(staging.c_str(), 0700) != 0) ThrowErrno<RunMountError>("creating", staging);
    if (::chown(staging.c_str(), NumberOption(mount, "uid", 0, 10),
                NumberOption(mount, "gid", 0, 10)) != 0 ||
        ::chmod(staging.c_str(), NumberOption(mount, "mode", 0755, 8)) != 0) {
      ThrowErrno<RunMountError>("setting up cache mount", staging);
    }
    if (::rename(staging.c_str(), dir.c_str()) != 0) fs::remove_all(staging);
  }
  return dir;
}

}  // namespace

std::unique_ptr<PreparedRunMounts> PrepareRunMounts(const std::vector<RunMount>& mounts,
                                                    const RunMountSources& sources) {
  std::unique_ptr<PreparedRunMounts> prepared(new PreparedRunMounts());
  prepared->resources_ = std::make_unique<PreparedRunMounts::Resources>();
  auto& resources = *prepared->resources_;
  auto add = [&](const std::string& type, const fs::path& source, const std::string& target,
                 std::vector<std::string> options) {
    prepared->mounts_.push_back({type, source, target, std::move(options)});
  };
  for (const auto& mount : mounts) {
    if (mount.type != "secret" && mount.target.empty()) {
      throw RunMountError("mount type " + mount.type + " needs a target");
    }
    if (mount.type == "cache") {
      fs::path dir = AcquireCache(mount, sources, resources.locks);
      add("bind", dir, mount.target,
          ReadOnly(mount, false) ? std::vector<std::string>{"ro"} : std::vector<std::string>{});
    } else if (mount.type == "tmpfs") {
      std::vector<std::string> options = {"nosuid", "nodev"};
      if (auto size = Option(mount, "size")) options.push_back("size=" + *size);
      add("tmpfs", "", mount.target, options);
    } else if (mount.type == "bind") {
      if (!sources.bind_source) throw RunMountError("no source for bind mount " + mount.target);
      fs::path source = sources.bind_source(mount);
      std::error_code ec;
      if (!fs::exists(fs::symlink_status(source, ec))) {
        throw RunMountError("bind mount source " + Option(mount, "source").value_or("/") + " for " +
                            mount.target + " does not exist");
      }
      if (ReadOnly(mount, true)) {
        add("bind", source, mount.target, {"ro"});
        continue;
      }
      fs::path scratch = resources.NewScratch(sources.scratch, "bind");
      if (!fs::is_directory(source)) {
        fs::copy_file(source, scratch / "file");
        add("bind", scratch / "file", mount.target, {});
        continue;
      }
      try {
        resources.overlays.emplace_back(std::vector<fs::path>{source}, scratch / "upper",
                                        scratch / "work", scratch / "merged", scratch / "l");
        add("bind", scratch / "merged", mount.target, {});
      } catch (const OverlayError&) {
        CopyTree(source, scratch / "copy");
        add("bind", scratch / "copy", mount.target, {});
      }
    } else if (mount.type == "secret") {
      std::string id = Option(mount, "id").value_or("");
      if (id.empty()) id = fs::path(mount.target).filename().string();
      if (id.empty()) throw RunMountError("secret mount needs an id or a target");
      auto found = sources.secrets.find(id);
      std::error_code ec;
      if (found == sources.secrets.end() || !fs::is_regular_file(found->second, ec)) {
        if (BoolOption(mount, "required").value_or(false)) {
          throw RunMountError("secret " + id + ": not found");
        }
        continue;
      }
      std::string content = ReadSecret(found->second);
      auto env = Option(mount, "env");
      if (env && !env->empty()) prepared->env_.push_back(*env + "=" + content);
      if (env && !env->empty() && mount.target.empty()) continue;
      if (!resources.secrets_dir_ready) {
        resources.secrets_dir_ready = true;
        fs::path dir = sources.scratch / "secrets";
        fs::create_directories(dir);
        fs::permissions(dir, fs::perms::owner_all);
        // A tmpfs keeps secret bytes off the disk; without one they stay in scratch only.
        if (::mount("tmpfs", dir.c_str(), "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
                    "size=16m,mode=0700") == 0) {
          resources.secrets_tmpfs = dir;
        }
      }
      fs::path file = sources.scratch / "secrets" / std::to_string(prepared->mounts_.size());
      WriteSecretFile(file, content, NumberOption(mount, "mode", 0400, 8),
                      NumberOption(mount, "uid", 0, 10), NumberOption(mount, "gid", 0, 10));
      add("bind", file, mount.target.empty() ? "/run/secrets/" + id : mount.target,
          {"ro", "nosuid", "nodev", "noexec"});
    } else {
      throw RunMountError("mount type " + mount.type + " is not supported");
    }
  }
  return prepared;
}

}  // namespace kiln
