#include "driver/progress_events.h"

#include <unistd.h>

#include <cstdlib>

namespace kiln::driver {
namespace {

int EventsFd() {
  static const int fd = [] {
    const char* value = std::getenv("KILN_EVENTS_FD");
    return value ? std::atoi(value) : -1;
  }();
  return fd;
}

}  // namespace

bool EventsEnabled() {
  return EventsFd() >= 0;
}

void EmitEvent(const nlohmann::json& event) {
  const int fd = EventsFd();
  if (fd < 0) return;
  // One write per line keeps lines from concurrent steps whole (PIPE_BUF); long output chunks
  // are split by the sender.
  const std::string line =
      event.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  ssize_t written = 0;
  while (written < static_cast<ssize_t>(line.size())) {
    const ssize_t n = write(fd, line.data() + written, line.size() - written);
    if (n <= 0) return;
    written += n;
  }
}

}  // namespace kiln::driver
