// The hashing edge of build.ninja: digests the context files one step reads, rewriting the
// digest stamp only when it changed, and lists the files in a depfile so ninja reruns the edge
// only when one of them (or a directory holding them) changed.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "engine/context_scanner.h"
#include "frontend/step_graph.h"

namespace kiln::cli {

/// The context sources of `step` (COPY/ADD sources that are not URLs; context bind mounts of
/// RUN) and its --exclude patterns.
struct ContextSources {
  std::vector<std::string> sources;
  std::vector<std::string> excludes;
};
ContextSources ContextSourcesOf(const Step& step);

/// Scans the context of `graph` for `step`'s inputs, using and updating the hash cache in
/// `build_dir`. Throws SourceNotFoundError for a source matching nothing.
std::vector<ContextEntry> SelectStepInputs(const StepGraph& graph, const Step& step,
                                           const std::filesystem::path& build_dir);

/// The text of the `<out>.list` file kept beside a digest stamp so `--explain` can name the
/// files that changed: one "hash mode uid:gid path" line per entry.
std::string InputListText(const std::vector<ContextEntry>& entries);

/// `kiln internal hash --graph G --step N --out FILE`, run by ninja in the build directory.
int RunHashEdge(const std::vector<std::string>& args);

}  // namespace kiln::cli
