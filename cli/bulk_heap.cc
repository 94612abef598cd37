#include "cli/bulk_heap.h"

#include <malloc.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>

namespace kiln::cli {
namespace {

constexpr std::uintptr_t kHugePage = std::uintptr_t{2} << 20;
/// The largest mmap threshold glibc accepts on 64-bit systems.
constexpr int kMaxMmapThreshold = 32 << 20;
/// Larger than what is left at the top of a fresh heap, so that allocating it grows the heap.
constexpr std::size_t kProbe = std::size_t{1} << 20;
/// glibc's default M_TOP_PAD.
constexpr int kDefaultTopPad = 128 << 10;

}  // namespace

void PrepareBulkHeap(std::size_t bytes) {
  // Buffers up to 32 MiB come from the heap (mmap'd ones would fault page by page again), the
  // heap grows `bytes` beyond each request, and freeing never gives memory back early.
  mallopt(M_MMAP_THRESHOLD, kMaxMmapThreshold);
  mallopt(M_TRIM_THRESHOLD, static_cast<int>(bytes * 2));
  mallopt(M_TOP_PAD, static_cast<int>(bytes));
  void* probe = std::malloc(kProbe);
  if (probe == nullptr) return;
  // malloc wrote chunk headers at the probe's start and end: the huge pages begin past them
  // (a 2 MiB range with a 4 KiB page already in it is not given a huge page anyway).
  const auto used_end = reinterpret_cast<std::uintptr_t>(probe) + kProbe + 4096;
  std::free(probe);
  const auto start = (used_end + kHugePage - 1) & ~(kHugePage - 1);
  const auto end = reinterpret_cast<std::uintptr_t>(sbrk(0)) & ~(kHugePage - 1);
  if (end > start)
    madvise(reinterpret_cast<void*>(start), end - start, MADV_HUGEPAGE);  // advice only
  // Later growth (beyond `bytes`) goes back to the usual small steps.
  mallopt(M_TOP_PAD, kDefaultTopPad);
}

}  // namespace kiln::cli
