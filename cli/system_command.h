// `kiln system ...`: store maintenance (check).
#pragma once

#include <string>
#include <vector>

namespace kiln::cli {

/// `kiln system check`: verifies every blob against its digest and every record against its
/// blobs; exit 0 when clean, 1 with the problems listed otherwise.
int RunSystemCommand(const std::vector<std::string>& args);

}  // namespace kiln::cli
