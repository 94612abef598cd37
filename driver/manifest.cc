#include "driver/manifest.h"

#include <set>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "engine/base/atomic_file.h"

namespace kiln::driver {
namespace {

std::filesystem::path AbsoluteManifest(const std::string& manifest_path) {
  return std::filesystem::absolute(manifest_path).lexically_normal();
}

}  // namespace

std::vector<ImageRequest> ReadManifest(const std::string& manifest_path) {
  const std::filesystem::path manifest = AbsoluteManifest(manifest_path);
  nlohmann::json json;
  try {
    json = nlohmann::json::parse(ReadWholeFile(manifest));
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error("manifest " + manifest_path + ": " + e.what());
  }
  const std::filesystem::path base = manifest.parent_path();
  std::vector<ImageRequest> images;
  std::set<std::string> names;
  for (const nlohmann::json& entry : json.value("images", nlohmann::json::array())) {
    ImageRequest image;
    image.name = entry.value("name", "");
    if (image.name.empty() || !names.insert(image.name).second)
      throw std::runtime_error("manifest " + manifest_path + ": every image needs a unique name");
    image.context = (base / entry.value("context", ".")).lexically_normal().string();
    image.dockerfile = (base / entry.value("dockerfile", image.context + "/Dockerfile"))
                           .lexically_normal()
                           .string();
    if (!std::filesystem::is_regular_file(image.dockerfile))
      throw std::runtime_error("manifest " + manifest_path + ": image " + image.name +
                               ": no Dockerfile at " + image.dockerfile);
    image.tags = NormalizedTags(entry.value("tags", std::vector<std::string>{}));
    image.build_args = entry.value("build_args", std::map<std::string, std::string>{});
    image.labels = entry.value("labels", std::map<std::string, std::string>{});
    image.target = entry.value("target", "");
    images.push_back(image);
  }
  if (images.empty()) throw std::runtime_error("manifest " + manifest_path + " lists no images");
  return images;
}

void RequireManifestImages(const std::string& manifest_path,
                           const std::vector<ImageRequest>& images,
                           const std::vector<std::string>& names) {
  for (const std::string& name : names) {
    bool known = false;
    for (const ImageRequest& image : images) known |= image.name == name;
    if (!known) throw std::runtime_error("manifest " + manifest_path + " has no image " + name);
  }
}

std::filesystem::path ManifestBuildDirectory(const std::string& store_root,
                                             const std::string& manifest_path) {
  return BuildDirectoryFor(store_root, AbsoluteManifest(manifest_path).string(), "manifest");
}

}  // namespace kiln::driver
