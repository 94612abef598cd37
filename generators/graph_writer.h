// A rendering of a StepGraph for people: Graphviz dot. (Its JSON text is StepGraphJsonText.)
#pragma once

#include <string>

#include "frontend/step_graph.h"

namespace kiln {

/// A dot digraph: one cluster per stage (the target's drawn bold), one node per step labelled
/// with its text, a solid edge from each step's parent and a dashed edge from the last step of
/// every stage a step reads (FROM a stage, COPY --from, RUN --mount from=).
std::string StepGraphToDot(const StepGraph& graph);

}  // namespace kiln
