// Docker's error conventions for a command: what it prints and the exit code it returns.
#pragma once

#include <functional>
#include <string>

namespace kiln::cli {

/// Runs `body` (the work of `kiln COMMAND`) and returns its exit code; when it throws, reports
/// the error as Docker does: a UsageError as "<message>\nSee 'kiln COMMAND --help'." (exit 2),
/// a DockerfileError (an instruction given on the command line) as "Error: <message>" without
/// its place, any other exception as "Error: <what()>" (exit 1).
int RunReportingErrors(const std::string& command, const std::function<int()>& body);

}  // namespace kiln::cli
