#include "driver/store_resolver.h"

#include "engine/store/image_store.h"

namespace kiln::driver {

std::optional<BaseImageInfo> StoreImageResolver::Resolve(const std::string& reference) const {
  ImageStore store(store_root_);
  std::optional<ImageRecord> found;
  try {
    found = store.FindImage(reference);
  } catch (const std::exception&) {
    return std::nullopt;  // an invalid or ambiguous name is reported when the step runs
  }
  if (!found) return std::nullopt;
  const nlohmann::json image = store.ReadConfig(found->id);
  const nlohmann::json config = image.value("config", nlohmann::json::object());
  BaseImageInfo info;
  info.digest = found->id;
  for (const std::string& e : config.value("Env", std::vector<std::string>{})) {
    const size_t eq = e.find('=');
    info.env.emplace_back(e.substr(0, eq), eq == std::string::npos ? "" : e.substr(eq + 1));
  }
  info.workdir = config.value("WorkingDir", "");
  info.shell = config.value("Shell", std::vector<std::string>{});
  info.onbuild = config.value("OnBuild", std::vector<std::string>{});
  return info;
}

}  // namespace kiln::driver
