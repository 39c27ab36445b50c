// The live switch's batched I/O through io_uring (liburing): the reads of a ready TAP device
// and the writes of a pipeline batch each leave in one io_uring_enter instead of one read(2)
// or write(2) a frame. Every call returns -errno on failure, as CTap's do.
#pragma once
#include <stdint.h>
#include <stddef.h>

/// An io_uring instance with room for `entries` requests in flight (opaque).
typedef struct pier_uring pier_uring;

/// Makes a ring of `entries` submission entries (single issuer, deferred task work where the
/// kernel has them); NULL with `*error` set to -errno when the kernel refuses (no io_uring,
/// a seccomp filter, `kernel.io_uring_disabled`).
pier_uring *pier_uring_open(unsigned entries, int *error);

/// Frees the ring.
void pier_uring_close(pier_uring *ring);

/// Reads up to `count` frames from `fd` (non-blocking: an empty device answers -EAGAIN at
/// once) into `buffers[i]`, each `capacity` bytes, in one submission; waits for all of them
/// (they complete inline) and sets `results[i]` to the length read or -errno, in submission
/// order. Returns 0 or -errno.
int pier_uring_read_batch(pier_uring *ring, int fd, void *const *buffers, size_t capacity, unsigned count,
                          ptrdiff_t *results);

/// Queues a write of `count` bytes at `buffer` to `fd`, answered under `tag`; -EBUSY when the
/// submission queue is full (flush first).
int pier_uring_queue_write(pier_uring *ring, int fd, const void *buffer, size_t count, uint32_t tag);

/// Submits the queued writes in one call, waits for all `queued` of them and sets
/// `results[tag]` to the bytes written or -errno. Returns 0 or -errno.
int pier_uring_flush_writes(pier_uring *ring, unsigned queued, ptrdiff_t *results);
