#pragma once
// How the process's allocator treats the large, short-lived matrices of a forward pass.
//
// glibc serves every allocation above 32 MB with a fresh mmap and unmaps it on free, so each
// calibration batch's activations (hundreds of MB to GBs at the 7B width) fault their pages in
// again: on the H100 machine a 2-block GPTQ run took 8.9 million page faults and 28 s of system
// time. Keeping freed memory in the heap for reuse cut that to 0.95 million faults and 3.8 s
// (docs/benchmarks.md). The cost: the heap does not shrink back after a peak, so only the
// command line (one job, then exit) sets it; the GUI keeps the defaults.
namespace qs {

// Serve large allocations from the heap and never trim it (glibc: mallopt M_MMAP_MAX = 0,
// M_TRIM_THRESHOLD = max). Call once at start-up, before threads allocate; a no-op elsewhere.
// QS_MALLOC_DEFAULT=1 in the environment keeps the allocator's defaults (for comparisons).
void keepFreedMemoryForReuse();

} // namespace qs
