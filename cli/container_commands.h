// Docker's container commands: run, ps, stop, rm, logs, and `kiln container ...`.
#pragma once

#include <string>
#include <vector>

namespace kiln::cli {

/// kiln run [--rm] [-d] [--name N] [-e K=V]... [-w DIR] [-u USER] [--entrypoint E]
///          [--network default|none|host] IMAGE [COMMAND...]
/// Foreground: streams the output and returns the container's exit code; -d prints the id.
/// Kiln's own failures exit 125, a command that cannot be invoked 126, one not found 127.
int RunRunCommand(const std::vector<std::string>& args);
/// kiln ps [-a] [-q] [--no-trunc]
int RunPsCommand(const std::vector<std::string>& args);
/// kiln stop [-t SECS] CONTAINER...
int RunStopCommand(const std::vector<std::string>& args);
/// kiln rm [-f] CONTAINER...
int RunRmCommand(const std::vector<std::string>& args);
/// kiln logs CONTAINER
int RunLogsCommand(const std::vector<std::string>& args);
/// kiln container ls|ps|run|stop|rm|logs|inspect ...
int RunContainerCommand(const std::vector<std::string>& args);

}  // namespace kiln::cli
