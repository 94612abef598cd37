// The hashing edge of build.ninja: digests the context files each step reads, rewriting a
// step's digest stamp only when it changed.
#pragma once

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "engine/context/context_scanner.h"
#include "frontend/step_graph.h"

namespace kiln::driver {

/// The context sources of `step` (COPY/ADD sources that are not URLs; context bind mounts of
/// RUN) and its --exclude patterns.
struct ContextSources {
  std::vector<std::string> sources;
  std::vector<std::string> excludes;
};
ContextSources ContextSourcesOf(const Step& step);

/// The text of the `<out>.list` file kept beside a digest stamp so `--explain` can name the
/// files that changed: one "hash mode uid:gid path" line per entry.
std::string InputListText(const std::vector<const ContextEntry*>& entries);

/// Scans the context the `selections` (graph, "STEP,STEP") share and writes each listed step's
/// input digest (and its list) into the build directory `dir` when it changed. Throws, naming
/// the Dockerfile line, when a source is missing.
void HashInputSets(const std::filesystem::path& dir,
                   const std::vector<std::pair<const StepGraph*, std::string>>& selections);

/// The hash edge, run by ninja in the build directory: `selections` are "GRAPH:STEP,STEP...";
/// scans the context the graphs share (same directory, same ignore rules) once and writes each
/// listed step's input digest (and its list) when it changed. Throws std::invalid_argument for a
/// malformed selection.
void RunHashEdge(const std::vector<std::string>& selections);

}  // namespace kiln::driver
