// StepGraph -> build.ninja. Every edge is keyed on content: a hashing edge per set of context
// inputs and an edge per step, each rewriting its output only when the content changed
// (`restat = 1`), so `touch` rebuilds nothing and a step that reproduces its result stops the
// chain.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "frontend/step_graph.h"

namespace kiln {

/// One image of the generated file: a lowered graph and where its result goes.
struct NinjaImage {
  std::string name;        ///< ninja target name (phony), e.g. "image" or a manifest entry's name
  std::string graph_file;  ///< path, relative to the build dir, of the StepGraph JSON
  const StepGraph* graph = nullptr;
  std::string iid_file;  ///< relative path of the file receiving the image id
};

struct NinjaOptions {
  std::string kiln;       ///< absolute path of the kiln program the edges run
  std::string build_dir;  ///< absolute path of the build directory (ninja's -C)
  /// Files whose change regenerates build.ninja (Dockerfiles, ignore files, the options file,
  /// context directories so a new ignore file is noticed). Must exist.
  std::vector<std::string> regenerate_inputs;
  /// Files every image edge also depends on (the build request with tags and labels).
  std::vector<std::string> image_inputs;
  int run_jobs = 2;  ///< how many RUN steps may run at once
  /// A file the store rewrites whenever a tag changes: the steps that name an image depend on
  /// it. Empty: they run on every build.
  std::string tag_index;
  /// For an image reference as a step names it (FROM, --from, a mount's from): a file the
  /// store rewrites only when that tag moves. Steps depend on these rather than on tag_index
  /// where they can, so tagging one image does not make every FROM look again.
  std::map<std::string, std::string> image_stamps;
  /// The file `kiln build` runs (DriverNinjaFile): no regenerate edge (kiln regenerates before),
  /// and hashing edges that do not run on every build (kiln hashes before, in its process).
  bool for_driver = false;
};

/// The images of the store (references as written) that `step` reads: FROM, COPY --from, RUN
/// --mount from. Their tags may move between builds.
std::vector<std::string> StoreImagesRead(const Step& step);

/// Content-derived identity of every step of `graph`: same identity = same edge, so identical
/// steps of different stages or images share one edge. Index = step id.
std::vector<std::string> StepEdgeKeys(const StepGraph& graph);

/// The identity of a step's set of context inputs, or "" when the step reads no context files.
std::string InputSetKey(const StepGraph& graph, const Step& step);

/// The context hashing of a build: one per context directory and ignore rules.
struct HashSelection {
  size_t image = 0;        ///< index of the image (and its graph) in WriteNinjaFile's list
  std::string graph_file;  ///< that image's NinjaImage::graph_file
  std::string steps;       ///< ids of the steps whose inputs to digest: "1,4"
};
struct HashEdge {
  std::string context;
  std::vector<std::string> outputs;       ///< digest stamps (InputDigestPath)
  std::vector<HashSelection> selections;  ///< one per graph it serves
};
std::vector<HashEdge> HashEdges(const std::vector<NinjaImage>& images);

/// What a written ninja file's graph names, for knowing without ninja that it has nothing to do
/// (see driver/ninja_fingerprint.h).
struct NinjaGraphFiles {
  /// Every path of its build statements (outputs, inputs, implicit and order-only ones, phony
  /// names), unescaped, each once, in order of first appearance; `always` is not among them.
  std::vector<std::string> paths;
  /// True when a statement depends on the phony `always`: ninja then always has work.
  bool uses_always = false;
};

/// Writes the text of build.ninja for `images`; fills `files` (when given) with what its graph
/// names.
std::string WriteNinjaFile(const std::vector<NinjaImage>& images, const NinjaOptions& options,
                           NinjaGraphFiles* files = nullptr);

/// Paths (relative to the build dir) of a step's result stamp and record, and of an input set's
/// digest stamp; the generator and the commands that the edges run share them.
std::string StepResultPath(const std::string& edge_key);
std::string StepRecordPath(const std::string& edge_key);
std::string InputDigestPath(const std::string& input_key);

}  // namespace kiln
