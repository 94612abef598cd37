#include "cli/check_reference_command.h"

#include <cstdio>

#include "engine/store/reference.h"

namespace kiln::cli {

int RunCheckReferenceCommand(const std::vector<std::string>& refs) {
  if (refs.empty()) {
    std::fprintf(stderr, "Usage: kiln internal check-reference REF...\n");
    return 2;
  }
  int status = 0;
  for (const std::string& ref : refs) {
    try {
      std::printf("%s\n", ParseReference(ref).String().c_str());
    } catch (const ReferenceError& e) {
      std::fprintf(stderr, "%s: %s\n", ref.c_str(), e.what());
      status = 1;
    }
  }
  return status;
}

}  // namespace kiln::cli
