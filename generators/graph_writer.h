// Renderings of a StepGraph for people and tools: Graphviz dot and indented JSON.
#pragma once

#include <string>

#include "frontend/step_graph.h"

namespace kiln {

/// A dot digraph: one cluster per stage (the target's drawn bold), one node per step labelled
/// with its text, a solid edge from each step's parent and a dashed edge from the last step of
/// every stage a step reads (FROM a stage, COPY --from, RUN --mount from=).
std::string StepGraphToDot(const StepGraph& graph);

/// StepGraphToJson(graph), indented by two spaces, ending with a newline.
std::string StepGraphToJsonText(const StepGraph& graph);

}  // namespace kiln
