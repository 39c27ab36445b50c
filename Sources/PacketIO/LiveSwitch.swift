#if canImport(Glibc)
import Glibc
#endif
import CTap
import Dataplane

/// The live switch's event loop (`pier switch`): one thread, one epoll set (`EventSet`)
/// holding every open port's device, a signalfd for SIGINT and SIGTERM, a one-second timerfd
/// and the control server's socket (`ControlServer`), which it serves between batches.
///
/// A ready device is drained of up to a batch of frames, stamped with the monotonic clock,
/// run through the pipeline and written out before the next device is looked at, so a busy
/// port cannot starve the others for more than a batch. A device that fails or whose home
/// goes away marks its port down with one log line and forgets the MACs learned on it (as
/// Linux's bridge does for a removed port); the timer tries each down port once a second and
/// brings it back up when its device is there again. No allocation per frame: frames come
/// from the pipeline's pool and go back to it.
///
/// The loop is generic over the kind of port (`LivePort`; `TapPort` for TAP devices), so
/// reading and writing frames is the kind's own concrete code. Ports are added and removed
/// between batches (`add(_:)`, `remove(_:)`). Log lines are `PortStateLog`'s, the counters
/// line `StatsLine`'s.
///
/// What it does not do: more than one thread; more than one kind of port at once.
public final class LiveSwitch<Port: LivePort> {
    /// A failure that stops the switch.
    public typealias Failure = LiveFailure

    /// The pipeline the ports feed (replaced whole when the topology changes: `replace`).
    public private(set) var pipeline: Pipeline
    /// Work other threads hand to the loop (a change built aside, then put in force here).
    public let mailbox = LoopMailbox()
    /// Called on the loop thread when the switch gets SIGHUP (re-read the configuration).
    public var onHangup: (() -> Void)?
    /// Called on the loop thread once a second (metrics snapshots, and the like).
    public var onTick: (() -> Void)?
    /// The ports, in the order they were added (the stats line's order).
    public private(set) var ports: [Port] = []
    /// The ports by pipeline port number.
    private var byID: [Port?] = []
    private var output: Port.Output
    private var stats: StatsLine
    private let control: ControlServer?
    private var portLog: PortStateLog
    private var events: EventSet?
    private var signals: Int32 = -1
    private var timer: Int32 = -1
    private let allocationCount: (() -> UInt64)?
    /// Heap allocations made while frames were read, processed and written (counted when an
    /// allocation counter was given): zero once the pool is warm.
    public private(set) var framePathAllocations: UInt64 = 0
    private var running = true
    /// How long the loop keeps polling after the last event before it sleeps (`--busy-poll`).
    private let busyPollNanoseconds: UInt64

    /// Makes a switch over `ports`, writing each port's traffic to `captures` where given,
    /// printing counters every `statsInterval` seconds (0: only at the end), serving `control`
    /// between batches, logging through `log`, and counting the frame path's heap allocations
    /// with `allocationCount` when given. With `io` `.uring` frames move through an io_uring
    /// (a batch's reads, and its writes, in one system call each); when the kernel refuses
    /// one, one log line says so and the switch runs on epoll. With `busyPollMicroseconds`
    /// the loop polls without sleeping until that long has passed without an event (Linux's
    /// `net.core.busy_poll` idea, DPDK's and Open vSwitch's PMD threads when long): a frame then
    /// costs no wake-up, at the price of a CPU kept busy.
    public init(pipeline: Pipeline, ports: [Port], captures: [PortID: PcapWriter], statsInterval: Int,
                control: ControlServer?, log: @escaping (LogSeverity, String) -> Void, allocationCount: (() -> UInt64)? = nil,
                io: LiveIOMode = .epoll, busyPollMicroseconds: Int = 0) {
        busyPollNanoseconds = UInt64(max(0, busyPollMicroseconds)) * 1_000
        self.pipeline = pipeline
        output = Port.Output(captures: LiveCaptures(captures, portCount: pipeline.config.ports.count))
        stats = StatsLine(interval: statsInterval)
        self.control = control
        portLog = PortStateLog(log)
        self.allocationCount = allocationCount
        for port in ports { add(port) }
        if io == .uring {
            if let refusal = output.batchIO() {
                log(.warning, "io: epoll, one read and one write a frame (no io_uring: \(refusal))")
            } else {
                log(.info, "io: io_uring, a batch of reads or writes a system call (ports without offloads)")
            }
        }
    }

    deinit {
        for port in ports { port.close() }
        for descriptor in [signals, timer] where descriptor >= 0 { _ = Glibc.close(descriptor) }
    }

    /// Runs until SIGINT or SIGTERM, then closes the captures (flushing them).
    public func run() throws(Failure) {
        try start()
        for port in ports {
            let error = bringUp(port, announce: false)
            if error == EPERM || error == EACCES {
                throw Failure(description: "\(port.location): \(systemMessage(error)) (pier switch needs root or CAP_NET_ADMIN)")
            }
        }
        var batch = Batch(keepsFrames: true)
        var tokens = [UInt64](repeating: 0, count: 64)
        var lastBusy = pier_monotonic_ns()
        while running {
            if busyPollNanoseconds > 0 && pier_monotonic_ns() &- lastBusy < busyPollNanoseconds {
                // Busy polling: look again at once (letting another thread on this CPU run
                // first), so a frame is taken without the wake-up of a sleeping thread.
                if try poll(&batch, tokens: &tokens, timeout: 0) > 0 { lastBusy = pier_monotonic_ns() } else { sched_yield() }
            } else {
                try poll(&batch, tokens: &tokens, timeout: -1)
                lastBusy = pier_monotonic_ns()
            }
        }
        try output.captures.close()
    }

    /// Adds `port` (its pipeline port must have none yet). Once running (between batches), its
    /// device is opened at once, or waited for; returns the errno that kept it closed, or 0.
    @discardableResult
    public func add(_ port: Port) -> Int32 {
        let index = Int(port.port.rawValue)
        if index >= byID.count { byID += [Port?](repeating: nil, count: index + 1 - byID.count) }
        precondition(byID[index] == nil, "pipeline port \(index) has a live port already")
        byID[index] = port
        ports.append(port)
        output.attach(port)
        return events == nil ? 0 : bringUp(port, announce: false)
    }

    /// Removes the port on pipeline port `id` (between batches): its device is closed, the
    /// MACs learned on it are forgotten and what the pipeline sends to it is dropped.
    public func remove(_ id: PortID) {
        let index = Int(id.rawValue)
        guard index < byID.count, let port = byID[index] else { return }
        if port.isUp { events?.unwatch(port.descriptor) }
        port.close()
        pipeline.forgetLearned(on: id)
        portLog.forgetLink(of: port)
        output.detach(id)
        byID[index] = nil
        ports.removeAll { $0 === port }
    }

    /// Puts `next` in force in place of the pipeline (between batches, on the loop thread):
    /// it was built with the old one's `handOver()`, and numbers the ports that remain as the
    /// old one did. Ports the new topology lost are to be `remove`d, new ones `add`ed, after.
    public func replace(pipeline next: Pipeline) {
        pipeline = next
    }

    /// `stats: c1 up rx 10 tx 12 …` for every port (`down`: closed; `link-down`: open, its
    /// device down).
    public func statsLine() -> String { StatsLine.text(ports) }

    /// Makes the epoll set, the signalfd, the timer and the control socket.
    func start() throws(Failure) {
        let events = try EventSet()
        self.events = events
        signals = try LiveFailure.check(pier_signalfd_open(), "signalfd")
        timer = try LiveFailure.check(pier_timerfd_open(1_000), "timerfd")
        _ = try LiveFailure.check(events.watch(signals, token: EventToken.signal), "epoll_ctl")
        _ = try LiveFailure.check(events.watch(timer, token: EventToken.timer), "epoll_ctl")
        try mailbox.open()
        _ = try LiveFailure.check(events.watch(mailbox.descriptor, token: EventToken.mailbox), "epoll_ctl")
        try control?.start(in: events)
    }

    /// Waits up to `timeout` milliseconds (-1: forever) and handles what is ready, `batch`
    /// carrying frames and `tokens` room for the ready tokens.
    @discardableResult
    func poll(_ batch: inout Batch, tokens: inout [UInt64], timeout: Int32) throws(Failure) -> Int {
        guard let events else { return 0 }
        let ready = try events.wait(into: &tokens, timeout: timeout)
        for index in 0..<ready {
            try handle(tokens[index], batch: &batch, events: events)
        }
        return ready
    }

    private func handle(_ token: UInt64, batch: inout Batch, events: EventSet) throws(Failure) {
        switch token {
        case EventToken.signal:
            let signal = pier_signalfd_read(signals)
            if signal == SIGHUP { onHangup?() } else if signal > 0 { running = false }
        case EventToken.mailbox:
            mailbox.deliver()
        case EventToken.timer:
            if pier_timerfd_read(timer) > 0 { tick() }
        case _ where ControlServer.owns(token):
            // The pipeline's clock brought up to date, so the tables the handler reads age right.
            pipeline.context.now = Timestamp(nanoseconds: pier_monotonic_ns())
            control?.serve(token)
        default:
            guard Int(token) < byID.count, let port = byID[Int(token)], port.isUp else { return }
            let allocationsBefore = allocationCount?() ?? 0
            receive(from: port, into: &batch)
            pipeline.process(&batch, into: &output, now: Timestamp(nanoseconds: pier_monotonic_ns()))
            output.flush()
            if let allocationCount { framePathAllocations += allocationCount() - allocationsBefore }
            try afterBatch()
        }
    }

    /// Reads up to a batch of frames from `port`; logs its link coming back if a frame did
    /// that, and takes it down if a read failed.
    private func receive(from port: Port, into batch: inout Batch) {
        let linkWasDown = port.linkDown
        let failure = port.receive(into: &batch, from: pipeline.context.pool, now: Timestamp(nanoseconds: pier_monotonic_ns()),
                                   captures: &output.captures)
        if linkWasDown && !port.linkDown { linkChanged(port) }
        if failure != 0 { takeDown(port, reason: systemMessage(failure)) }
    }

    /// Marks down the ports whose writes failed, logs link changes, and stops on a capture
    /// that cannot be written.
    private func afterBatch() throws(Failure) {
        if let failure = output.captures.failure { throw Failure(description: failure.description) }
        while let id = output.events.failedPorts.popLast() {
            if let port = byID[Int(id.rawValue)], port.isUp { takeDown(port, reason: systemMessage(EIO)) }
        }
        for id in output.events.linkChanges {
            if let port = byID[Int(id.rawValue)] { linkChanged(port) }
        }
        output.events.linkChanges.removeAll(keepingCapacity: true)
    }

    /// Logs a port whose link went down or came back up since it was last logged. Going down
    /// forgets the MACs learned on it, as Linux's bridge flushes a disabled port's entries;
    /// the descriptor stays open, so the port carries frames again as soon as the link is up.
    private func linkChanged(_ port: Port) {
        if portLog.linkChanged(port) { pipeline.forgetLearned(on: port.port) }
    }

    private func takeDown(_ port: Port, reason: String) {
        events?.unwatch(port.descriptor)
        port.close()
        pipeline.forgetLearned(on: port.port)
        portLog.down(port, reason: reason)
    }

    /// Opens `port`'s device and watches it; logs that it is up, or at start why not; returns
    /// the errno that kept it closed (0 when open).
    @discardableResult
    private func bringUp(_ port: Port, announce: Bool) -> Int32 {
        let error = port.open()
        if error == 0 {
            events?.watch(port.descriptor, token: UInt64(port.port.rawValue))
            portLog.up(port)
        } else if !announce {
            portLog.waiting(port, errno: error)
        }
        return error
    }

    /// Once a second: notice ports whose home is gone, retry down ports, print stats when due.
    private func tick() {
        for port in ports {
            if let reason = port.goneReason {
                takeDown(port, reason: reason)
            } else if !port.isUp {
                bringUp(port, announce: true)
            }
        }
        onTick?()
        if stats.tick() { portLog.log(.info, statsLine()) }
    }
}
