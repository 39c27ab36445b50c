#if canImport(Glibc)
import Glibc
#endif
import CTap

/// The live switch's epoll set: descriptors watched for input (level-triggered), each
/// reported by a token that says whose it is (`EventToken`).
final class EventSet {
    /// The epoll descriptor.
    private let epoll: Int32

    /// Makes an empty set.
    init() throws(LiveFailure) {
        epoll = try LiveFailure.check(pier_epoll_create(), "epoll_create")
    }

    deinit { _ = Glibc.close(epoll) }

    /// Watches `descriptor`, reporting `token` when it is readable; returns 0 or -errno.
    @discardableResult
    func watch(_ descriptor: Int32, token: UInt64) -> Int32 {
        pier_epoll_add(epoll, descriptor, token)
    }

    /// Stops watching `descriptor`.
    func unwatch(_ descriptor: Int32) {
        _ = pier_epoll_remove(epoll, descriptor)
    }

    /// Waits up to `timeout` milliseconds (-1: forever) and puts the tokens of the ready
    /// descriptors at the front of `tokens`; returns how many.
    func wait(into tokens: inout [UInt64], timeout: Int32) throws(LiveFailure) -> Int {
        let capacity = Int32(tokens.count)
        let ready = tokens.withUnsafeMutableBufferPointer { pier_epoll_wait(epoll, $0.baseAddress, capacity, timeout) }
        guard ready >= 0 else { throw LiveFailure(description: "epoll_wait: \(systemMessage(-ready))") }
        return Int(ready)
    }
}

/// The tokens in the live switch's epoll set: a port's is its pipeline port number (below
/// 2³²); the rest are these.
enum EventToken {
    /// The signalfd (SIGINT, SIGTERM).
    static let signal: UInt64 = 1 << 32
    /// The one-second timerfd.
    static let timer: UInt64 = 1 << 32 + 1
    /// The control socket's listener.
    static let control: UInt64 = 1 << 32 + 2
    /// A control connection: this bit with its descriptor.
    static let connection: UInt64 = 1 << 33
    /// The loop's mailbox (`LoopMailbox`).
    static let mailbox: UInt64 = 1 << 32 + 3
}
