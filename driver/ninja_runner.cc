#include "driver/ninja_runner.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace kiln::driver {
namespace {

/// Starts ninja's edge description lines, so they can be told from the edges' own output.
constexpr const char* kNinjaStatusMarker = "kiln-edge: ";

/// Calls `tick` about every 100 ms on its own thread until destroyed.
class Ticker {
 public:
  explicit Ticker(std::function<void()> tick)
      : tick_(std::move(tick)), thread_([this] { Loop(); }) {}
  ~Ticker() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      done_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

 private:
  void Loop() {
    std::unique_lock<std::mutex> lock(mu_);
    while (!cv_.wait_for(lock, std::chrono::milliseconds(100), [&] { return done_; }))
      if (tick_) tick_();
  }

  std::function<void()> tick_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  std::thread thread_;  // last: starts once the members it uses exist
};

/// Hands each complete line of `pending` to the listener as an event, keeping a partial one.
void DeliverEventLines(std::string& pending, const NinjaListener& listener) {
  for (size_t nl; (nl = pending.find('\n')) != std::string::npos;) {
    const std::string line = pending.substr(0, nl);
    pending.erase(0, nl + 1);
    if (!listener.on_event) continue;
    try {
      listener.on_event(nlohmann::json::parse(line));
    } catch (const nlohmann::json::exception&) {
    }
  }
}

}  // namespace

// The process handling below (fork, pipes, poll, waitpid) is meant to move onto the common
// subprocess helper of engine/base/ once there is one; it is kept in this one function for that.
int RunNinja(const NinjaInvocation& invocation, const NinjaListener& listener,
             std::string* output) {
  int events[2], out[2];
  if (pipe(events) != 0 || pipe2(out, O_CLOEXEC) != 0)
    throw std::runtime_error("cannot create a pipe");
  fcntl(events[0], F_SETFD, FD_CLOEXEC);
  const pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("cannot start ninja");
  if (pid == 0) {
    dup2(out[1], 1);
    dup2(out[1], 2);
    setenv("KILN_EVENTS_FD", std::to_string(events[1]).c_str(), 1);
    setenv("NINJA_STATUS", kNinjaStatusMarker, 1);
    if (invocation.no_cache) setenv("KILN_NO_CACHE", "1", 1);
    if (invocation.explain) setenv("KILN_EXPLAIN", "1", 1);
    std::vector<std::string> argv = {"ninja",
                                     "-C",
                                     invocation.dir.string(),
                                     "-f",
                                     invocation.ninja_file,
                                     "-j",
                                     std::to_string(invocation.jobs)};
    argv.insert(argv.end(), invocation.targets.begin(), invocation.targets.end());
    std::vector<char*> c_argv;
    for (std::string& a : argv) c_argv.push_back(a.data());
    c_argv.push_back(nullptr);
    execvp("ninja", c_argv.data());
    std::perror("kiln: cannot run ninja");
    _exit(127);
  }
  close(events[1]);
  close(out[1]);

  int status = 0;
  {
    Ticker ticker(listener.on_tick);
    std::string pending;
    pollfd fds[2] = {{events[0], POLLIN, 0}, {out[0], POLLIN, 0}};
    int open_fds = 2;
    char buf[8192];
    while (open_fds > 0) {
      if (poll(fds, 2, -1) < 0) continue;
      for (pollfd& p : fds) {
        if (p.fd < 0 || !(p.revents & (POLLIN | POLLHUP))) continue;
        const ssize_t n = read(p.fd, buf, sizeof buf);
        if (n <= 0) {
          close(p.fd);
          p.fd = -1;
          --open_fds;
          continue;
        }
        if (p.fd == out[0]) {
          output->append(buf, n);
          continue;
        }
        pending.append(buf, n);
        DeliverEventLines(pending, listener);
      }
    }
    waitpid(pid, &status, 0);
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

std::string FilterNinjaOutput(const std::string& text) {
  std::string kept;
  std::istringstream in(text);
  bool skip_command = false;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("FAILED: ", 0) == 0) {
      skip_command = true;  // the next line is the command
      continue;
    }
    if (skip_command) {
      skip_command = false;
      continue;
    }
    if (line.rfind("ninja: ", 0) == 0 || line.empty()) continue;
    if (line.rfind(kNinjaStatusMarker, 0) == 0) continue;  // edge descriptions
    kept += line + "\n";
  }
  return kept;
}

}  // namespace kiln::driver
