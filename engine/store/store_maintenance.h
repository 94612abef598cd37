// Store maintenance: the consistency check behind `kiln system check` and the garbage collection
// of blobs and unpacked layers no image needs any more (`kiln image prune`, `kiln rmi`).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace kiln {

class ImageStore;

/// What CheckStore() found. `problems` are inconsistencies (corrupt or missing blobs, dangling
/// references); `leftovers` are temporary files of interrupted writers, reported, not removed.
struct CheckReport {
  std::vector<std::string> problems;
  std::vector<std::string> leftovers;
  bool ok() const { return problems.empty(); }
};

/// What GarbageCollectBlobs() removed.
struct GcReport {
  std::vector<std::string> removed_blobs;   // digests
  std::vector<std::string> removed_layers;  // unpacked layer directories' digests
  uint64_t bytes_freed = 0;                 // blob bytes
};

/// Verifies every blob against its name, every record's manifest/config/layers, every
/// index.json descriptor, and lists leftover temporary files. Reads everything; no lock needed.
CheckReport CheckStore(const ImageStore& store);

/// Removes blobs that no image record and no tag references (manifests, configs, layers of live
/// images are kept, however many images share them), and the unpacked layer directories of
/// removed layers. Blobs modified less than `grace` ago are kept, protecting builds that have
/// written a layer but not yet committed their image. Takes the store lock.
GcReport GarbageCollectBlobs(ImageStore& store,
                             std::chrono::seconds grace = std::chrono::seconds(0));

}  // namespace kiln
