#include "driver/build_request.h"

#include "engine/base/atomic_file.h"
#include "engine/base/hash.h"
#include "engine/store/reference.h"
#include "frontend/file_system.h"

namespace kiln::driver {

NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(ImageRequest, name, context, dockerfile, target,
                                                platform, build_args, tags, labels, iidfile)

std::vector<std::string> NormalizedTags(const std::vector<std::string>& tags) {
  std::vector<std::string> normalized;
  for (const std::string& tag : tags) {
    try {
      normalized.push_back(ParseReference(tag).String());
    } catch (const ReferenceError& e) {
      throw RequestError("invalid argument \"" + tag + "\" for \"-t, --tag\" flag: " + e.what());
    }
  }
  return normalized;
}

nlohmann::json BuildRequestToJson(const BuildRequest& r) {
  nlohmann::json j = {{"store_root", r.store_root}, {"images", r.images},
                      {"secrets", r.secrets},       {"network", r.network},
                      {"run_jobs", r.run_jobs},     {"source_date_epoch", nullptr}};
  if (r.source_date_epoch) j["source_date_epoch"] = *r.source_date_epoch;
  return j;
}

BuildRequest BuildRequestFromJson(const nlohmann::json& j) {
  BuildRequest r;
  j.at("store_root").get_to(r.store_root);
  j.at("images").get_to(r.images);
  j.at("secrets").get_to(r.secrets);
  j.at("network").get_to(r.network);
  j.at("run_jobs").get_to(r.run_jobs);
  if (!j.at("source_date_epoch").is_null())
    r.source_date_epoch = j["source_date_epoch"].get<int64_t>();
  return r;
}

std::filesystem::path BuildDirectoryFor(const std::string& store_root, const std::string& context,
                                        const std::string& dockerfile) {
  CacheKeyHasher h;
  h.AddField(context);
  h.AddField(dockerfile);
  return std::filesystem::path(store_root) / "builds" / h.HexDigest();
}

std::string GraphFile(size_t image_index) {
  return "graphs/" + std::to_string(image_index) + ".json";
}

std::string IidFile(const std::string& image_name) {
  return "images/" + image_name + ".iid";
}

bool WriteIfChanged(const std::filesystem::path& path, const std::string& content) {
  if (DiskFileSystem().ReadFile(path) == content) return false;
  ReplaceFile(path, content);
  return true;
}

void ReplaceFile(const std::filesystem::path& path, const std::string& content) {
  std::filesystem::create_directories(path.parent_path());
  // Not synced: the build directory is rewritten from the Dockerfile whenever it is lost, and
  // ninja's edges write many small files here, where an fsync each would dominate.
  WriteFileAtomic(path, content, path.parent_path(), Durability::kUnsynced);
}

}  // namespace kiln::driver
