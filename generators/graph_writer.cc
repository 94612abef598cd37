#include "generators/graph_writer.h"

#include <sstream>

namespace kiln {
namespace {

/// `text` as the body of a dot double-quoted string; lines end left-aligned (`\l`).
std::string DotEscape(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '"':
        out += "\\\"";
        break;
      case '\n':
        out += "\\l";
        break;
      case '\r':
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string NodeId(int step) {
  return "step" + std::to_string(step);
}

/// The step other stages' dependents wait for: a stage's last step.
int LastStep(const StepGraph& graph, int stage) {
  if (stage < 0 || stage >= static_cast<int>(graph.stages.size())) return -1;
  const std::vector<int>& steps = graph.stages[stage].steps;
  return steps.empty() ? -1 : steps.back();
}

void WriteCrossStageEdge(std::ostream& out, const StepGraph& graph, int stage, int step,
                         const char* label) {
  const int from = LastStep(graph, stage);
  if (from < 0) return;
  out << "  " << NodeId(from) << " -> " << NodeId(step) << " [style=dashed, label=\"" << label
      << "\"];\n";
}

}  // namespace

std::string StepGraphToDot(const StepGraph& graph) {
  std::ostringstream out;
  out << "digraph kiln {\n"
      << "  rankdir=TB;\n"
      << "  compound=true;\n"
      << "  node [shape=box, fontname=\"monospace\"];\n";
  for (const Stage& stage : graph.stages) {
    std::string label = "stage " + std::to_string(stage.index);
    if (!stage.name.empty()) label += ": " + stage.name;
    const bool target = stage.index == graph.target_stage;
    if (target) label += " (target)";
    out << "  subgraph cluster_" << stage.index << " {\n"
        << "    label=\"" << DotEscape(label) << "\";\n"
        << (target ? "    style=bold;\n" : "    style=rounded;\n");
    for (int id : stage.steps) {
      const Step& step = graph.steps.at(id);
      out << "    " << NodeId(id) << " [label=\"" << DotEscape(step.text) << "\"];\n";
    }
    out << "  }\n";
  }
  for (const Step& step : graph.steps) {
    if (step.parent >= 0) out << "  " << NodeId(step.parent) << " -> " << NodeId(step.id) << ";\n";
    WriteCrossStageEdge(out, graph, step.base_stage, step.id, "base");
    WriteCrossStageEdge(out, graph, step.from_stage, step.id, "from");
    for (const RunMount& mount : step.mounts)
      WriteCrossStageEdge(out, graph, mount.from_stage, step.id, "mount");
  }
  out << "}\n";
  return out.str();
}

}  // namespace kiln
