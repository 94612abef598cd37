// Heap set-up for the commands that build large in-memory structures once and exit (kiln parse,
// kiln graph): on a 10,000-instruction Dockerfile they touch tens of megabytes in small pieces,
// and taking those pages one 4 KiB fault at a time cost more than the parsing and lowering.
#pragma once

#include <cstddef>

namespace kiln::cli {

/// Makes malloc grow the heap by at least `bytes` at once, keep what is freed, serve large
/// buffers from the heap too, and asks the kernel to back that heap with transparent huge
/// pages where it can (a 2 MiB page is one fault instead of 512). Memory is only committed when
/// touched. Call once, early, in a short-lived process; harmless where huge pages are off.
void PrepareBulkHeap(std::size_t bytes);

}  // namespace kiln::cli
