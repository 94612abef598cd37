#include "engine/store/image_rootfs.h"

#include "engine/layers/layer_applier.h"

namespace kiln {

std::vector<std::filesystem::path> UnpackedLowerDirs(ImageStore& store,
                                                     const std::vector<Descriptor>& layers) {
  std::vector<std::filesystem::path> dirs;
  for (auto it = layers.rbegin(); it != layers.rend(); ++it) {
    const Digest& blob = it->digest;
    dirs.push_back(store.EnsureUnpackedLayer(blob, [&](const std::filesystem::path& into) {
      ApplyLayer(store.blobs().Path(blob), into, WhiteoutMode::kOverlay);
    }));
  }
  return dirs;
}

}  // namespace kiln
