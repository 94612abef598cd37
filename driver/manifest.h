// The manifest of a monorepo build: one file listing the images `kiln build --manifest` builds
// together in one build directory.
//
//   {"images": [{"name": "api", "context": "services/api", "dockerfile": "services/api/Dockerfile",
//                "tags": ["api:dev"], "build_args": {"K": "V"}, "labels": {"K": "V"},
//                "target": "stage"}]}
//
// Paths are relative to the manifest's directory; `context` defaults to that directory and
// `dockerfile` to CONTEXT/Dockerfile. Every image needs a unique `name`: its ninja target.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "driver/build_request.h"

namespace kiln::driver {

/// The images of the manifest at `manifest_path`, contexts and Dockerfiles absolute, tags
/// normalized (platform and iid file left empty). Throws std::runtime_error "manifest PATH: ..."
/// for a file that does not parse, an image without a unique name or without a Dockerfile, or a
/// manifest listing no image; RequestError for a malformed tag.
std::vector<ImageRequest> ReadManifest(const std::string& manifest_path);

/// Checks that each of `names` names an image of `images` (read from `manifest_path`); throws
/// std::runtime_error "manifest PATH has no image NAME" for the first that does not.
void RequireManifestImages(const std::string& manifest_path,
                           const std::vector<ImageRequest>& images,
                           const std::vector<std::string>& names);

/// The build directory of the manifest at `manifest_path`: one per manifest file.
std::filesystem::path ManifestBuildDirectory(const std::string& store_root,
                                             const std::string& manifest_path);

}  // namespace kiln::driver
