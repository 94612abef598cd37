#include "cli/progress_display.h"

namespace kiln::cli {
namespace {

double Since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

}  // namespace

ProgressDisplay::ProgressDisplay(std::FILE* out, std::vector<ProgressStep> steps, bool live,
                                 bool explain)
    : out_(out), live_(live), explain_(explain) {
  for (ProgressStep& s : steps) {
    if (index_.count(s.id)) continue;  // one edge serves identical steps
    index_[s.id] = states_.size();
    State state;
    state.step = std::move(s);
    state.number = static_cast<int>(states_.size()) + 1;
    states_.push_back(std::move(state));
  }
}

void ProgressDisplay::PrintPlain(State& s, const std::string& line) {
  std::fprintf(out_, "#%d %s\n", s.number, line.c_str());
}

void ProgressDisplay::OnEvent(const nlohmann::json& event) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = index_.find(event.value("id", ""));
  if (it == index_.end()) return;
  State& s = states_[it->second];
  const std::string state = event.value("state", "");
  if (state == "started") {
    s.state = "running";
    s.started = std::chrono::steady_clock::now();
    if (!live_) PrintPlain(s, s.step.text);
  } else if (state == "output") {
    s.partial += event.value("data", "");
    for (size_t nl; (nl = s.partial.find('\n')) != std::string::npos;) {
      const std::string line = s.partial.substr(0, nl);
      s.partial.erase(0, nl + 1);
      if (!live_) {
        char when[32];
        std::snprintf(when, sizeof when, "%.3f ", Since(s.started));
        PrintPlain(s, when + line);
      }
      s.output_tail.push_back(line);
      if (s.output_tail.size() > 6) s.output_tail.erase(s.output_tail.begin());
    }
  } else if (state == "cached" || state == "done") {
    s.state = state;
    s.seconds = event.value("seconds", 0.0);
    s.explain = event.value("explain", "");
    if (!live_) {
      char line[64];
      std::snprintf(line, sizeof line, "DONE %.1fs", s.seconds);
      PrintPlain(s, state == "cached" ? "CACHED" : line);
      if (explain_ && state == "done") PrintPlain(s, "ran because: " + s.explain);
    }
  } else if (state == "error") {
    s.state = "error";
    s.seconds = Since(s.started);
    if (!live_) PrintPlain(s, "ERROR: " + event.value("error", ""));
  }
  std::fflush(out_);
}

void ProgressDisplay::Redraw() {
  if (drawn_lines_ > 0) std::fprintf(out_, "\x1b[%dA", drawn_lines_);
  int lines = 0;
  std::fprintf(out_, "\x1b[2K[+] Building %.1fs\n", Since(start_));
  ++lines;
  for (State& s : states_) {
    std::string right;
    char buf[64];
    if (s.state == "running") {
      std::snprintf(buf, sizeof buf, "%.1fs", Since(s.started));
      right = buf;
    } else if (s.state == "done") {
      std::snprintf(buf, sizeof buf, "%.1fs", s.seconds);
      right = buf;
    } else if (s.state == "cached") {
      right = "CACHED";
    } else if (s.state == "error") {
      right = "ERROR";
    }
    std::fprintf(out_, "\x1b[2K => %s %s\n", s.step.text.c_str(), right.c_str());
    ++lines;
    if (s.state == "running") {
      for (const std::string& l : s.output_tail) {
        std::fprintf(out_, "\x1b[2K => => %s\n", l.c_str());
        ++lines;
      }
    }
    if (explain_ && s.state == "done") {
      std::fprintf(out_, "\x1b[2K => => ran because: %s\n", s.explain.c_str());
      ++lines;
    }
  }
  // Lines left over from a taller previous frame are cleared.
  for (int i = lines; i < drawn_lines_; ++i) std::fprintf(out_, "\x1b[2K\n");
  drawn_lines_ = std::max(lines, drawn_lines_);
  std::fflush(out_);
}

void ProgressDisplay::Tick() {
  std::lock_guard<std::mutex> lock(mu_);
  if (live_) Redraw();
}

void ProgressDisplay::Finish(bool succeeded) {
  std::lock_guard<std::mutex> lock(mu_);
  for (State& s : states_) {
    if (s.state != "pending" || !succeeded) continue;
    s.state = "cached";
    if (!live_) {
      PrintPlain(s, s.step.text);
      PrintPlain(s, "CACHED");
    }
  }
  if (live_) Redraw();
  std::fflush(out_);
}

}  // namespace kiln::cli
