// `kiln internal check-reference REF...`: validates image references with kiln's own grammar, so
// tools around kiln (the CMake package's kiln_add_image) need not duplicate it.
#pragma once

#include <string>
#include <vector>

namespace kiln::cli {

/// Parses each argument as an image reference (engine/reference.h ParseReference). Prints each
/// valid one's normalized form on stdout, one a line; for each invalid one prints
/// "REF: invalid reference format: <rule broken>" on stderr. Returns 0 when all are valid, 1 when
/// one is not, 2 without arguments.
int RunCheckReferenceCommand(const std::vector<std::string>& refs);

}  // namespace kiln::cli
