#include "engine/bulk_heap.h"

#include <malloc.h>

#include <cstdlib>
#include <cstring>
#include <thread>

#include <catch2/catch.hpp>

namespace kiln {
namespace {

constexpr std::size_t kMiB = std::size_t{1} << 20;

TEST_CASE("a prepared heap serves large blocks and keeps what its threads give back",
          "[bulk_heap]") {
  PrepareBulkHeap(32 * kMiB);
#ifdef __SANITIZE_ADDRESS__
  // The sanitizer's allocator replaces glibc's malloc, whose arenas this prepares.
  PrepareThreadHeap(16 * kMiB);
  WARN("skipping the arena checks: AddressSanitizer's allocator is not glibc's malloc");
  return;
#endif
  const struct mallinfo2 before = mallinfo2();
  // A block far above glibc's default mmap threshold comes from the heap, not a mapping of its
  // own (which would fault page by page again).
  void* block = std::malloc(8 * kMiB);
  REQUIRE(block != nullptr);
  std::memset(block, 1, 8 * kMiB);
  CHECK(mallinfo2().hblks == before.hblks);
  std::free(block);

  std::size_t arena_with_thread = 0, mapped_with_thread = 0;
  std::thread([&] {
    PrepareThreadHeap(16 * kMiB);
    // The thread's arena grew by the prepared size and kept it after the block was freed.
    const struct mallinfo2 after = mallinfo2();
    arena_with_thread = after.arena;
    mapped_with_thread = after.hblks;
    void* small = std::malloc(4096);
    REQUIRE(small != nullptr);
    std::memset(small, 2, 4096);
    std::free(small);
  }).join();
  CHECK(mapped_with_thread == before.hblks);
  CHECK(arena_with_thread >= before.arena + 16 * kMiB);
}

}  // namespace
}  // namespace kiln
