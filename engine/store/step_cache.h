// The step cache: which image a build step with a given cache key produced, so that the same
// step with the same inputs is not run again. <root>/cache/<cache-key>.json holds
// {"image_id":"sha256:..."}; entries of deleted images read as misses.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "engine/base/digest.h"

namespace kiln {

class ImageStore;

class StepCache {
 public:
  explicit StepCache(ImageStore& store) : store_(store) {}

  /// Records that the step with `cache_key` ([A-Za-z0-9_.-]+, not starting with '.') produced
  /// image `image_id`; ImageStoreError for a malformed key. Takes the store lock.
  void Put(const std::string& cache_key, const Digest& image_id);
  /// The cached image id, or nullopt when absent, unreadable, or when the image (or its config)
  /// no longer exists.
  std::optional<Digest> Get(const std::string& cache_key) const;

 private:
  std::filesystem::path EntryPath(const std::string& cache_key) const;

  ImageStore& store_;
};

}  // namespace kiln
