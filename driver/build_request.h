// What a build is asked to produce, and the build directory in the store that holds its
// generated build.ninja. Shared by `build`, `generate` and the commands ninja's edges run.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace kiln::driver {

/// One image to build; everything that shapes the generated graph. Stored as JSON in the build
/// directory so ninja's edges and the regeneration rule see exactly what `kiln build` saw.
struct ImageRequest {
  std::string name = "image";  ///< ninja target name
  std::string context;         ///< absolute
  std::string dockerfile;      ///< absolute
  std::string target;
  std::string platform;
  std::map<std::string, std::string> build_args;
  std::vector<std::string> tags;  ///< fully normalized references
  std::map<std::string, std::string> labels;
  std::string iidfile;  ///< absolute; "" for none
};

struct BuildRequest {
  std::string store_root;  ///< absolute
  std::vector<ImageRequest> images;
  std::map<std::string, std::string> secrets;  ///< id -> absolute source file
  std::string network = "default";
  std::optional<int64_t> source_date_epoch;
  int run_jobs = 2;
};

/// The request asks for something malformed (a tag, a secret): the user's mistake, which the
/// command reports as it reports a bad flag.
class RequestError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// `tags` as full references ("app" -> "docker.io/library/app:latest"). Throws RequestError
/// naming the `-t, --tag` flag, as Docker does, for one that does not parse.
std::vector<std::string> NormalizedTags(const std::vector<std::string>& tags);

nlohmann::json BuildRequestToJson(const BuildRequest& request);
BuildRequest BuildRequestFromJson(const nlohmann::json& json);

/// The build directory of a single-image build: one per (context, Dockerfile) pair, under the
/// store, never in the user's context.
std::filesystem::path BuildDirectoryFor(const std::string& store_root, const std::string& context,
                                        const std::string& dockerfile);

/// Names of the files in a build directory.
inline constexpr const char* kRequestFile = "request.json";
inline constexpr const char* kNinjaFile = "build.ninja";
/// The variant of build.ninja that `kiln build` runs (see NinjaOptions::for_driver).
inline constexpr const char* kDriverNinjaFile = "driver.ninja";
std::string GraphFile(size_t image_index);
std::string IidFile(const std::string& image_name);

/// Writes `content` to `path` only when it differs from what is there (so ninja sees no change
/// when there is none); atomic. Returns true when it wrote.
bool WriteIfChanged(const std::filesystem::path& path, const std::string& content);

/// Replaces `path` with `content` in one rename (readers see the old or the new file, whole),
/// creating its directory; not synced to disk (WriteFileAtomic with Durability::kUnsynced).
void ReplaceFile(const std::filesystem::path& path, const std::string& content);

}  // namespace kiln::driver
