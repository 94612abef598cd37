// kiln: builds container images from Dockerfiles through ninja, without a daemon.
// This file only dispatches; each command family lives in its own file.
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "cli/command_table.h"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  return kiln::cli::Dispatch(args);
}
