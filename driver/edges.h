// The edges build.ninja runs (`kiln internal step|image|hash|regenerate`), in the build
// directory: each reads the build request and graphs the driver wrote there.
#pragma once

#include <string>
#include <vector>

namespace kiln::driver {

/// One step edge: the graph file and step id, the stamp it writes (`steps/KEY.result`), the
/// parent step's stamp, "STAGE=STAMP" for each stage the step reads, and its input digest stamp.
struct StepEdgeRequest {
  std::string graph_file;
  int step = -1;
  std::string out;
  std::string parent;               ///< "" for a FROM step
  std::vector<std::string> stages;  ///< "STAGE=steps/KEY.result"
  std::string inputs;               ///< "" when the step reads no context files
};

/// Executes (or finds in the step cache) the step and rewrites its stamp only when its result
/// changed; reports progress events. Returns 0, or 1 after reporting a failed step.
int RunStepEdge(const StepEdgeRequest& edge);

/// One image edge: the image's name in the request, its last step's record, the id file it writes.
struct ImageEdgeRequest {
  std::string graph_file;
  std::string image;
  std::string step_record;
  std::string out;
};

/// Finishes the image (labels, top-level record), tags it and writes its id. Returns 0.
int RunImageEdge(const ImageEdgeRequest& edge);

/// Writes the build directory again from its request.json (build.ninja's regenerate edge).
void RunRegenerateEdge();

}  // namespace kiln::driver
