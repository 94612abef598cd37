#include "engine/store/step_cache.h"

#include <algorithm>
#include <cctype>

#include <nlohmann/json.hpp>

#include "engine/base/atomic_file.h"
#include "engine/store/image_store.h"

namespace kiln {
namespace {

bool IsCacheKey(std::string_view key) {
  return !key.empty() && key.front() != '.' && std::all_of(key.begin(), key.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-';
  });
}

}  // namespace

std::filesystem::path StepCache::EntryPath(const std::string& cache_key) const {
  if (!IsCacheKey(cache_key)) throw ImageStoreError("invalid cache key \"" + cache_key + "\"");
  return store_.root() / "cache" / (cache_key + ".json");
}

void StepCache::Put(const std::string& cache_key, const Digest& image_id) {
  const std::filesystem::path path = EntryPath(cache_key);
  if (!image_id.IsSha256()) throw ImageStoreError("invalid image id: " + image_id.String());
  StoreLock lock = store_.Lock();
  WriteFileAtomic(path, CanonicalJson(nlohmann::json{{"image_id", image_id}}), store_.TmpDir());
}

std::optional<Digest> StepCache::Get(const std::string& cache_key) const {
  const std::filesystem::path path = EntryPath(cache_key);
  if (!std::filesystem::exists(path)) return std::nullopt;
  std::optional<Digest> id;
  try {
    id = Digest::TryParse(
        nlohmann::json::parse(ReadWholeFile(path)).at("image_id").get<std::string>());
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;  // an unreadable entry is a cache miss, never an error
  }
  if (!id || !store_.GetImage(id->String()) || !store_.blobs().Has(*id)) return std::nullopt;
  return id;
}

}  // namespace kiln
