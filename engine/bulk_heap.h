// Heap set-up for short-lived processes that build large in-memory structures once and exit
// (kiln parse, kiln graph, kiln build's context scan): on a 10,000-instruction Dockerfile or a
// 100,000-file context they touch tens of megabytes in small pieces, and taking those pages one
// 4 KiB fault at a time (about 13 us each in a virtual machine) cost more than the work itself.
#pragma once

#include <cstddef>

namespace kiln {

/// Makes malloc grow the heap by at least `bytes` at once, keep what is freed, serve large
/// buffers from the heap too, and asks the kernel to back that heap with transparent huge
/// pages where it can (a 2 MiB page is one fault instead of 512). Memory is only committed when
/// touched. Call once, early, in a short-lived process; harmless where huge pages are off.
void PrepareBulkHeap(std::size_t bytes);

/// The same for the calling thread's own malloc arena (threads other than the main one get
/// their own): its next `bytes` are backed by transparent huge pages where the kernel can.
/// Effective after PrepareBulkHeap (a request that large would otherwise be its own mapping).
void PrepareThreadHeap(std::size_t bytes);

}  // namespace kiln
