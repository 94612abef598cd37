// Running ninja on a build directory: the step processes' progress events come back through an
// inherited pipe, ninja's own output through another; the caller sees them only through
// callbacks, so the driver knows nothing of how progress is shown.
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace kiln::driver {

/// One ninja run: `ninja -C dir -f ninja_file -j jobs [targets]`.
struct NinjaInvocation {
  std::filesystem::path dir;
  std::string ninja_file;
  int jobs = 1;
  std::vector<std::string> targets;  ///< empty: the file's defaults
  bool no_cache = false;             ///< steps ignore the step cache (KILN_NO_CACHE)
  bool explain = false;              ///< steps say which input made them run (KILN_EXPLAIN)
};

/// What the caller hears while ninja runs; either may be empty.
struct NinjaListener {
  /// One progress event of a step process (see driver/progress_events.h), from the reading
  /// thread; lines that are not JSON are dropped.
  std::function<void(const nlohmann::json& event)> on_event;
  /// Called about every 100 ms from another thread until ninja exits (to redraw a live view).
  std::function<void()> on_tick;
};

/// Starts ninja, feeds its events to `listener` until it exits and returns its exit status (1
/// when it did not exit normally); what ninja itself printed (its bookkeeping and the output of
/// edges that are not steps) is appended to `output`. Throws std::runtime_error when ninja
/// cannot be started (ProcessError, e.g. "cannot start ninja: No such file or directory") or no
/// pipe can be made.
int RunNinja(const NinjaInvocation& invocation, const NinjaListener& listener, std::string* output);

/// What ninja printed, less its own bookkeeping (failed edge names and command lines, "ninja: "
/// lines, edge descriptions); what is left are the messages of kiln's edges that failed outside
/// a step (e.g. hashing).
std::string FilterNinjaOutput(const std::string& text);

}  // namespace kiln::driver
