#include "cli/system_command.h"

#include <cstdio>

#include "cli/flags.h"
#include "engine/image_store.h"

namespace kiln::cli {
namespace {

constexpr const char* kUsage =
    "Usage:  kiln system COMMAND\n\n"
    "Manage kiln's store\n\n"
    "Commands:\n"
    "  check       Verify every blob against its digest and every image against its blobs\n";

int Check(const std::vector<std::string>& args) {
  FlagSet flags;
  const std::vector<std::string> positional = flags.Parse(args);
  if (flags.help_requested()) {
    std::fputs("Usage:  kiln system check\n\nVerify the store\n", stdout);
    return 0;
  }
  if (!positional.empty()) throw UsageError("\"kiln system check\" accepts no arguments.");
  ImageStore store(ImageStore::DefaultRoot());
  const CheckReport report = store.Check();
  for (const std::string& p : report.problems) std::printf("problem: %s\n", p.c_str());
  for (const std::string& l : report.leftovers)
    std::printf("leftover temporary file: %s\n", l.c_str());
  if (!report.ok()) {
    std::fprintf(stderr, "ERROR: the store at %s has %zu problem(s)\n", store.root().c_str(),
                 report.problems.size());
    return 1;
  }
  std::printf("store %s is consistent\n", store.root().c_str());
  return 0;
}

}  // namespace

int RunSystemCommand(const std::vector<std::string>& args) {
  try {
    if (args.empty() || args[0] == "--help" || args[0] == "-h") {
      std::fputs(kUsage, args.empty() ? stderr : stdout);
      return args.empty() ? 2 : 0;
    }
    if (args[0] == "check") return Check({args.begin() + 1, args.end()});
    std::fprintf(stderr, "kiln system: unknown command \"%s\"\n%s", args[0].c_str(), kUsage);
    return 2;
  } catch (const UsageError& e) {
    std::fprintf(stderr, "%s\nSee 'kiln system --help'.\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ERROR: %s\n", e.what());
    return 1;
  }
}

}  // namespace kiln::cli
