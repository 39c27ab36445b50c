// Counts heap allocations made by this process, so `pier bench` can report allocations per
// frame without an external tool. Linked into the `pier` executable only.
#pragma once
#include <stdint.h>

/// The number of malloc-family calls (malloc, calloc, realloc, posix_memalign,
/// aligned_alloc, memalign) since the process started.
uint64_t pier_allocation_count(void);
