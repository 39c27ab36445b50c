// The Linux calls the live switch and `pier up` need that Swift cannot spell well: the TUN/TAP
// ioctls (TUNSETIFF and friends are macros built from _IOW), setns, epoll (whose event struct
// is packed on x86-64), signalfd, timerfd and a bind mount. Every function returns -errno on
// failure, so Swift never reads `errno` after another call could have changed it.
#pragma once
#include <stdint.h>
#include <stddef.h>

/// Opens the TAP device `name` (IFF_TAP | IFF_NO_PI, non-blocking, close-on-exec) in the
/// calling thread's network namespace, creating it if it does not exist and `create` is
/// non-zero. With `vnet_header` every frame is preceded by a 10-byte struct virtio_net_hdr
/// (IFF_VNET_HDR) and the device is told to pass TSO segments and partial checksums
/// (TUNSETOFFLOAD), so the kernel behind it sends up to 64 KB at a time; `vnet_header` 2
/// asks for partial checksums only (no TSO: every frame fits the link's MTU); `vnet_header` 3
/// offers nothing (the kernel sends complete frames) but lets Pier's writes carry segmentation
/// requests (GRO: coalesced TCP segments).
/// Returns the descriptor or -errno (-ENODEV when the device is missing and `create` is 0).
int pier_tap_open(const char *name, int create, int vnet_header);

/// Asks an open TAP device (opened with `vnet_header` 1) to carry UDP-tunnel GSO packets
/// both ways (Linux 6.17+): the 24-byte `struct virtio_net_hdr_v1_hash_tunnel`
/// (TUNSETVNETHDRSZ) and TUN_F_UDP_TUNNEL_GSO (with `_CSUM`) beside checksums and TSO.
/// Returns 0, or -errno with the device left as it was (10-byte header, TSO) when the
/// kernel refuses (before 6.17: EINVAL).
int pier_tap_enable_udp_tunnel_gso(int fd);

/// Like `pier_tap_open`, but opens the device inside the network namespace bound at
/// `netns_path` (`/var/run/netns/NAME`): the thread enters it, opens, and returns to the
/// namespace it was in. `*netns_inode` receives the namespace's inode, to notice later that
/// the name now points at another namespace.
int pier_tap_open_in(const char *netns_path, const char *name, int create, int vnet_header,
                     uint64_t *netns_inode);

/// Moves the calling thread into the network namespace at `path` (`/run/netns/NAME`,
/// `/proc/PID/ns/net`); returns a descriptor of the namespace it was in, for
/// `pier_netns_return`, or -errno. Programs it starts meanwhile (`pier_run`) start in there too.
int pier_netns_enter(const char *path);

/// Returns the calling thread to the namespace `home` (from `pier_netns_enter`) and closes it.
int pier_netns_return(int home);

/// Makes the TAP device `name` (IFF_TAP | IFF_NO_PI) in the calling thread's namespace and
/// marks it persistent (TUNSETPERSIST), so it outlives this process until someone deletes it,
/// as `ip tuntap add` does. -EEXIST when a device of that name is there already (TUNSETIFF
/// would attach to it instead).
int pier_tap_create_persistent(const char *name);

/// The inode of the file at `path` (a bound namespace), or 0 when it is missing.
uint64_t pier_inode(const char *path);

/// Sets the interface `name` in the calling thread's namespace administratively up.
int pier_link_up(const char *name);

/// Makes an epoll instance (close-on-exec).
int pier_epoll_create(void);
/// Watches `fd` for input (level-triggered), reporting `token` when it is ready.
int pier_epoll_add(int epoll, int fd, uint64_t token);
/// Stops watching `fd`.
int pier_epoll_remove(int epoll, int fd);
/// Waits up to `timeout_ms` (-1: forever) and writes the tokens of up to `capacity` ready
/// descriptors to `tokens`; returns their number, 0 on timeout or on EINTR, or -errno.
int pier_epoll_wait(int epoll, uint64_t *tokens, int capacity, int timeout_ms);

/// Blocks SIGINT, SIGTERM and SIGHUP in the calling thread (and the threads it starts later).
int pier_block_switch_signals(void);
/// Blocks SIGINT, SIGTERM and SIGHUP in the calling thread and returns a signalfd that reports them.
int pier_signalfd_open(void);
/// Reads one signal from a signalfd; returns its number, 0 if none is pending, or -errno.
int pier_signalfd_read(int fd);

/// A monotonic timerfd firing every `interval_ms` milliseconds (non-blocking).
int pier_timerfd_open(int interval_ms);
/// Reads how many times a timerfd fired since the last read (0 if none).
uint64_t pier_timerfd_read(int fd);

/// The monotonic clock (CLOCK_MONOTONIC) in nanoseconds.
int64_t pier_monotonic_ns(void);
/// The wall clock (CLOCK_REALTIME) in nanoseconds since the Unix epoch.
int64_t pier_realtime_ns(void);

/// Makes `target` (a new empty file) a bind mount of `source` (a bound namespace), the way
/// `ip netns` keeps a namespace alive: two names for one namespace.
int pier_bind_mount(const char *source, const char *target);

/// Reads one frame from `fd` into `buffer`; returns its length, or -errno (-EAGAIN: none).
ptrdiff_t pier_read(int fd, void *buffer, size_t capacity);
/// Writes one frame; returns the bytes written, or -errno (-EAGAIN: the queue is full).
ptrdiff_t pier_write(int fd, const void *buffer, size_t count);
/// Writes `header` then `data` as one frame (writev); returns the bytes written, or -errno.
ptrdiff_t pier_write_two(int fd, const void *header, size_t header_count, const void *data, size_t count);

/// A listening Unix stream socket at `path` (a stale socket file there is replaced; one that
/// a process still answers on gives -EADDRINUSE), non-blocking, close-on-exec; mode 0600.
int pier_unix_listen(const char *path);
/// Sets a socket's receive timeout to `seconds` (a client waiting for a slow answer).
int pier_socket_timeout(int fd, int seconds);
/// An eventfd (non-blocking) that another thread signals to wake an epoll loop.
int pier_eventfd_open(void);
/// Adds one to an eventfd.
int pier_eventfd_signal(int fd);
/// Reads (and so resets) an eventfd; 1 if it had been signalled, else 0.
int pier_eventfd_drain(int fd);
/// Accepts one connection (blocking, with a one-second send/receive timeout); -EAGAIN if none.
int pier_unix_accept(int listener);
/// Connects to the Unix stream socket at `path` (one-second timeouts).
int pier_unix_connect(const char *path);

/// Runs the program `argv[0]` (looked up on PATH) with `argv` (NULL-terminated), its
/// standard input empty, and collects up to `capacity - 1` bytes of its standard output and
/// error into `output` (NUL-terminated). Returns its exit status, 128 + N if signal N ended
/// it, or -errno when it could not start.
int pier_run(char *const argv[], char *output, size_t capacity);

/// Runs the program at `path` with `argv` and the environment `envp` (both NULL-terminated),
/// `input` on its standard input and its standard error the caller's; collects up to
/// `capacity` bytes of its standard output into `output` (`*output_count` of them). Returns its
/// exit status, 128 + N if signal N ended it, or -errno when it could not start. (A CNI
/// plugin's delegate: Foundation's Process notices a child's end only every 50 ms.)
int pier_run_with_input(const char *path, char *const argv[], char *const envp[], const void *input, size_t input_count,
                        char *output, size_t capacity, size_t *output_count);

/// Sends on a socket without SIGPIPE when the peer has gone; the bytes sent, or -errno.
ptrdiff_t pier_send(int fd, const void *buffer, size_t count);
