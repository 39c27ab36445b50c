#if canImport(Glibc)
import Glibc
#endif
import CTap
import Foundation

/// Work other threads hand to the live switch's loop thread: a queue under a lock and an
/// eventfd the loop watches. A control request that takes time (a topology change is parsed,
/// validated and built on a worker thread) finishes on the loop thread, between batches,
/// through here.
public final class LoopMailbox: @unchecked Sendable {
    private let lock = NSLock()
    private var work: [() -> Void] = []
    /// The eventfd the loop watches; -1 until `open()`.
    private(set) var descriptor: Int32 = -1

    /// An empty mailbox.
    public init() {}

    deinit { if descriptor >= 0 { _ = Glibc.close(descriptor) } }

    /// Makes the eventfd; work posted before it existed wakes the loop at once.
    func open() throws(LiveFailure) {
        let opened = try LiveFailure.check(pier_eventfd_open(), "eventfd")
        lock.lock()
        descriptor = opened
        let waiting = !work.isEmpty
        lock.unlock()
        if waiting { _ = pier_eventfd_signal(opened) }
    }

    /// Queues `job` for the loop thread and wakes it; any thread may post.
    public func post(_ job: @escaping () -> Void) {
        lock.lock()
        work.append(job)
        let descriptor = descriptor
        lock.unlock()
        if descriptor >= 0 { _ = pier_eventfd_signal(descriptor) }
    }

    /// Runs what was posted (on the loop thread).
    func deliver() {
        _ = pier_eventfd_drain(descriptor)
        lock.lock()
        let jobs = work
        work.removeAll()
        lock.unlock()
        for job in jobs { job() }
    }
}
