#include "CUring.h"
#include <errno.h>
#include <liburing.h>
#include <stdlib.h>
#include <sys/uio.h>

struct pier_uring {
    struct io_uring ring;
};

pier_uring *pier_uring_open(unsigned entries, int *error) {
    pier_uring *handle = calloc(1, sizeof *handle);
    if (!handle) {
        *error = -ENOMEM;
        return NULL;
    }
    // One thread submits and reaps; task work runs when it waits (Linux 6.1+), else plain.
    int status = io_uring_queue_init(entries, &handle->ring, IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN);
    if (status == -EINVAL) status = io_uring_queue_init(entries, &handle->ring, 0);
    if (status < 0) {
        free(handle);
        *error = status;
        return NULL;
    }
    *error = 0;
    return handle;
}

void pier_uring_close(pier_uring *handle) {
    if (!handle) return;
    io_uring_queue_exit(&handle->ring);
    free(handle);
}

/// Submits what is queued, waits for `expected` completions and hands each to `results`
/// by its tag.
static int reap(pier_uring *handle, unsigned expected, ptrdiff_t *results) {
    int submitted;
    do {
        submitted = io_uring_submit_and_wait(&handle->ring, expected);
    } while (submitted == -EINTR);
    if (submitted < 0) return submitted;
    unsigned seen = 0;
    while (seen < expected) {
        struct io_uring_cqe *cqe;
        int status = io_uring_wait_cqe(&handle->ring, &cqe);
        if (status == -EINTR) continue;
        if (status < 0) return status;
        results[io_uring_cqe_get_data64(cqe)] = cqe->res;
        io_uring_cqe_seen(&handle->ring, cqe);
        seen++;
    }
    return 0;
}

int pier_uring_read_batch(pier_uring *handle, int fd, void *const *buffers, size_t capacity, unsigned count,
                          ptrdiff_t *results) {
    for (unsigned index = 0; index < count; index++) {
        struct io_uring_sqe *sqe = io_uring_get_sqe(&handle->ring);
        if (!sqe) return -EBUSY;
        io_uring_prep_read(sqe, fd, buffers[index], (unsigned)capacity, 0);
        // Offset -1: the device's own position (a character device has none); in order.
        sqe->off = (uint64_t)-1;
        // Never parked until the device has a frame: an empty device answers -EAGAIN now.
        sqe->rw_flags = RWF_NOWAIT;
        io_uring_sqe_set_data64(sqe, index);
    }
    return reap(handle, count, results);
}

int pier_uring_queue_write(pier_uring *handle, int fd, const void *buffer, size_t count, uint32_t tag) {
    struct io_uring_sqe *sqe = io_uring_get_sqe(&handle->ring);
    if (!sqe) return -EBUSY;
    io_uring_prep_write(sqe, fd, buffer, (unsigned)count, (uint64_t)-1);
    // A full queue answers -EAGAIN now (the frame is dropped and counted), never waits.
    sqe->rw_flags = RWF_NOWAIT;
    io_uring_sqe_set_data64(sqe, tag);
    return 0;
}

int pier_uring_flush_writes(pier_uring *handle, unsigned queued, ptrdiff_t *results) {
    return queued == 0 ? 0 : reap(handle, queued, results);
}
