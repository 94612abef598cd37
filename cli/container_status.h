// The STATUS text Docker shows for a container (`ps`, `system df -v`).
#pragma once

#include <cstdint>
#include <string>

#include "engine/store/container_store.h"

namespace kiln::cli {

/// "Up <duration>" for a running container, "Exited (<code>) <duration> ago" for an exited one,
/// "Created" otherwise; durations are go-units HumanDuration up to `now` (Unix seconds), from
/// the start or finish time (`now` itself when that time cannot be read).
std::string StatusText(const ContainerState& state, int64_t now);

}  // namespace kiln::cli
