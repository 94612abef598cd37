#include "frontend/file_system.h"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <string>

#include "tests/support/temp_dir.h"

namespace kiln {
namespace {

using testing::TempDir;

TEST_CASE("DiskFileSystem::ReadFile returns the whole content", "[file_system]") {
  TempDir dir;
  // Sizes around the first read, and a file larger than any single chunk.
  for (size_t size : {size_t{0}, size_t{1}, size_t{4095}, size_t{65536}, size_t{300001}}) {
    std::string content(size, '\0');
    for (size_t i = 0; i < size; ++i) content[i] = static_cast<char>('a' + i % 26 + (i % 7 == 0));
    const std::filesystem::path file = dir.path() / ("f" + std::to_string(size));
    std::ofstream(file, std::ios::binary) << content;
    INFO("size " << size);
    const std::optional<std::string> read = DiskFileSystem().ReadFile(file.string());
    REQUIRE(read);
    CHECK(read->size() == size);
    CHECK(*read == content);
  }
}

TEST_CASE("DiskFileSystem::ReadFile: nullopt when missing, empty for a directory",
          "[file_system]") {
  TempDir dir;
  CHECK_FALSE(DiskFileSystem().ReadFile((dir.path() / "missing").string()));
  const std::optional<std::string> directory = DiskFileSystem().ReadFile(dir.path().string());
  REQUIRE(directory);
  CHECK(directory->empty());
}

}  // namespace
}  // namespace kiln
