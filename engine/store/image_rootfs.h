// The unpacked layers of a stored image, as the lower directories of a writable root.
#pragma once

#include <filesystem>
#include <vector>

#include "engine/store/image_store.h"
#include "engine/store/oci_types.h"

namespace kiln {

/// The layers of `layers` (bottom-most first, as a manifest lists them) unpacked in the store
/// (once, in overlay whiteout form) and returned top-most first, as overlayfs lower directories.
std::vector<std::filesystem::path> UnpackedLowerDirs(ImageStore& store,
                                                     const std::vector<Descriptor>& layers);

/// As above for the layers of `manifest`.
inline std::vector<std::filesystem::path> UnpackedLowerDirs(ImageStore& store,
                                                            const Manifest& manifest) {
  return UnpackedLowerDirs(store, manifest.layers);
}

}  // namespace kiln
