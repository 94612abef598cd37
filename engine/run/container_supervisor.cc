#include "engine/run/container_supervisor.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <deque>
#include <fstream>
#include <map>
#include <mutex>
#include <thread>

#include "engine/base/system_error.h"
#include "engine/base/unique_fd.h"
#include "engine/store/image_config.h"

namespace kiln {
namespace fs = std::filesystem;
namespace {

std::string NowRfc3339() {
  const auto since_epoch = std::chrono::system_clock::now().time_since_epoch();
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(since_epoch);
  const auto nanos = std::chrono::duration_cast<std::chrono::nanoseconds>(since_epoch - seconds);
  return Rfc3339(seconds.count(), nanos.count());
}

std::string PidNamespace(int pid) {
  std::error_code ec;
  return fs::read_symlink("/proc/" + std::to_string(pid) + "/ns/pid", ec).string();
}

int ParentPid(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t close = stat.rfind(')');
  if (close == std::string::npos) return 0;
  char state = 0;
  int ppid = 0;
  if (std::sscanf(stat.c_str() + close + 1, " %c %d", &state, &ppid) != 2) return 0;
  return ppid;
}

/// The first descendant of this process in another pid namespace: the container's init (the
/// runtime itself stays in ours).
std::optional<int> FindContainerInit() {
  const std::string ours = PidNamespace(::getpid());
  std::map<int, std::vector<int>> children;
  std::error_code ec;
  for (fs::directory_iterator it("/proc", ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    const int pid = std::stoi(name);
    children[ParentPid(pid)].push_back(pid);
  }
  std::deque<int> queue = {::getpid()};
  while (!queue.empty()) {
    const int pid = queue.front();
    queue.pop_front();
    for (int child : children[pid]) {
      const std::string ns = PidNamespace(child);
      if (!ns.empty() && ns != ours) return child;
      queue.push_back(child);
    }
  }
  return std::nullopt;
}

bool WaitUntil(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

}  // namespace

int RuntimeFailureExitCode(const std::string& message) {
  if (message.find("executable file not found") != std::string::npos ||
      message.find("no such file or directory") != std::string::npos) {
    return 127;
  }
  if (message.find("permission denied") != std::string::npos) return 126;
  return 125;
}

int SuperviseContainer(ImageStore& store, const ContainerRecord& record, RunSpec spec,
                       const OutputSink& echo) {
  spec.work_root = ContainerWorkRoot(store, record.id);
  spec.durable_upper = true;
  ContainerState state = ReadContainerState(store, record.id);
  state.supervisor_pid = ::getpid();
  state.supervisor_start = ProcessStartTime(::getpid()).value_or(0);
  state.started_at = NowRfc3339();
  state.finished_at = kZeroTime;
  state.error.clear();
  std::mutex state_mutex;

  // The runtime gives no pid while it runs in the foreground: find the init once it exists.
  std::atomic<bool> finished{false};
  std::thread watcher([&] {
    while (!finished) {
      if (auto pid = FindContainerInit()) {
        if (auto start = ProcessStartTime(*pid)) {
          std::lock_guard<std::mutex> lock(state_mutex);
          state.status = "running";
          state.pid = *pid;
          state.pid_start = *start;
          WriteContainerState(store, record.id, state);
          return;
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  });

  UniqueFd log(::open(ContainerLogPath(store, record.id).c_str(),
                      O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640));
  const OutputSink sink = [&](std::string_view chunk) {
    if (log.get() >= 0) {
      if (::write(log.get(), chunk.data(), chunk.size()) < 0) log.Reset();
    }
    if (echo) echo(chunk);
  };
  int exit_code = 0;
  std::string error_message;
  std::exception_ptr failure;
  try {
    exit_code = RunContainer(spec, sink).exit_code;
  } catch (const RuntimeError& error) {
    exit_code = RuntimeFailureExitCode(error.what());
    error_message = error.what();
    failure = std::current_exception();
  } catch (const std::exception& error) {
    exit_code = 125;
    error_message = error.what();
    failure = std::current_exception();
  }
  finished = true;
  watcher.join();
  state.status = "exited";
  state.error = error_message;
  state.pid = 0;
  state.pid_start = 0;
  state.exit_code = exit_code;
  state.finished_at = NowRfc3339();
  if (record.auto_remove) {
    DeleteContainer(store, record.id);
  } else {
    WriteContainerState(store, record.id, state);
  }
  if (failure) std::rethrow_exception(failure);
  return exit_code;
}

ContainerState StartDetached(ImageStore& store, const ContainerRecord& record,
                             const RunSpec& spec) {
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) ThrowErrno("fork");
  if (pid == 0) {
    ::setsid();
    const int null = ::open("/dev/null", O_RDWR);
    for (int fd = 0; fd < 3; ++fd) ::dup2(null, fd);
    // Inherited descriptors (the store lock, the caller's pipes) must not live on with us.
    const int max_fd = static_cast<int>(::sysconf(_SC_OPEN_MAX));
    for (int fd = 3; fd < max_fd && fd < 65536; ++fd) ::close(fd);
    int code = 125;
    try {
      code = SuperviseContainer(store, record, spec, nullptr);
    } catch (...) {  // NOLINT(bugprone-empty-catch): recorded in state.json
    }
    ::_exit(code);
  }
  // The supervisor writes "running" when the init appears, "exited" when it is over.
  ContainerState state;
  bool reaped = false;
  WaitUntil(
      [&] {
        try {
          state = ReadContainerState(store, record.id);
        } catch (const std::exception&) {
          return true;  // auto-removed already
        }
        if (state.status != "created") return true;
        int status = 0;
        if (!reaped && ::waitpid(pid, &status, WNOHANG) == pid) reaped = true;
        return false;
      },
      std::chrono::minutes(2));
  return state;
}

void StopContainer(const ImageStore& store, const ContainerRecord& record,
                   std::chrono::seconds timeout) {
  auto alive = [&] { return IsRunning(record); };
  if (!alive()) return;
  ::kill(record.state.pid, SIGTERM);
  if (!WaitUntil([&] { return !alive(); }, timeout)) {
    if (alive()) ::kill(record.state.pid, SIGKILL);
    WaitUntil([&] { return !alive(); }, std::chrono::seconds(30));
  }
  // The supervisor records the exit right after the runtime returns.
  WaitUntil(
      [&] {
        try {
          ContainerState state = ReadContainerState(store, record.id);
          return state.status != "running" || !ProcessStartTime(state.supervisor_pid).has_value();
        } catch (const std::exception&) {
          return true;
        }
      },
      std::chrono::seconds(10));
}

}  // namespace kiln
