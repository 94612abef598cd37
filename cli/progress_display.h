// The build's progress as BuildKit shows it: on a terminal a live list of steps with their
// state and elapsed time; in plain mode one line per event. Fed by the step processes' events.
#pragma once

#include <chrono>
#include <cstdio>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace kiln::cli {

struct ProgressStep {
  std::string id;    ///< the step's result stamp path (its event id)
  std::string text;  ///< "[2/7] COPY src/ /opt/src/"
};

class ProgressDisplay {
 public:
  /// `steps` in build order. `live` redraws in place (a terminal); `explain` adds why each
  /// step ran.
  ProgressDisplay(std::FILE* out, std::vector<ProgressStep> steps, bool live, bool explain);

  /// Handles one event line from a step process.
  void OnEvent(const nlohmann::json& event);
  /// Redraws the live view (call periodically); no-op in plain mode.
  void Tick();
  /// Draws the final state; after a successful build, steps that never ran (their results were
  /// up to date) show as CACHED.
  void Finish(bool succeeded);

 private:
  struct State {
    ProgressStep step;
    std::string state = "pending";  ///< pending|running|cached|done|error
    std::chrono::steady_clock::time_point started;
    double seconds = 0;
    std::string explain;
    std::vector<std::string> output_tail;
    std::string partial;
    int number = 0;
  };
  void PrintPlain(State& s, const std::string& line);
  void Redraw();

  std::FILE* out_;
  bool live_;
  bool explain_;
  std::mutex mu_;
  std::vector<State> states_;
  std::map<std::string, size_t> index_;
  int drawn_lines_ = 0;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

}  // namespace kiln::cli
