#include "engine/run/container_runtime.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <optional>
#include <random>
#include <sstream>

#include "engine/base/atomic_file.h"
#include "engine/base/subprocess.h"
#include "engine/base/system_error.h"
#include "engine/base/unique_fd.h"
#include "engine/run/overlay_mount.h"

namespace kiln {
namespace fs = std::filesystem;

namespace {

constexpr size_t kTailLines = 30;
constexpr const char* kDefaultPath =
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

// Docker's default capability set.
const char* const kCapabilities[] = {
    "CAP_CHOWN",   "CAP_DAC_OVERRIDE", "CAP_FSETID",           "CAP_FOWNER",
    "CAP_MKNOD",   "CAP_NET_RAW",      "CAP_SETGID",           "CAP_SETUID",
    "CAP_SETFCAP", "CAP_SETPCAP",      "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT",
    "CAP_KILL",    "CAP_AUDIT_WRITE"};

// Docker's default masked and read-only paths.
const char* const kMaskedPaths[] = {"/proc/asound",
                                    "/proc/acpi",
                                    "/proc/kcore",
                                    "/proc/keys",
                                    "/proc/latency_stats",
                                    "/proc/timer_list",
                                    "/proc/timer_stats",
                                    "/proc/sched_debug",
                                    "/proc/scsi",
                                    "/sys/firmware",
                                    "/sys/devices/virtual/powercap"};
const char* const kReadonlyPaths[] = {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
                                      "/proc/sysrq-trigger"};

/// Keeps the last kTailLines lines of a stream.
class OutputTail {
 public:
  void Append(std::string_view chunk) {
    text_.append(chunk);
    if (text_.size() > 256 * 1024) Trim();
  }
  std::string Take() {
    Trim();
    return text_;
  }

 private:
  void Trim() {
    // Output without newlines must not grow without bound either.
    constexpr size_t kMaxTailBytes = 64 * 1024;
    if (text_.size() > kMaxTailBytes) text_.erase(0, text_.size() - kMaxTailBytes);
    size_t end = text_.size();
    if (end > 0 && text_[end - 1] == '\n') --end;
    size_t lines = 0;
    size_t pos = end;
    while (pos > 0) {
      size_t newline = text_.rfind('\n', pos - 1);
      if (newline == std::string::npos) return;
      if (++lines == kTailLines) {
        text_.erase(0, newline + 1);
        return;
      }
      pos = newline;
    }
  }
  std::string text_;
};

fs::path FindExecutable(const std::string& name) {
  if (name.find('/') != std::string::npos) {
    if (::access(name.c_str(), X_OK) == 0) return name;
  } else {
    const char* env_path = std::getenv("PATH");
    std::string search = std::string(env_path ? env_path : "") + ":/usr/local/sbin:/usr/sbin:/sbin";
    std::istringstream dirs(search);
    std::string dir;
    while (std::getline(dirs, dir, ':')) {
      if (dir.empty()) continue;
      fs::path candidate = fs::path(dir) / name;
      if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    }
  }
  throw RuntimeError("OCI runtime \"" + name + "\" not found in PATH (install it or set " +
                     "KILN_RUNTIME)");
}

std::string UniqueContainerId() {
  static std::atomic<unsigned> counter{0};
  std::random_device random;
  std::ostringstream id;
  id << "kiln-" << ::getpid() << "-" << counter++ << "-" << std::hex << random();
  return id.str();
}

void WriteFile(const fs::path& path, const std::string& content, mode_t mode) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
  out.close();
  if (!out) throw RuntimeError("writing " + path.string() + " failed");
  fs::permissions(path, static_cast<fs::perms>(mode));
}

/// /etc/hosts and /etc/resolv.conf for the container: copies of the host's with the host's
/// network, a loopback-only hosts file without one. Bound read-only.
std::vector<MountSpec> NetworkFileMounts(const RunSpec& spec, const fs::path& dir) {
  std::vector<MountSpec> mounts;
  auto add = [&](const std::string& name, const std::string& content) {
    fs::path file = dir / name;
    WriteFile(file, content, 0644);
    mounts.push_back({"bind", file, "/etc/" + name, {"rbind", "ro"}});
  };
  if (spec.network == "none") {
    add("hosts",
        "127.0.0.1\tlocalhost " + spec.hostname + "\n::1\tlocalhost ip6-localhost ip6-loopback\n");
    return mounts;
  }
  std::error_code ec;
  // The container's own hostname must resolve (sudo and others complain otherwise).
  std::string hosts = fs::is_regular_file("/etc/hosts", ec) ? ReadWholeFile("/etc/hosts") : "";
  if (!hosts.empty() && hosts.back() != '\n') hosts += '\n';
  add("hosts", hosts + "127.0.0.1\t" + spec.hostname + "\n");
  if (fs::is_regular_file("/etc/resolv.conf", ec))
    add("resolv.conf", ReadWholeFile("/etc/resolv.conf"));
  return mounts;
}

bool SameMtime(const struct stat& a, const struct stat& b) {
  return a.st_mtim.tv_sec == b.st_mtim.tv_sec && a.st_mtim.tv_nsec == b.st_mtim.tv_nsec;
}

struct stat LstatOrThrow(const fs::path& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) ThrowErrno<RuntimeError>("lstat", path);
  return st;
}

/// Mount points kiln creates in the root for the run and removes afterwards, so that neither
/// they nor the directories overlayfs copied up for them end up in the layer (the approach of
/// BuildKit's mount stubs).
class MountStubs {
 public:
  explicit MountStubs(fs::path root) : root_(std::move(root)) {}

  /// Creates `destination`'s missing components (a file at the end when `file`).
  void Create(const std::string& destination, bool file) {
    std::vector<std::string> missing;
    fs::path existing = ResolveExisting(destination, missing);
    if (missing.empty()) return;
    Stub stub;
    stub.parent = existing;
    for (fs::path ancestor = existing;; ancestor = ancestor.parent_path()) {
      stub.ancestors.emplace_back(ancestor, LstatOrThrow(root_ / ancestor));
      if (ancestor.empty()) break;
    }
    fs::path current = existing;
    for (size_t i = 0; i < missing.size(); ++i) {
      current /= missing[i];
      stub.created.push_back(current);
      fs::path host = root_ / current;
      if (i + 1 == missing.size() && file) {
        UniqueFd fd(::open(host.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
        if (!fd.valid()) ThrowErrno<RuntimeError>("creating mount point", host);
      } else if (::mkdir(host.c_str(), 0755) != 0) {
        ThrowErrno<RuntimeError>("creating mount point", host);
      }
    }
    stub.parent_after = LstatOrThrow(root_ / existing);
    stubs_.push_back(std::move(stub));
  }

  /// Removes the stubs still empty, newest first, through the root; a parent directory nothing
  /// else touched gets its original times back.
  void Remove() {
    for (auto it = stubs_.rbegin(); it != stubs_.rend(); ++it) {
      fs::path parent = root_ / it->parent;
      struct stat now = LstatOrThrow(parent);
      bool removed =
          std::all_of(it->created.rbegin(), it->created.rend(),
                      [&](const fs::path& created) { return RemoveIfEmpty(root_ / created); });
      if (!removed) continue;
      const struct stat& restore =
          SameMtime(now, it->parent_after) ? it->ancestors.front().second : now;
      const struct timespec times[2] = {restore.st_atim, restore.st_mtim};
      ::utimensat(AT_FDCWD, parent.c_str(), times, AT_SYMLINK_NOFOLLOW);
    }
  }

  /// Removes from an overlay upper directory the directories copied up only for the stubs:
  /// empty, not opaque, and with the metadata they had before.
  void PruneCopiedUp(const fs::path& upper) const {
    for (auto it = stubs_.rbegin(); it != stubs_.rend(); ++it) {
      for (const auto& [relative, before] : it->ancestors) {
        if (relative.empty()) break;
        fs::path dir = upper / relative;
        struct stat st {};
        if (::lstat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) break;
        if (st.st_mode != before.st_mode || st.st_uid != before.st_uid ||
            st.st_gid != before.st_gid || !SameMtime(st, before) || !fs::is_empty(dir) ||
            ::lgetxattr(dir.c_str(), "trusted.overlay.opaque", nullptr, 0) >= 0) {
          break;
        }
        if (::rmdir(dir.c_str()) != 0) break;
      }
    }
  }

 private:
  struct Stub {
    fs::path parent;              // relative to the root; existed before
    struct stat parent_after {};  // right after the stubs were made
    // the parent and its ancestors, deepest first, as they were before
    std::vector<std::pair<fs::path, struct stat>> ancestors;
    std::vector<fs::path> created;  // top-most first, relative to the root
  };

  /// Follows `destination` inside the root (symlinks resolved against the root, as runc does)
  /// as far as it exists; returns that part (relative) and the missing components.
  fs::path ResolveExisting(const std::string& destination, std::vector<std::string>& missing) {
    std::vector<std::string> todo;
    for (const auto& part : fs::path(destination).relative_path()) todo.push_back(part.string());
    std::reverse(todo.begin(), todo.end());
    fs::path current;
    int links = 0;
    while (!todo.empty()) {
      std::string part = todo.back();
      todo.pop_back();
      if (part.empty() || part == ".") continue;
      if (part == "..") {
        current = current.parent_path();
        continue;
      }
      struct stat st {};
      if (::lstat((root_ / current / part).c_str(), &st) != 0) {
        missing.push_back(part);
        while (!todo.empty()) {
          if (!todo.back().empty() && todo.back() != ".") missing.push_back(todo.back());
          todo.pop_back();
        }
        return current;
      }
      if (!S_ISLNK(st.st_mode)) {
        current /= part;
        continue;
      }
      if (++links > 40) throw RuntimeError("too many symlinks resolving " + destination);
      fs::path target = fs::read_symlink(root_ / current / part);
      if (target.is_absolute()) current.clear();
      std::vector<std::string> parts;
      for (const auto& p : target.relative_path()) parts.push_back(p.string());
      for (auto p = parts.rbegin(); p != parts.rend(); ++p) todo.push_back(*p);
    }
    return current;
  }

  static bool RemoveIfEmpty(const fs::path& path) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) return true;
    bool empty = S_ISDIR(st.st_mode) ? fs::is_empty(path) : S_ISREG(st.st_mode) && st.st_size == 0;
    return empty && ::remove(path.c_str()) == 0;
  }

  fs::path root_;
  std::vector<Stub> stubs_;
};

/// Whether an earlier mount's destination contains `destination` (the runtime then creates the
/// mount point inside that mount, not in the root).
bool CoveredByEarlierMount(const std::vector<MountSpec>& mounts, size_t index) {
  fs::path destination = fs::path(mounts[index].destination).lexically_normal();
  for (size_t i = 0; i < index; ++i) {
    fs::path outer = fs::path(mounts[i].destination).lexically_normal();
    auto rel = destination.lexically_relative(outer);
    if (!rel.empty() && rel != "." && *rel.begin() != "..") return true;
  }
  return false;
}

/// mkdir -p of the working directory inside the root, following symlinks like the stubs do.
void EnsureWorkingDirectory(const fs::path& root, const std::string& cwd) {
  fs::path current = root;
  for (const auto& part : fs::path(cwd).relative_path()) {
    current /= part;
    std::error_code ec;
    auto status = fs::symlink_status(current, ec);
    if (fs::is_symlink(status)) return;  // let the runtime resolve it inside the root
    if (!fs::exists(status) && ::mkdir(current.c_str(), 0755) != 0) {
      ThrowErrno<RuntimeError>("creating working directory", cwd);
    }
  }
}

/// The runtime's error messages from its JSON log (runc --log-format json).
std::string RuntimeLogErrors(const fs::path& log) {
  std::ifstream in(log);
  std::string line, errors;
  while (std::getline(in, line)) {
    auto entry = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (entry.is_object() && entry.value("level", "") == "error") {
      if (!errors.empty()) errors += "; ";
      errors += entry.value("msg", line);
    }
  }
  return errors;
}

struct ProcessOutcome {
  int status = 0;  // waitpid status
  std::string tail;
};

/// Runs argv with stdout and stderr on one stream and `stdin_data` on stdin, streaming the output.
ProcessOutcome RunAndTail(const std::vector<std::string>& argv, const std::string& stdin_data,
                          const OutputSink& output) {
  OutputTail tail;
  ProcessSpec process;
  process.argv = argv;
  process.stdin_data = stdin_data;
  process.on_stdout = [&](std::string_view chunk) {
    tail.Append(chunk);
    if (output) output(chunk);
  };
  ProcessOutcome outcome;
  try {
    outcome.status = RunProcess(std::move(process));
  } catch (const ProcessError& error) {
    throw RuntimeError(error.what());
  }
  outcome.tail = tail.Take();
  return outcome;
}

/// `runtime delete -f id` when destroyed, unless dismissed: a container never outlives the run.
class ContainerDeleter {
 public:
  ContainerDeleter(fs::path runtime, std::string id)
      : runtime_(std::move(runtime)), id_(std::move(id)) {}
  ~ContainerDeleter() {
    if (dismissed_) return;
    try {
      RunProcess({.argv = {runtime_.string(), "delete", "-f", id_}});
    } catch (...) {  // NOLINT(bugprone-empty-catch): best effort in a destructor
    }
  }
  /// The runtime removed the container itself (`run` without --keep does when it returns).
  void Dismiss() { dismissed_ = true; }
  ContainerDeleter(const ContainerDeleter&) = delete;
  ContainerDeleter& operator=(const ContainerDeleter&) = delete;

 private:
  fs::path runtime_;
  std::string id_;
  bool dismissed_ = false;
};

nlohmann::json MountJson(const MountSpec& mount) {
  std::vector<std::string> options = mount.options;
  std::string type = mount.type;
  std::string source = mount.source.string();
  if (type == "bind") {
    if (std::find(options.begin(), options.end(), "bind") == options.end() &&
        std::find(options.begin(), options.end(), "rbind") == options.end()) {
      options.insert(options.begin(), "rbind");
    }
  } else if (source.empty()) {
    source = type;
  }
  return {
      {"destination", mount.destination}, {"type", type}, {"source", source}, {"options", options}};
}

std::vector<MountSpec> AllMounts(const RunSpec& spec, const fs::path& network_files_dir) {
  for (const auto& mount : spec.mounts) {
    if (mount.destination.empty() || mount.destination[0] != '/' ||
        fs::path(mount.destination).lexically_normal() == "/") {
      throw RuntimeError("invalid mount destination \"" + mount.destination +
                         "\": must be an absolute path other than /");
    }
    if (mount.type != "bind" && mount.type != "tmpfs") {
      throw RuntimeError("unsupported mount type \"" + mount.type + "\" for " + mount.destination);
    }
  }
  std::vector<MountSpec> mounts = DefaultMounts();
  for (auto& mount : NetworkFileMounts(spec, network_files_dir)) mounts.push_back(mount);
  // Shallow destinations first, so a mount inside another lands on top of it.
  std::vector<MountSpec> user = spec.mounts;
  std::stable_sort(user.begin(), user.end(), [](const MountSpec& a, const MountSpec& b) {
    auto depth = [](const std::string& p) {
      auto normal = fs::path(p).lexically_normal();
      return std::distance(normal.begin(), normal.end());
    };
    return depth(a.destination) < depth(b.destination);
  });
  mounts.insert(mounts.end(), user.begin(), user.end());
  return mounts;
}

/// A container run by one runtime; `runtime_error` is set when the runtime itself failed.
struct BundleRun {
  ProcessOutcome outcome;
  std::string runtime_error;
};

BundleRun RunBundle(const std::string& runtime_name, const fs::path& bundle,
                    const std::string& stdin_data, const OutputSink& output) {
  BundleRun run;
  fs::path runtime;
  try {
    runtime = FindExecutable(runtime_name);
  } catch (const RuntimeError& error) {
    run.runtime_error = error.what();
    return run;
  }
  const std::string id = UniqueContainerId();
  const fs::path log = bundle / (runtime_name + ".log");
  fs::remove(log);
  // runc and crun both log their own errors as JSON lines when asked, apart from the output.
  std::vector<std::string> argv = {runtime.string(), "--log",         log.string(),
                                   "--log-format",   "json",          "run",
                                   "--bundle",       bundle.string(), id};
  ContainerDeleter deleter(runtime, id);
  run.outcome = RunAndTail(argv, stdin_data, output);
  if (ExitCode(run.outcome.status) != 0) {
    std::string errors = RuntimeLogErrors(log);
    if (!errors.empty()) run.runtime_error = runtime_name + " run failed: " + errors;
  }
  // A runtime that returned by itself, without an error of its own, has removed the container:
  // `delete` would only cost another runtime start per RUN step.
  if (run.runtime_error.empty() && !WIFSIGNALED(run.outcome.status)) deleter.Dismiss();
  return run;
}

/// Set once crun failed to start a container that runc then ran: crun does not work here (e.g.
/// it refuses hybrid cgroup hierarchies), so this process uses runc from then on.
std::atomic<bool> crun_unusable{false};

/// Runs the bundle with the chosen runtime; crun falls back to runc when it cannot start the
/// container (missing, or logging an error: the runtimes log errors only when creating or
/// starting the container failed, before the process ran).
ProcessOutcome RunWithRuntime(const std::string& chosen, const fs::path& bundle,
                              const std::string& stdin_data, const OutputSink& output) {
  std::string name = chosen == "crun" && crun_unusable ? "runc" : chosen;
  BundleRun run = RunBundle(name, bundle, stdin_data, output);
  if (!run.runtime_error.empty() && name == "crun") {
    if (output) output("kiln: " + run.runtime_error + "; using runc\n");
    BundleRun fallback = RunBundle("runc", bundle, stdin_data, output);
    if (fallback.runtime_error.empty()) crun_unusable = true;
    run = std::move(fallback);
  }
  if (!run.runtime_error.empty()) throw RuntimeError(run.runtime_error);
  return std::move(run.outcome);
}

}  // namespace

std::vector<MountSpec> DefaultMounts() {
  return {
      {"proc", "proc", "/proc", {"nosuid", "noexec", "nodev"}},
      {"tmpfs", "tmpfs", "/dev", {"nosuid", "strictatime", "mode=755", "size=65536k"}},
      {"devpts",
       "devpts",
       "/dev/pts",
       {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}},
      {"sysfs", "sysfs", "/sys", {"nosuid", "noexec", "nodev", "ro"}},
      {"mqueue", "mqueue", "/dev/mqueue", {"nosuid", "noexec", "nodev"}},
      {"tmpfs", "shm", "/dev/shm", {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}},
  };
}

std::string SelectRuntime(const std::string& requested) {
  if (!requested.empty()) return requested;
  const char* env = std::getenv("KILN_RUNTIME");
  return env != nullptr && *env != '\0' ? env : "runc";
}

nlohmann::json OciConfig(const RunSpec& spec, const fs::path& rootfs,
                         const std::vector<MountSpec>& mounts) {
  std::vector<std::string> env = spec.env;
  auto has = [&](const std::string& prefix) {
    return std::any_of(env.begin(), env.end(),
                       [&](const std::string& e) { return e.rfind(prefix, 0) == 0; });
  };
  if (!has("HOME=")) env.insert(env.begin(), "HOME=" + (spec.home.empty() ? "/" : spec.home));
  if (!has("PATH=")) env.insert(env.begin(), kDefaultPath);
  nlohmann::json caps = nlohmann::json::array();
  for (const char* cap : kCapabilities) caps.push_back(cap);
  nlohmann::json user = {{"uid", spec.uid}, {"gid", spec.gid}};
  if (!spec.additional_gids.empty()) user["additionalGids"] = spec.additional_gids;
  nlohmann::json process = {
      {"terminal", false},
      {"user", user},
      {"args", spec.args},
      {"env", env},
      {"cwd", spec.cwd.empty() ? "/" : spec.cwd},
      {"capabilities", {{"bounding", caps}, {"effective", caps}, {"permitted", caps}}},
      {"noNewPrivileges", false},
  };
  // The host's own limit: runc refuses to raise a hard limit above it.
  struct rlimit nofile {};
  if (::getrlimit(RLIMIT_NOFILE, &nofile) == 0) {
    process["rlimits"] = {{{"type", "RLIMIT_NOFILE"},
                           {"hard", static_cast<uint64_t>(nofile.rlim_max)},
                           {"soft", static_cast<uint64_t>(nofile.rlim_cur)}}};
  }
  nlohmann::json namespaces = nlohmann::json::array();
  for (const char* ns : {"pid", "ipc", "uts", "mount"}) namespaces.push_back({{"type", ns}});
  if (spec.network == "none") namespaces.push_back({{"type", "network"}});
  nlohmann::json mount_list = nlohmann::json::array();
  for (const auto& mount : mounts) mount_list.push_back(MountJson(mount));
  nlohmann::json masked = nlohmann::json::array(), readonly = nlohmann::json::array();
  for (const char* path : kMaskedPaths) masked.push_back(path);
  for (const char* path : kReadonlyPaths) readonly.push_back(path);
  return {
      {"ociVersion", "1.0.2"},
      {"process", process},
      {"root", {{"path", fs::absolute(rootfs).string()}, {"readonly", false}}},
      {"hostname", spec.hostname},
      {"mounts", mount_list},
      {"linux",
       {{"namespaces", namespaces},
        {"resources", {{"devices", {{{"allow", false}, {"access", "rwm"}}}}}},
        {"maskedPaths", masked},
        {"readonlyPaths", readonly}}},
  };
}

RunResult RunContainer(const RunSpec& spec, const OutputSink& output) {
  if (spec.args.empty()) throw RuntimeError("no command to run");
  if (spec.work_root.empty()) throw RuntimeError("RunSpec.work_root is not set");
  if (spec.network != "default" && spec.network != "host" && spec.network != "none") {
    throw RuntimeError("unsupported network mode \"" + spec.network + "\"");
  }
  const fs::path work_root = fs::absolute(spec.work_root);
  const fs::path bundle = work_root / "bundle";
  fs::create_directories(bundle);

  std::vector<MountSpec> mounts = AllMounts(spec, bundle);
  WritableRootfs rootfs(spec.lower_dirs, work_root / "fs",
                        spec.durable_upper ? UpperSync::kOnUnmount : UpperSync::kNever);
  MountStubs stubs(rootfs.root());
  for (size_t i = 0; i < mounts.size(); ++i) {
    if (CoveredByEarlierMount(mounts, i)) continue;
    std::error_code ec;
    bool file = mounts[i].type == "bind" && !fs::is_directory(mounts[i].source, ec);
    stubs.Create(mounts[i].destination, file);
  }
  EnsureWorkingDirectory(rootfs.root(), spec.cwd);
  WriteFile(bundle / "config.json", OciConfig(spec, rootfs.root(), mounts).dump(2), 0600);

  ProcessOutcome outcome;
  try {
    outcome = RunWithRuntime(SelectRuntime(spec.runtime), bundle, spec.stdin_data, output);
  } catch (const RuntimeError& error) {
    // Some sandboxes refuse a fresh sysfs outside a new network namespace; the host's /sys
    // bound read-only serves as well there.
    if (spec.network == "none" || std::string(error.what()).find("sysfs") == std::string::npos) {
      throw;
    }
    for (auto& mount : mounts) {
      if (mount.destination == "/sys")
        mount = {"bind", "/sys", "/sys", {"rbind", "ro", "nosuid", "noexec", "nodev"}};
    }
    WriteFile(bundle / "config.json", OciConfig(spec, rootfs.root(), mounts).dump(2), 0600);
    outcome = RunWithRuntime(SelectRuntime(spec.runtime), bundle, spec.stdin_data, output);
  }
  int exit_code = ExitCode(outcome.status);
  stubs.Remove();
  RunResult result;
  result.exit_code = exit_code;
  result.output_tail = std::move(outcome.tail);
  result.overlay = rootfs.overlay();
  result.upper_dir = rootfs.Finish();
  if (result.overlay) stubs.PruneCopiedUp(result.upper_dir);
  return result;
}

std::string RunFailureMessage(const std::vector<std::string>& args, int exit_code) {
  std::string joined;
  for (const auto& arg : args) joined += (joined.empty() ? "" : " ") + arg;
  return "process \"" + joined +
         "\" did not complete successfully: exit code: " + std::to_string(exit_code);
}

std::string RunFailureReport(std::string_view step_title, const std::vector<std::string>& args,
                             int exit_code, std::string_view output_tail) {
  std::string report = "------\n > " + std::string(step_title) + ":\n";
  report += output_tail;
  if (!output_tail.empty() && output_tail.back() != '\n') report += '\n';
  return report + "------\n" + RunFailureMessage(args, exit_code);
}

}  // namespace kiln
