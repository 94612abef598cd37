// `kiln system ...`: store maintenance (check) and disk usage (df).
#pragma once

#include <string>
#include <vector>

namespace kiln::cli {

/// `kiln system check`: verifies every blob against its digest and every record against its
/// blobs; exit 0 when clean, 1 with the problems listed otherwise.
/// `kiln system df [-v] [--format F]`: Docker's `TYPE TOTAL ACTIVE SIZE RECLAIMABLE` table.
/// Images are the ones `kiln images` lists (size: their distinct layer blobs; reclaimable as
/// Docker computes it: all but the unique size of images containers use); Containers their
/// writable layers (running ones active); Local Volumes always 0; Build Cache is what only speeds
/// builds up: layer blobs only intermediate images use, unpacked layers (active while a running
/// container's image has them) and step cache records. `-v` prints a table per kind.
/// Errors are reported as the image commands report them: "Error: ..." and exit 1, usage errors
/// with exit 2.
int RunSystemCommand(const std::vector<std::string>& args);

}  // namespace kiln::cli
