// Progress events: the step processes ninja runs report to the `kiln build` that started ninja
// through an inherited pipe (KILN_EVENTS_FD), one JSON line per event; without it they are silent.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace kiln::driver {

/// Sends `event` ({"id", "text", "state": started|cached|done|error|output, ...}) when a
/// `kiln build` listens; a no-op otherwise.
void EmitEvent(const nlohmann::json& event);

/// True when KILN_EVENTS_FD names a listener.
bool EventsEnabled();

}  // namespace kiln::driver
