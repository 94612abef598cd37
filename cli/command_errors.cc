#include "cli/command_errors.h"

#include <cstdio>
#include <exception>

#include "cli/flags.h"
#include "frontend/dockerfile_error.h"

namespace kiln::cli {

int RunReportingErrors(const std::string& command, const std::function<int()>& body) {
  try {
    return body();
  } catch (const UsageError& e) {
    std::fprintf(stderr, "%s\nSee 'kiln %s --help'.\n", e.what(), command.c_str());
    return 2;
  } catch (const DockerfileError& e) {
    std::fprintf(stderr, "Error: %s\n", e.message().c_str());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "Error: %s\n", e.what());
    return 1;
  }
}

}  // namespace kiln::cli
