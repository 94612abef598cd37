#include "engine/base/subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <set>
#include <tuple>

#include "engine/base/system_error.h"

extern char** environ;

namespace kiln {
namespace {

/// This process's environment with `additions` ("NAME=value") replacing same-named entries.
std::vector<std::string> ChildEnvironment(const std::vector<std::string>& additions) {
  std::set<std::string, std::less<>> replaced;
  for (const std::string& entry : additions) replaced.insert(entry.substr(0, entry.find('=')));
  std::vector<std::string> env;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    const std::string_view text(*entry);
    if (!replaced.contains(text.substr(0, text.find('=')))) env.emplace_back(text);
  }
  env.insert(env.end(), additions.begin(), additions.end());
  return env;
}

/// Null-terminated pointers into `strings`, for the exec family.
std::vector<char*> CStrings(std::vector<std::string>& strings) {
  std::vector<char*> pointers;
  for (std::string& s : strings) pointers.push_back(s.data());
  pointers.push_back(nullptr);
  return pointers;
}

/// A pipe (both ends close-on-exec): [0] to read, [1] to write.
std::pair<UniqueFd, UniqueFd> Pipe() {
  int ends[2];
  if (::pipe2(ends, O_CLOEXEC) != 0) ThrowErrno<ProcessError>("cannot create a pipe");
  return {UniqueFd(ends[0]), UniqueFd(ends[1])};
}

UniqueFd OpenDevNull(int flags) {
  UniqueFd fd(::open("/dev/null", flags | O_CLOEXEC));
  if (!fd.valid()) ThrowErrno<ProcessError>("cannot open", "/dev/null");
  return fd;
}

/// The file actions of posix_spawn, destroyed with their owner.
class FileActions {
 public:
  FileActions() { posix_spawn_file_actions_init(&actions_); }
  ~FileActions() { posix_spawn_file_actions_destroy(&actions_); }
  FileActions(const FileActions&) = delete;
  FileActions& operator=(const FileActions&) = delete;
  /// `fd` becomes `target` in the child; with fd == target, it merely stays open there.
  void Dup2(int fd, int target) { posix_spawn_file_actions_adddup2(&actions_, fd, target); }
  const posix_spawn_file_actions_t* get() const { return &actions_; }

 private:
  posix_spawn_file_actions_t actions_;
};

/// Kills and reaps the child unless disarmed: a child must not outlive a failed run.
struct Reaper {
  pid_t pid;
  bool armed = true;
  ~Reaper() {
    if (!armed) return;
    ::kill(pid, SIGKILL);
    while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
    }
  }
};

/// A descriptor being read to its end, and where its chunks go.
struct Reader {
  int fd;
  const OutputHandler* handler;
};

/// Feeds `data` through `in` (if open) and reads every reader to its end.
void Exchange(UniqueFd& in, std::string_view data, std::vector<Reader> readers) {
  size_t written = 0;
  char buffer[16384];
  while (in.valid() || !readers.empty()) {
    std::vector<pollfd> fds;
    for (const Reader& reader : readers) fds.push_back({reader.fd, POLLIN, 0});
    if (in.valid()) fds.push_back({in.get(), POLLOUT, 0});
    if (::poll(fds.data(), fds.size(), -1) < 0) {
      if (errno == EINTR) continue;
      ThrowErrno<ProcessError>("poll");
    }
    if (in.valid() && fds.back().revents != 0) {
      const ssize_t n =
          ::send(in.get(), data.data() + written, data.size() - written, MSG_NOSIGNAL);
      if (n > 0) written += static_cast<size_t>(n);
      if ((n < 0 && errno != EAGAIN && errno != EINTR) || written == data.size()) {
        in.Reset();  // the end of stdin for the child, or it went away
      }
    }
    for (size_t i = readers.size(); i-- > 0;) {
      if (fds[i].revents == 0) continue;
      const ssize_t n = ::read(readers[i].fd, buffer, sizeof buffer);
      if (n > 0) {
        (*readers[i].handler)(std::string_view(buffer, static_cast<size_t>(n)));
      } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
        readers.erase(readers.begin() + static_cast<std::ptrdiff_t>(i));
      }
    }
  }
}

}  // namespace

int RunProcess(ProcessSpec spec) {
  if (spec.argv.empty()) throw ProcessError("no program to run");
  FileActions actions;

  UniqueFd in_write, in_read;
  if (spec.stdin_data.empty()) {
    in_read = OpenDevNull(O_RDONLY);
  } else {
    int pair[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) {
      ThrowErrno<ProcessError>("cannot create a socket pair");
    }
    in_write = UniqueFd(pair[0]);
    in_read = UniqueFd(pair[1]);
  }
  actions.Dup2(in_read.get(), 0);

  UniqueFd out_read, out_write, err_read, err_write;
  if (spec.on_stdout) {
    std::tie(out_read, out_write) = Pipe();
  } else {
    out_write = OpenDevNull(O_WRONLY);
  }
  actions.Dup2(out_write.get(), 1);
  if (spec.on_stderr) std::tie(err_read, err_write) = Pipe();
  actions.Dup2(err_write.valid() ? err_write.get() : out_write.get(), 2);
  for (const UniqueFd& fd : spec.handed_fds) actions.Dup2(fd.get(), fd.get());

  std::vector<std::string> env = ChildEnvironment(spec.env);
  std::vector<char*> c_argv = CStrings(spec.argv), c_env = CStrings(env);
  pid_t pid = 0;
  const int error =
      ::posix_spawnp(&pid, c_argv[0], actions.get(), nullptr, c_argv.data(), c_env.data());
  if (error != 0) ThrowErrno<ProcessError>("cannot start", spec.argv[0], error);
  Reaper reaper{pid};
  // Only the child holds these now: their readers see the end when it is done with them.
  in_read.Reset();
  out_write.Reset();
  err_write.Reset();
  spec.handed_fds.clear();
  if (in_write.valid()) ::fcntl(in_write.get(), F_SETFL, O_NONBLOCK);

  std::vector<Reader> readers;
  if (out_read.valid()) readers.push_back({out_read.get(), &spec.on_stdout});
  if (err_read.valid()) readers.push_back({err_read.get(), &spec.on_stderr});
  for (const auto& [fd, handler] : spec.also_read) readers.push_back({fd, &handler});
  Exchange(in_write, spec.stdin_data, std::move(readers));

  reaper.armed = false;
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) ThrowErrno<ProcessError>("cannot wait for", spec.argv[0]);
  }
  return status;
}

int ExitCode(int wait_status) {
  if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status)) return 128 + WTERMSIG(wait_status);
  return 255;
}

}  // namespace kiln
