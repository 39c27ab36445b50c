// Small C helpers the Swift dataplane cannot spell itself.
#pragma once

/// Asks the CPU to start loading the cache line at `address` for reading (a hint; never faults).
static inline void pier_prefetch(const void *address) { __builtin_prefetch(address, 0, 3); }

/// Asks the CPU to start loading the cache line at `address` for writing.
static inline void pier_prefetch_write(const void *address) { __builtin_prefetch(address, 1, 3); }
