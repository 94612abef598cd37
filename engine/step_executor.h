// Executing one step of a StepGraph into an image in the store: the function ninja's step edges
// call (through `kiln internal step`). A step is keyed on its parent's content, its own static
// text, its context inputs and the stages it reads; a key already in the step cache is reused
// without running anything.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

#include "engine/context/path_filter.h"
#include "frontend/step_graph.h"

namespace kiln {

class ImageStore;

/// The result of a step, kept in the build directory: what the next steps build on.
struct StepRecord {
  std::string cache_key;    ///< xxHash3-128 of everything the result depends on
  std::string image_id;     ///< "sha256:..." of the resulting image; "" for FROM scratch
  std::string content_key;  ///< the image without timestamps: unchanged = nothing changed
  bool cached = false;      ///< this run reused an earlier result
  /// What the key was made of, by name ("parent", "instruction", "inputs", "stage 1", "base",
  /// "arg NAME"), so `--explain` can say which one changed.
  std::map<std::string, std::string> key_parts;
};

nlohmann::json StepRecordToJson(const StepRecord& record);
StepRecord StepRecordFromJson(const nlohmann::json& json);

/// A step failed in a way the user must fix (a RUN exited non-zero, a source is missing, a user
/// is unknown). what() is the full report.
class StepError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct StepSettings {
  std::optional<int64_t> source_date_epoch;
  bool no_cache = false;                         ///< run even when the key is cached
  std::map<std::string, std::string> secrets;    ///< id -> host file
  std::string network = "default";               ///< for RUN without --network
  std::string runtime;                           ///< "" = $KILN_RUNTIME or runc
  PathMatcher matcher;                           ///< ignore rules, globs, excludes
  std::function<void(std::string_view)> output;  ///< RUN output as it comes; may be empty
};

struct StepInputs {
  const StepGraph* graph = nullptr;
  int step = -1;
  std::optional<StepRecord> parent;  ///< the previous step's record (none for FROM)
  std::map<int, StepRecord> stages;  ///< stage index -> record of its last step
  std::string inputs_digest;         ///< digest of the step's context inputs, if any
};

/// Executes (or reuses) the step. Takes the store lock only around writes. Throws StepError
/// for user errors, std::runtime_error for others; on any error nothing half-written remains.
StepRecord ExecuteStep(ImageStore& store, const StepInputs& inputs, const StepSettings& settings);

/// The final image of a build from the last step's image `image_id`: with `labels` (`--label`)
/// added when there are any, and recorded as a top-level image (not intermediate). Returns its
/// id. The caller holds the store lock.
std::string FinishImage(ImageStore& store, const std::string& image_id,
                        const std::map<std::string, std::string>& labels,
                        const std::optional<int64_t>& source_date_epoch);

}  // namespace kiln
