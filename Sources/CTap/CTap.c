#define _GNU_SOURCE
#include "CTap.h"
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <net/if.h>
#include <linux/if_tun.h>
#include <pthread.h>
#include <sched.h>
#include <spawn.h>
#include <sys/wait.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/signalfd.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

int pier_tap_open(const char *name, int create, int vnet_header) {
    if (strlen(name) >= IFNAMSIZ) return -ENAMETOOLONG;
    // TUNSETIFF with the name of a missing device makes one; only attach when asked to.
    if (!create && if_nametoindex(name) == 0) return -ENODEV;
    int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) return -errno;
    struct ifreq request;
    memset(&request, 0, sizeof request);
    request.ifr_flags = IFF_TAP | IFF_NO_PI | (vnet_header ? IFF_VNET_HDR : 0);
    strncpy(request.ifr_name, name, IFNAMSIZ - 1);
    if (ioctl(fd, TUNSETIFF, &request) < 0) {
        int error = errno;
        close(fd);
        return -error;
    }
    if (vnet_header) {
        // The header stays the default 10-byte struct virtio_net_hdr, in native byte order.
        // Mode 3 offers the kernel nothing (it sends complete frames) but lets writes carry
        // segmentation requests, which a device takes whatever it offers.
        unsigned offloads = vnet_header == 3 ? 0
                          : vnet_header == 2 ? TUN_F_CSUM : TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN;
        if (ioctl(fd, TUNSETOFFLOAD, offloads) < 0) {
            int error = errno;
            close(fd);
            return -error;
        }
    }
    return fd;
}

// Linux 6.17's uAPI (include/uapi/linux/if_tun.h); Debian 12's headers are 6.1.
#ifndef TUN_F_UDP_TUNNEL_GSO
#define TUN_F_UDP_TUNNEL_GSO 0x080
#endif
#ifndef TUN_F_UDP_TUNNEL_GSO_CSUM
#define TUN_F_UDP_TUNNEL_GSO_CSUM 0x100
#endif

int pier_tap_enable_udp_tunnel_gso(int fd) {
    int tunnel_header = 24, plain_header = 10;
    if (ioctl(fd, TUNSETVNETHDRSZ, &tunnel_header) < 0) return -errno;
    unsigned offloads = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN | TUN_F_UDP_TUNNEL_GSO | TUN_F_UDP_TUNNEL_GSO_CSUM;
    if (ioctl(fd, TUNSETOFFLOAD, offloads) < 0) {
        int error = errno;
        ioctl(fd, TUNSETVNETHDRSZ, &plain_header);
        return -error;
    }
    return 0;
}

int pier_tap_open_in(const char *netns_path, const char *name, int create, int vnet_header,
                     uint64_t *netns_inode) {
    int home = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (home < 0) return -errno;
    int target = open(netns_path, O_RDONLY | O_CLOEXEC);
    if (target < 0) {
        int error = errno;
        close(home);
        return -error;
    }
    struct stat info;
    if (fstat(target, &info) == 0 && netns_inode) *netns_inode = (uint64_t)info.st_ino;
    int result;
    if (setns(target, CLONE_NEWNET) < 0) {
        result = -errno;
    } else {
        result = pier_tap_open(name, create, vnet_header);
        if (setns(home, CLONE_NEWNET) < 0) {
            // Staying in the container's namespace would be wrong for everything after.
            if (result >= 0) close(result);
            result = -errno;
        }
    }
    close(target);
    close(home);
    return result;
}

int pier_netns_enter(const char *path) {
    int home = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (home < 0) return -errno;
    int target = open(path, O_RDONLY | O_CLOEXEC);
    int result = target < 0 ? -errno : (setns(target, CLONE_NEWNET) < 0 ? -errno : 0);
    if (target >= 0) close(target);
    if (result < 0) {
        close(home);
        return result;
    }
    return home;
}

int pier_netns_return(int home) {
    int result = setns(home, CLONE_NEWNET) < 0 ? -errno : 0;
    close(home);
    return result;
}

int pier_tap_create_persistent(const char *name) {
    if (strlen(name) >= IFNAMSIZ) return -ENAMETOOLONG;
    if (if_nametoindex(name) != 0) return -EEXIST;
    int fd = pier_tap_open(name, 1, 0);
    if (fd < 0) return fd;
    int result = ioctl(fd, TUNSETPERSIST, 1) < 0 ? -errno : 0;
    close(fd);
    return result;
}

uint64_t pier_inode(const char *path) {
    struct stat info;
    return stat(path, &info) == 0 ? (uint64_t)info.st_ino : 0;
}

int pier_link_up(const char *name) {
    int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (sock < 0) return -errno;
    struct ifreq request;
    memset(&request, 0, sizeof request);
    strncpy(request.ifr_name, name, IFNAMSIZ - 1);
    int result = 0;
    if (ioctl(sock, SIOCGIFFLAGS, &request) < 0) {
        result = -errno;
    } else if (!(request.ifr_flags & IFF_UP)) {
        request.ifr_flags |= IFF_UP;
        if (ioctl(sock, SIOCSIFFLAGS, &request) < 0) result = -errno;
    }
    close(sock);
    return result;
}

int pier_epoll_create(void) {
    int fd = epoll_create1(EPOLL_CLOEXEC);
    return fd < 0 ? -errno : fd;
}

int pier_epoll_add(int epoll, int fd, uint64_t token) {
    struct epoll_event event = {.events = EPOLLIN, .data.u64 = token};
    return epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &event) < 0 ? -errno : 0;
}

int pier_epoll_remove(int epoll, int fd) {
    return epoll_ctl(epoll, EPOLL_CTL_DEL, fd, NULL) < 0 ? -errno : 0;
}

int pier_epoll_wait(int epoll, uint64_t *tokens, int capacity, int timeout_ms) {
    struct epoll_event events[64];
    if (capacity > 64) capacity = 64;
    int count = epoll_wait(epoll, events, capacity, timeout_ms);
    if (count < 0) return errno == EINTR ? 0 : -errno;
    for (int index = 0; index < count; index++) tokens[index] = events[index].data.u64;
    return count;
}

static void switch_signals(sigset_t *signals) {
    sigemptyset(signals);
    sigaddset(signals, SIGINT);
    sigaddset(signals, SIGTERM);
    sigaddset(signals, SIGHUP);
}

int pier_block_switch_signals(void) {
    sigset_t signals;
    switch_signals(&signals);
    return pthread_sigmask(SIG_BLOCK, &signals, NULL) == 0 ? 0 : -EINVAL;
}

int pier_signalfd_open(void) {
    sigset_t signals;
    switch_signals(&signals);
    if (pthread_sigmask(SIG_BLOCK, &signals, NULL) != 0) return -EINVAL;
    int fd = signalfd(-1, &signals, SFD_NONBLOCK | SFD_CLOEXEC);
    return fd < 0 ? -errno : fd;
}

int pier_signalfd_read(int fd) {
    struct signalfd_siginfo info;
    ssize_t count = read(fd, &info, sizeof info);
    if (count < 0) return errno == EAGAIN ? 0 : -errno;
    return count == sizeof info ? (int)info.ssi_signo : 0;
}

int pier_timerfd_open(int interval_ms) {
    int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (fd < 0) return -errno;
    struct itimerspec spec;
    spec.it_interval.tv_sec = interval_ms / 1000;
    spec.it_interval.tv_nsec = (long)(interval_ms % 1000) * 1000000L;
    spec.it_value = spec.it_interval;
    if (timerfd_settime(fd, 0, &spec, NULL) < 0) {
        int error = errno;
        close(fd);
        return -error;
    }
    return fd;
}

uint64_t pier_timerfd_read(int fd) {
    uint64_t expirations = 0;
    return read(fd, &expirations, sizeof expirations) == sizeof expirations ? expirations : 0;
}

int64_t pier_monotonic_ns(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (int64_t)now.tv_sec * 1000000000LL + now.tv_nsec;
}

int64_t pier_realtime_ns(void) {
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    return (int64_t)now.tv_sec * 1000000000LL + now.tv_nsec;
}

int pier_bind_mount(const char *source, const char *target) {
    int fd = open(target, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444);
    if (fd < 0) return -errno;
    close(fd);
    if (mount(source, target, "none", MS_BIND, NULL) < 0) {
        int error = errno;
        unlink(target);
        return -error;
    }
    return 0;
}

ptrdiff_t pier_read(int fd, void *buffer, size_t capacity) {
    ssize_t count = read(fd, buffer, capacity);
    return count < 0 ? -errno : count;
}

ptrdiff_t pier_write(int fd, const void *buffer, size_t count) {
    ssize_t written = write(fd, buffer, count);
    return written < 0 ? -errno : written;
}

int pier_unix_connect(const char *path);

static int unix_address(const char *path, struct sockaddr_un *address) {
    memset(address, 0, sizeof *address);
    address->sun_family = AF_UNIX;
    if (strlen(path) >= sizeof address->sun_path) return -ENAMETOOLONG;
    strcpy(address->sun_path, path);
    return 0;
}

static void set_timeouts(int fd) {
    struct timeval second = {.tv_sec = 1, .tv_usec = 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &second, sizeof second);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &second, sizeof second);
}

int pier_unix_listen(const char *path) {
    struct sockaddr_un address;
    int status = unix_address(path, &address);
    if (status < 0) return status;
    // A socket someone answers on belongs to a running switch: never take it over.
    int probe = pier_unix_connect(path);
    if (probe >= 0) {
        close(probe);
        return -EADDRINUSE;
    }
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return -errno;
    unlink(path);
    mode_t old = umask(0077);
    int bound = bind(fd, (struct sockaddr *)&address, sizeof address);
    umask(old);
    if (bound < 0 || listen(fd, 128) < 0) {
        int error = errno;
        close(fd);
        return -error;
    }
    return fd;
}

int pier_unix_accept(int listener) {
    int fd = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
    if (fd < 0) return -errno;
    set_timeouts(fd);
    return fd;
}

int pier_socket_timeout(int fd, int seconds) {
    struct timeval timeout = {.tv_sec = seconds, .tv_usec = 0};
    if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout) < 0) return -errno;
    return 0;
}

int pier_eventfd_open(void) {
    int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    return fd < 0 ? -errno : fd;
}

int pier_eventfd_signal(int fd) {
    uint64_t one = 1;
    return write(fd, &one, sizeof one) == sizeof one ? 0 : -errno;
}

int pier_eventfd_drain(int fd) {
    uint64_t count = 0;
    return read(fd, &count, sizeof count) == sizeof count ? 1 : 0;
}

int pier_unix_connect(const char *path) {
    struct sockaddr_un address;
    int status = unix_address(path, &address);
    if (status < 0) return status;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -errno;
    set_timeouts(fd);
    if (connect(fd, (struct sockaddr *)&address, sizeof address) < 0) {
        int error = errno;
        close(fd);
        return -error;
    }
    return fd;
}

extern char **environ;

int pier_run(char *const argv[], char *output, size_t capacity) {
    int channel[2];
    if (pipe2(channel, O_CLOEXEC) < 0) return -errno;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, channel[1], 1);
    posix_spawn_file_actions_adddup2(&actions, channel[1], 2);
    pid_t child;
    int status = posix_spawnp(&child, argv[0], &actions, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    close(channel[1]);
    if (status != 0) {
        close(channel[0]);
        return -status;
    }
    size_t used = 0;
    char discard[512];
    for (;;) {
        ssize_t count = capacity > used + 1 ? read(channel[0], output + used, capacity - 1 - used)
                                            : read(channel[0], discard, sizeof discard);
        if (count < 0 && errno == EINTR) continue;
        if (count <= 0) break;
        if (capacity > used + 1) used += (size_t)count;
    }
    if (capacity > 0) output[used] = 0;
    close(channel[0]);
    int result;
    while (waitpid(child, &result, 0) < 0) {
        if (errno != EINTR) return -errno;
    }
    return WIFEXITED(result) ? WEXITSTATUS(result) : 128 + WTERMSIG(result);
}

int pier_run_with_input(const char *path, char *const argv[], char *const envp[], const void *input, size_t input_count,
                        char *output, size_t capacity, size_t *output_count) {
    int in[2], out[2];
    if (pipe2(in, O_CLOEXEC) < 0) return -errno;
    if (pipe2(out, O_CLOEXEC) < 0) {
        int error = errno;
        close(in[0]);
        close(in[1]);
        return -error;
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, in[0], 0);
    posix_spawn_file_actions_adddup2(&actions, out[1], 1);
    pid_t child;
    int status = posix_spawn(&child, path, &actions, NULL, argv, envp);
    posix_spawn_file_actions_destroy(&actions);
    close(in[0]);
    close(out[1]);
    if (status != 0) {
        close(in[1]);
        close(out[0]);
        return -status;
    }
    // Feed stdin and drain stdout together, so neither side waits on a full pipe.
    size_t written = 0, used = 0;
    int writing = input_count > 0 ? in[1] : -1;
    if (writing < 0) close(in[1]);
    for (;;) {
        struct pollfd watched[2] = {{out[0], POLLIN, 0}, {writing, POLLOUT, 0}};
        if (poll(watched, writing >= 0 ? 2 : 1, -1) < 0) {
            if (errno == EINTR) continue;
            break;
        }
        if (writing >= 0 && (watched[1].revents & (POLLOUT | POLLERR | POLLHUP))) {
            ssize_t count = write(writing, (const char *)input + written, input_count - written);
            if (count > 0) written += (size_t)count;
            if (count < 0 && errno != EINTR && errno != EAGAIN) written = input_count;
            if (written >= input_count) {
                close(writing);
                writing = -1;
            }
        }
        if (watched[0].revents & (POLLIN | POLLHUP | POLLERR)) {
            char discard[512];
            ssize_t count = capacity > used ? read(out[0], output + used, capacity - used) : read(out[0], discard, sizeof discard);
            if (count < 0 && errno == EINTR) continue;
            if (count <= 0) break;
            if (capacity > used) used += (size_t)count;
        }
    }
    if (writing >= 0) close(writing);
    close(out[0]);
    *output_count = used;
    int result;
    while (waitpid(child, &result, 0) < 0) {
        if (errno != EINTR) return -errno;
    }
    return WIFEXITED(result) ? WEXITSTATUS(result) : 128 + WTERMSIG(result);
}

ptrdiff_t pier_write_two(int fd, const void *header, size_t header_count, const void *data, size_t count) {
    struct iovec parts[2] = {{(void *)header, header_count}, {(void *)data, count}};
    ssize_t written = writev(fd, parts, 2);
    return written < 0 ? -errno : written;
}

ptrdiff_t pier_send(int fd, const void *buffer, size_t count) {
    ssize_t sent = send(fd, buffer, count, MSG_NOSIGNAL);
    return sent < 0 ? -errno : sent;
}
