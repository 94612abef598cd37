#include "cli/graph_command.h"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <iterator>
#include <optional>
#include <stdexcept>

#include "cli/command_table.h"
#include "frontend/dockerfile_error.h"
#include "frontend/dockerignore.h"
#include "frontend/file_system.h"
#include "frontend/lowering.h"
#include "frontend/parser.h"
#include "frontend/step_graph.h"
#include "generators/graph_writer.h"

namespace kiln::cli {
namespace {

constexpr const char* kUsage =
    "Usage:  kiln graph [OPTIONS] PATH\n\n"
    "Print the step graph of a build\n\n"
    "Options:\n"
    "      --build-arg list    Set build-time variables\n"
    "  -f, --file string       Name of the Dockerfile (default: \"PATH/Dockerfile\")\n"
    "      --format string     Output format: dot or json (default \"dot\")\n"
    "      --platform string   Target platform (default \"linux/amd64\")\n"
    "      --target string     Set the target build stage to build\n";

class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct GraphArgs {
  LowerOptions lower;
  std::string dockerfile;
  std::string format = "dot";
  bool help = false;
};

/// Adds a --build-arg: `K=V`, or `K` alone taking K from the environment (skipped when unset).
void AddBuildArg(const std::string& spec, LowerOptions* options) {
  const size_t eq = spec.find('=');
  if (eq == 0 || spec.empty()) throw UsageError("invalid build-arg: \"" + spec + "\"");
  if (eq != std::string::npos) {
    options->build_args[spec.substr(0, eq)] = spec.substr(eq + 1);
  } else if (const char* value = std::getenv(spec.c_str())) {
    options->build_args[spec] = value;
  }
}

GraphArgs ParseArgs(const std::vector<std::string>& args) {
  GraphArgs out;
  std::vector<std::string> positional;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    auto value = [&](const std::string& long_name,
                     const char* short_name) -> std::optional<std::string> {
      if (arg == long_name || (short_name && arg == short_name)) {
        if (i + 1 >= args.size()) throw UsageError("flag needs an argument: " + arg);
        return args[++i];
      }
      if (arg.starts_with(long_name + "=")) return arg.substr(long_name.size() + 1);
      return std::nullopt;
    };
    if (arg == "-h" || arg == "--help") {
      out.help = true;
    } else if (auto v = value("--file", "-f")) {
      out.dockerfile = *v;
    } else if (auto v = value("--target", nullptr)) {
      out.lower.target = *v;
    } else if (auto v = value("--build-arg", nullptr)) {
      AddBuildArg(*v, &out.lower);
    } else if (auto v = value("--format", nullptr)) {
      out.format = *v;
    } else if (auto v = value("--platform", nullptr)) {
      out.lower.platform = *v;
    } else if (arg.size() > 1 && arg[0] == '-') {
      throw UsageError("unknown flag: " + arg);
    } else {
      positional.push_back(arg);
    }
  }
  if (out.help) return out;
  if (positional.size() != 1) throw UsageError("\"kiln graph\" requires exactly 1 argument.");
  if (out.format != "dot" && out.format != "json")
    throw UsageError("invalid --format \"" + out.format + "\": expected dot or json");
  out.lower.context = positional[0];
  if (out.dockerfile.empty())
    out.dockerfile = (std::filesystem::path(out.lower.context) / "Dockerfile").string();
  out.lower.dockerfile = out.dockerfile;
  return out;
}

/// `-f -`: the Dockerfile comes from standard input; the ignore file from the context.
StepGraph LoadFromStdin(LowerOptions options) {
  const std::string text{std::istreambuf_iterator<char>(std::cin),
                         std::istreambuf_iterator<char>()};
  DiskFileSystem fs;
  options.ignore_patterns =
      IgnoreRules::Parse(ReadIgnoreFile(fs, options.dockerfile, options.context)).patterns();
  return LowerDockerfile(ParseDockerfile(text, "Dockerfile"), options);
}

/// Prints `graph` to stdout in `format` (dot or json).
void PrintGraph(const StepGraph& graph, const std::string& format) {
  const auto print = [](std::string_view text) {
    std::fwrite(text.data(), 1, text.size(), stdout);
  };
  if (format == "json")
    WriteStepGraphJson(graph, 2, print);  // a step at a time: a large graph's text is megabytes
  else
    print(StepGraphToDot(graph));
}

}  // namespace

int RunGraphCommand(const std::vector<std::string>& args) {
  GraphArgs parsed;
  try {
    parsed = ParseArgs(args);
  } catch (const UsageError& e) {
    std::fprintf(stderr, "kiln graph: %s\nSee 'kiln graph --help'.\n", e.what());
    return kUsageError;
  }
  if (parsed.help) {
    std::fputs(kUsage, stdout);
    return kSuccess;
  }
  try {
    // Left for the process's exit to reclaim: freeing a large graph's hundred thousand blocks
    // one by one cost a tenth of the command. Kept reachable, so leak checkers stay quiet.
    static const StepGraph* kept = nullptr;
    kept = new StepGraph(parsed.dockerfile == "-" ? LoadFromStdin(parsed.lower)
                                                  : LoadStepGraph(DiskFileSystem(), parsed.lower));
    const StepGraph& graph = *kept;
    PrintGraph(graph, parsed.format);
    for (const std::string& warning : graph.warnings) std::fprintf(stderr, "%s\n", warning.c_str());
  } catch (const DockerfileError& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return kUserError;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "kiln graph: %s\n", e.what());
    return kUserError;
  }
  return kSuccess;
}

}  // namespace kiln::cli
