// `kiln parse [--json] FILE`: prints a Dockerfile's syntax tree.
#pragma once

#include <string>
#include <vector>

namespace kiln::cli {

/// Runs `kiln parse` with the arguments after "parse". FILE may be `-` for standard input.
/// Prints the tree (JSON indented by 2 with --json, else one readable line per instruction) to
/// stdout. Returns 0; 1 when the file cannot be read or does not parse (the error report goes to
/// stderr prefixed "Error: "); 2 on a usage error (usage printed to stderr).
int RunParseCommand(const std::vector<std::string>& args);

}  // namespace kiln::cli
