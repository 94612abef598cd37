#include "cli/command_table.h"

#include <cstdio>
#include <functional>
#include <string_view>

#include "cli/build_command.h"
#include "cli/container_commands.h"
#include "cli/graph_command.h"
#include "cli/image_commands.h"
#include "cli/import_command.h"
#include "cli/internal_command.h"
#include "cli/parse_command.h"
#include "cli/system_command.h"

namespace kiln::cli {
namespace {

struct Command {
  std::string_view name;
  std::string_view summary;
  std::function<int(const std::vector<std::string>&)> run;
};

const std::vector<Command>& Commands() {
  static const std::vector<Command> commands = {
      {"build", "Build an image from a Dockerfile", RunBuildCommand},
      {"generate", "Write build.ninja for a build without building", RunGenerateCommand},
      {"graph", "Print the step graph of a build (dot or json)", RunGraphCommand},
      {"parse", "Print a Dockerfile's syntax tree", RunParseCommand},
      {"system", "Manage the store (check)", RunSystemCommand},
      {"run", "Create and run a new container from an image", RunRunCommand},
      {"ps", "List containers", RunPsCommand},
      {"stop", "Stop one or more running containers", RunStopCommand},
      {"rm", "Remove one or more containers", RunRmCommand},
      {"logs", "Fetch the logs of a container", RunLogsCommand},
      {"container", "Manage containers", RunContainerCommand},
      {"images", "List images", RunImagesCommand},
      {"image", "Manage images", RunImageCommand},
      {"inspect", "Return low-level information on images and containers", RunInspectCommand},
      {"rmi", "Remove one or more images", RunRmiCommand},
      {"tag", "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE", RunTagCommand},
      {"history", "Show the history of an image", RunHistoryCommand},
      {"import", "Import the contents from a tarball to create a filesystem image",
       RunImportCommand},
      {"internal", "", RunInternalCommand},  // the edges of generated build.ninja files
  };
  return commands;
}

void PrintUsage(std::FILE* out) {
  std::fprintf(out,
               "Usage:  kiln COMMAND [OPTIONS]\n\n"
               "Builds container images from Dockerfiles through ninja, without a daemon.\n\n"
               "Commands:\n");
  for (const Command& c : Commands()) {
    if (c.summary.empty()) continue;
    std::fprintf(out, "  %-10.*s %.*s\n", static_cast<int>(c.name.size()), c.name.data(),
                 static_cast<int>(c.summary.size()), c.summary.data());
  }
  std::fprintf(out, "\nRun 'kiln COMMAND --help' for more information on a command.\n");
}

}  // namespace

int Dispatch(const std::vector<std::string>& args) {
  if (args.empty()) {
    PrintUsage(stderr);
    return kUsageError;
  }
  if (args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    PrintUsage(stdout);
    return kSuccess;
  }
  for (const Command& c : Commands()) {
    if (c.name == args[0]) return c.run(std::vector<std::string>(args.begin() + 1, args.end()));
  }
  std::fprintf(stderr, "kiln: '%s' is not a kiln command.\nSee 'kiln --help'\n", args[0].c_str());
  return kUsageError;
}

}  // namespace kiln::cli
