#include "cli/internal_command.h"

#include <cstdio>
#include <stdexcept>

#include "cli/check_reference_command.h"
#include "cli/flags.h"
#include "driver/edges.h"
#include "driver/input_hashing.h"

namespace kiln::cli {
namespace {

int StepEdge(const std::vector<std::string>& args) {
  driver::StepEdgeRequest edge;
  FlagSet flags;
  flags.String("graph", 0, &edge.graph_file);
  flags.Int("step", 0, &edge.step);
  flags.String("out", 0, &edge.out);
  flags.String("parent", 0, &edge.parent);
  flags.Strings("stage", 0, &edge.stages);
  flags.String("inputs", 0, &edge.inputs);
  flags.Parse(args);
  return driver::RunStepEdge(edge);
}

int ImageEdge(const std::vector<std::string>& args) {
  driver::ImageEdgeRequest edge;
  FlagSet flags;
  flags.String("graph", 0, &edge.graph_file);
  flags.String("image", 0, &edge.image);
  flags.String("step-record", 0, &edge.step_record);
  flags.String("out", 0, &edge.out);
  flags.Parse(args);
  return driver::RunImageEdge(edge);
}

int HashEdge(const std::vector<std::string>& args) {
  std::vector<std::string> selections;
  FlagSet flags;
  flags.Strings("select", 0, &selections);
  flags.Parse(args);
  try {
    driver::RunHashEdge(selections);
  } catch (const std::invalid_argument& e) {
    throw UsageError(e.what());
  }
  return 0;
}

}  // namespace

int RunInternalCommand(const std::vector<std::string>& args) {
  if (args.empty()) {
    std::fprintf(stderr, "Usage: kiln internal hash|step|image|regenerate ...\n");
    return 2;
  }
  const std::vector<std::string> rest(args.begin() + 1, args.end());
  try {
    if (args[0] == "hash") return HashEdge(rest);
    if (args[0] == "step") return StepEdge(rest);
    if (args[0] == "image") return ImageEdge(rest);
    if (args[0] == "regenerate") {
      driver::RunRegenerateEdge();
      return 0;
    }
    if (args[0] == "check-reference") return RunCheckReferenceCommand(rest);
  } catch (const UsageError& e) {
    std::fprintf(stderr, "kiln internal %s: %s\n", args[0].c_str(), e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ERROR: %s\n", e.what());
    return 1;
  }
  std::fprintf(stderr, "kiln internal: unknown edge command %s\n", args[0].c_str());
  return 2;
}

}  // namespace kiln::cli
