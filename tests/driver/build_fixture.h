// A build of a small Dockerfile for the driver's tests: a context, a store and a build
// directory in one temporary directory.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "driver/build_directory.h"
#include "driver/build_request.h"
#include "driver/store_resolver.h"
#include "tests/driver/driver_test_support.h"

namespace kiln::driver::testing {

struct BuildFixture {
  TempDir temp;
  std::filesystem::path context = temp.path() / "context";
  std::filesystem::path dir = temp.path() / "build";
  BuildRequest request;

  /// A context holding `files` (path, content) and a Dockerfile saying `dockerfile`.
  explicit BuildFixture(const std::string& dockerfile,
                        const std::vector<std::pair<std::string, std::string>>& files = {}) {
    WriteFile(context / "Dockerfile", dockerfile);
    for (const auto& [path, content] : files) WriteFile(context / path, content);
    request.store_root = (temp.path() / "store").string();
    ImageRequest image;
    image.context = context.string();
    image.dockerfile = (context / "Dockerfile").string();
    request.images = {image};
  }

  /// Writes the build directory; returns the graphs and, in `hashing`, the hashing to do.
  std::vector<StepGraph> Generate(std::vector<HashEdge>* hashing = nullptr) {
    const StoreImageResolver resolver(request.store_root);
    return GenerateBuildDirectory(dir, request, &resolver, hashing);
  }

  /// Every regular file under the build directory with its stamp.
  std::map<std::string, FileStamp> Files() const {
    std::map<std::string, FileStamp> files;
    for (const auto& entry : std::filesystem::recursive_directory_iterator(dir))
      if (entry.is_regular_file())
        files[entry.path().lexically_relative(dir).string()] = StampOf(entry.path());
    return files;
  }
};

}  // namespace kiln::driver::testing
