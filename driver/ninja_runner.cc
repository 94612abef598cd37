#include "driver/ninja_runner.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "engine/base/subprocess.h"
#include "engine/base/system_error.h"
#include "engine/base/unique_fd.h"

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

int RunNinja(const NinjaInvocation& invocation, const NinjaListener& listener,
             std::string* output) {
  int events[2];
  if (pipe2(events, O_CLOEXEC) != 0) ThrowErrno("cannot create a pipe for ninja's events");
  const UniqueFd events_read(events[0]);
  ProcessSpec spec;
  spec.argv = {"ninja",
               "-C",
               invocation.dir.string(),
               "-f",
               invocation.ninja_file,
               "-j",
               std::to_string(invocation.jobs)};
  spec.argv.insert(spec.argv.end(), invocation.targets.begin(), invocation.targets.end());
  spec.env = {"KILN_EVENTS_FD=" + std::to_string(events[1]),
              std::string("NINJA_STATUS=") + kNinjaStatusMarker};
  if (invocation.no_cache) spec.env.push_back("KILN_NO_CACHE=1");
  if (invocation.explain) spec.env.push_back("KILN_EXPLAIN=1");
  spec.handed_fds.emplace_back(events[1]);
  spec.on_stdout = [output](std::string_view chunk) { output->append(chunk); };
  std::string pending;
  spec.also_read.emplace_back(events_read.get(), [&](std::string_view chunk) {
    pending.append(chunk);
    DeliverEventLines(pending, listener);
  });
  const Ticker ticker(listener.on_tick);
  const int status = RunProcess(std::move(spec));
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
