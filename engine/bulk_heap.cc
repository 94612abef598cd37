#include "engine/bulk_heap.h"

#include <malloc.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>

namespace kiln {
namespace {

constexpr std::uintptr_t kHugePage = std::uintptr_t{2} << 20;
/// The largest mmap threshold glibc accepts on 64-bit systems.
constexpr int kMaxMmapThreshold = 32 << 20;
/// At least this much is asked for to grow the heap: small requests may be served from the bins.
constexpr std::size_t kMinProbe = std::size_t{64} << 10;
/// glibc's default M_TOP_PAD.
constexpr int kDefaultTopPad = 128 << 10;

/// Asks for huge pages on the whole 2 MiB pages within [begin, end).
void AdviseHugePages(std::uintptr_t begin, std::uintptr_t end) {
  const auto start = (begin + kHugePage - 1) & ~(kHugePage - 1);
  const auto stop = end & ~(kHugePage - 1);
  if (stop > start)
    madvise(reinterpret_cast<void*>(start), stop - start, MADV_HUGEPAGE);  // advice only
}

}  // namespace

void PrepareBulkHeap(std::size_t bytes) {
  // Buffers up to 32 MiB come from the heap (mmap'd ones would fault page by page again), the
  // heap grows `bytes` beyond each request, and freeing never gives memory back early.
  mallopt(M_MMAP_THRESHOLD, kMaxMmapThreshold);
  mallopt(M_TRIM_THRESHOLD, static_cast<int>(bytes * 2));
  mallopt(M_TOP_PAD, static_cast<int>(bytes));
  // Just more than the free space at the top of the heap: malloc must grow the heap, and the
  // only new page it writes to (the header of the new top) is right after the old end.
  const std::size_t size = std::max(mallinfo2().keepcost + 1, kMinProbe);
  void* probe = std::malloc(size);
  if (probe == nullptr) return;
  const auto written_end = reinterpret_cast<std::uintptr_t>(probe) + size + 4096;
  std::free(probe);
  // A 2 MiB range with a 4 KiB page already in it gets no huge page: start past the written one.
  AdviseHugePages(written_end, reinterpret_cast<std::uintptr_t>(sbrk(0)));
  // Later growth (beyond `bytes`) goes back to the usual small steps.
  mallopt(M_TOP_PAD, kDefaultTopPad);
}

void PrepareThreadHeap(std::size_t bytes) {
  // Grows the arena by `bytes` (the block comes from the arena's heap, not its own mapping,
  // once the mmap threshold is raised), advises the whole 2 MiB pages inside it and gives it
  // back: the arena keeps it (the trim threshold is raised too) for the thread's next requests.
  void* block = std::malloc(bytes);
  if (block == nullptr) return;
  const auto begin = reinterpret_cast<std::uintptr_t>(block);
  AdviseHugePages(begin + 4096, begin + bytes);  // past the chunk header
  std::free(block);
}

}  // namespace kiln
