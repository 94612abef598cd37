#include "cli/container_status.h"

#include "cli/image_format.h"

namespace kiln::cli {

std::string StatusText(const ContainerState& state, int64_t now) {
  if (state.status == "running")
    return "Up " + HumanDuration(now - ParseRfc3339(state.started_at).value_or(now));
  if (state.status == "exited")
    return "Exited (" + std::to_string(state.exit_code) + ") " +
           HumanDuration(now - ParseRfc3339(state.finished_at).value_or(now)) + " ago";
  return "Created";
}

}  // namespace kiln::cli
