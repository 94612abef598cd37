// The table of kiln's commands and the dispatcher that picks one.
#pragma once

#include <string>
#include <vector>

namespace kiln::cli {

/// Exit codes shared by every command, as Docker's CLI uses them.
enum ExitCode : int { kSuccess = 0, kUserError = 1, kUsageError = 2 };

/// Runs the command named by args[0] with the remaining args; prints usage for none, `--help`
/// or an unknown command. Returns the process exit code.
int Dispatch(const std::vector<std::string>& args);

}  // namespace kiln::cli
