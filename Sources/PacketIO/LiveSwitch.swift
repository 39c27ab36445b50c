#if canImport(Glibc)
import Glibc
#endif
import CTap
import Dataplane

/// The live switch's event loop (`pier switch`): one thread, one epoll set holding every open
/// TAP device, a signalfd for SIGINT and SIGTERM, a one-second timerfd and the control socket.
///
/// A ready device is drained of up to a batch of frames, stamped with the monotonic clock,
/// run through the pipeline and written out before the next device is looked at, so a busy
/// port cannot starve the others for more than a batch. A device that fails or whose
/// namespace goes away marks its port down with one log line and forgets the MACs learned on
/// it (as Linux's bridge does for a removed port); the timer tries each down port
/// once a second and brings it back up when its device is there again. No allocation per
/// frame: frames come from the pipeline's pool and go back to it.
///
/// With offloads (`IFF_VNET_HDR`, `pier switch --offload`) each frame's virtio-net header is
/// kept beside it (`Frame.offload`) and handed to the device it leaves by: TCP segments of up
/// to 64 KB cross whole, checksums left partial, as the kernel expects.
///
/// What it does not do: more than one thread; segmenting or checksumming in software (every
/// port of a switch has offloads, or none has).
public final class LiveSwitch {
    /// A failure that stops the switch.
    public struct Failure: Error, CustomStringConvertible {
        /// What went wrong.
        public var description: String
    }

    /// Answers a control request (a table name) with the lines to send back.
    public typealias ControlHandler = (String) -> [String]

    private let pipeline: Pipeline
    private let ports: [TapPort]
    private var sink: LiveSink
    private let statsInterval: Int
    private let controlPath: String?
    private let control: ControlHandler
    private let log: (String) -> Void
    private var epoll: Int32 = -1
    private var signals: Int32 = -1
    private var timer: Int32 = -1
    private var listener: Int32 = -1
    private let allocationCount: (() -> UInt64)?
    /// Heap allocations made while frames were read, processed and written (counted when an
    /// allocation counter was given): zero once the pool is warm.
    public private(set) var framePathAllocations: UInt64 = 0
    private var connections = Set<Int32>()
    private var ticks = 0
    private var running = true

    /// Tokens in the epoll set besides ports (which are their index in `ports`).
    private enum Token {
        static let signal: UInt64 = 1 << 32
        static let timer: UInt64 = 1 << 32 + 1
        static let control: UInt64 = 1 << 32 + 2
        /// A control connection: this bit with its descriptor.
        static let connection: UInt64 = 1 << 33
    }

    /// Makes a switch over `ports`, writing each port's traffic to `captures` where given,
    /// printing counters every `statsInterval` seconds (0: only at the end), serving
    /// `control` requests on a Unix socket at `controlPath`, logging through `log`, and
    /// counting the frame path's heap allocations with `allocationCount` when given.
    public init(pipeline: Pipeline, ports: [TapPort], captures: [PortID: PcapWriter], statsInterval: Int,
                controlPath: String?, control: @escaping ControlHandler, log: @escaping (String) -> Void,
                allocationCount: (() -> UInt64)? = nil) {
        self.allocationCount = allocationCount
        self.pipeline = pipeline
        self.ports = ports
        var byPort = [TapPort?](repeating: nil, count: pipeline.config.ports.count)
        for tap in ports { byPort[Int(tap.port.rawValue)] = tap }
        var writers = [PcapWriter?](repeating: nil, count: pipeline.config.ports.count)
        for (port, writer) in captures { writers[Int(port.rawValue)] = writer }
        sink = LiveSink(ports: byPort, captures: writers, wallClockOffset: pier_realtime_ns() - pier_monotonic_ns(),
                        header: .allocate(byteCount: VirtioNetHeader.size, alignment: 8))
        self.statsInterval = statsInterval
        self.controlPath = controlPath
        self.control = control
        self.log = log
    }

    deinit {
        sink.header.deallocate()
        for tap in ports { tap.close() }
        for descriptor in [epoll, signals, timer, listener] + connections where descriptor >= 0 { _ = Glibc.close(descriptor) }
        if let controlPath, listener >= 0 { unlink(controlPath) }
    }

    /// The ports, with their counters.
    public var tapPorts: [TapPort] { ports }

    /// Runs until SIGINT or SIGTERM, then closes the captures (flushing them).
    public func run() throws(Failure) {
        try setUp()
        for tap in ports {
            let error = bringUp(tap, announce: false)
            if error == EPERM || error == EACCES {
                throw Failure(description: "\(tap.location): \(systemMessage(error)) (pier switch needs root or CAP_NET_ADMIN)")
            }
        }
        var batch = Batch(keepsFrames: true)
        var tokens = [UInt64](repeating: 0, count: 64)
        while running {
            let ready = tokens.withUnsafeMutableBufferPointer { pier_epoll_wait(epoll, $0.baseAddress, 64, -1) }
            guard ready >= 0 else { throw Failure(description: "epoll_wait: \(systemMessage(-ready))") }
            for index in 0..<Int(ready) {
                try handle(tokens[index], batch: &batch)
            }
        }
        try closeCaptures()
    }

    /// Makes the epoll set, the signalfd, the timer and the control socket.
    private func setUp() throws(Failure) {
        epoll = try check(pier_epoll_create(), "epoll_create")
        signals = try check(pier_signalfd_open(), "signalfd")
        timer = try check(pier_timerfd_open(1_000), "timerfd")
        _ = try check(pier_epoll_add(epoll, signals, Token.signal), "epoll_ctl")
        _ = try check(pier_epoll_add(epoll, timer, Token.timer), "epoll_ctl")
        if let controlPath {
            let result = pier_unix_listen(controlPath)
            guard result != -EADDRINUSE else {
                throw Failure(description: "\(controlPath): a switch for this node is already running")
            }
            listener = try check(result, "control socket \(controlPath)")
            _ = try check(pier_epoll_add(epoll, listener, Token.control), "epoll_ctl")
        }
    }

    private func check(_ result: Int32, _ what: String) throws(Failure) -> Int32 {
        guard result >= 0 else { throw Failure(description: "\(what): \(systemMessage(-result))") }
        return result
    }

    private func handle(_ token: UInt64, batch: inout Batch) throws(Failure) {
        switch token {
        case Token.signal:
            if pier_signalfd_read(signals) > 0 { running = false }
        case Token.timer:
            if pier_timerfd_read(timer) > 0 { tick() }
        case Token.control:
            acceptControl()
        case Token.connection...:
            answerControl(Int32(truncatingIfNeeded: token & 0xffff_ffff))
        default:
            let tap = ports[Int(token)]
            guard tap.isUp else { return }
            let allocationsBefore = allocationCount?() ?? 0
            receive(from: tap, into: &batch)
            pipeline.process(&batch, into: &sink, now: Timestamp(nanoseconds: pier_monotonic_ns()))
            if let allocationCount { framePathAllocations += allocationCount() - allocationsBefore }
            try afterBatch()
        }
    }

    /// Reads up to a batch of frames from `tap`, each into a frame the batch keeps from run to
    /// run (a read cut shorter than a virtio-net header leaves its frame a spare).
    private func receive(from tap: TapPort, into batch: inout Batch) {
        let now = Timestamp(nanoseconds: pier_monotonic_ns())
        let captureIndex = Int(tap.port.rawValue)
        var drained = false
        while !batch.isFull && !drained {
            _ = batch.refill(from: pipeline.context.pool) { frame in
                let count = frame.receive { buffer in pier_read(tap.descriptor, buffer.baseAddress, buffer.count) }
                guard count > 0 else {
                    if count < 0 && count != -Int(EAGAIN) && count != -Int(EINTR) { portFailed(tap, errno: Int32(-count)) }
                    drained = true
                    return false
                }
                guard !tap.offloads || takeOffload(&frame, count: count) else { return false }
                accept(&frame, from: tap, now: now, capture: captureIndex)
                return true
            }
        }
    }

    /// Stamps a frame just read from `tap`, counts it and captures it.
    private func accept(_ frame: inout Frame, from tap: TapPort, now: Timestamp, capture captureIndex: Int) {
        if tap.linkDown {
            tap.linkDown = false
            reportLink(tap)
        }
        frame.inputPort = tap.port
        frame.timestamp = now
        frame.originalLength = frame.count
        tap.counters.received += 1
        sink.capture(frame, port: captureIndex)
    }

    /// Moves a received frame's virtio-net header into `frame.offload`; false when the read
    /// was shorter than the header.
    private func takeOffload(_ frame: inout Frame, count: Int) -> Bool {
        guard count > VirtioNetHeader.size else { return false }
        frame.offload = frame.withUnsafeBytes { bytes in
            VirtioNetHeader.read(bytes.baseAddress!, frameLength: count - VirtioNetHeader.size)
        }
        frame.removeFirst(VirtioNetHeader.size)
        return true
    }

    /// Marks down the ports whose writes failed, and stops on a capture that cannot be written.
    private func afterBatch() throws(Failure) {
        if let failure = sink.captureFailure { throw Failure(description: failure.description) }
        while let port = sink.failedPorts.popLast() {
            if let tap = ports.first(where: { $0.port == port }), tap.isUp { portFailed(tap, errno: EIO) }
        }
        for port in sink.linkChanges {
            guard let tap = ports.first(where: { $0.port == port }) else { continue }
            reportLink(tap)
        }
        sink.linkChanges.removeAll(keepingCapacity: true)
    }

    /// Logs a port whose device went down or came back up since it was last logged (a port
    /// that was closed meanwhile has nothing to report). Going down forgets the MACs learned
    /// on it, as Linux's bridge flushes a disabled port's entries; the descriptor stays open,
    /// so the port carries frames again as soon as the device is up.
    private func reportLink(_ tap: TapPort) {
        guard tap.isUp, tap.linkDown != tap.linkDownLogged else { return }
        tap.linkDownLogged = tap.linkDown
        if tap.linkDown {
            pipeline.forgetLearned(on: tap.port)
            log("port \(tap.name): link down (\(tap.location) is down), its frames dropped as tx-down")
        } else {
            log("port \(tap.name): link up (\(tap.location))")
        }
    }

    private func portFailed(_ tap: TapPort, errno code: Int32) {
        takeDown(tap, reason: systemMessage(code))
    }

    private func takeDown(_ tap: TapPort, reason: String) {
        _ = pier_epoll_remove(epoll, tap.descriptor)
        tap.close()
        pipeline.forgetLearned(on: tap.port)
        log("port \(tap.name): down (\(tap.location): \(reason))")
    }

    /// Opens `tap`'s device and watches it; logs that it is up, or at start why not; returns
    /// the errno that kept it closed (0 when open).
    @discardableResult
    private func bringUp(_ tap: TapPort, announce: Bool) -> Int32 {
        let error = tap.open()
        if error == 0 {
            _ = pier_epoll_add(epoll, tap.descriptor, UInt64(ports.firstIndex { $0 === tap } ?? 0))
            log("port \(tap.name): up (\(tap.location))")
        } else if !announce {
            log("port \(tap.name): waiting for \(tap.location) (\(systemMessage(error)))")
        }
        return error
    }

    /// Once a second: notice deleted namespaces, retry down ports, print stats when due.
    private func tick() {
        ticks += 1
        for tap in ports {
            if tap.namespaceIsGone {
                takeDown(tap, reason: "namespace deleted")
            } else if !tap.isUp {
                bringUp(tap, announce: true)
            }
        }
        if statsInterval > 0 && ticks % statsInterval == 0 { log(statsLine()) }
    }

    /// Takes a control connection; it is answered once its request is there (a table name in,
    /// lines out).
    private func acceptControl() {
        let connection = pier_unix_accept(listener)
        guard connection >= 0 else { return }
        // Answered when its request arrives, so a client that is slow to ask stalls nothing.
        guard pier_epoll_add(epoll, connection, Token.connection | UInt64(connection)) == 0 else {
            _ = Glibc.close(connection)
            return
        }
        connections.insert(connection)
    }

    /// Reads a control connection's request (a table name) and sends the table back.
    private func answerControl(_ connection: Int32) {
        _ = pier_epoll_remove(epoll, connection)
        connections.remove(connection)
        defer { _ = Glibc.close(connection) }
        var request = [UInt8](repeating: 0, count: 256)
        let count = request.withUnsafeMutableBytes { pier_read(connection, $0.baseAddress, $0.count) }
        guard count > 0 else { return }
        let name = String(decoding: request[0..<count], as: UTF8.self)
            .split(whereSeparator: { $0 == "\n" || $0 == "\r" || $0 == " " }).first.map(String.init) ?? ""
        pipeline.context.now = Timestamp(nanoseconds: pier_monotonic_ns())
        var reply = control(name).joined(separator: "\n")
        reply += "\n"
        let bytes = Array(reply.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { buffer in
                buffer.baseAddress.map { pier_send(connection, $0 + offset, buffer.count - offset) } ?? 0
            }
            guard written > 0 else { return }
            offset += written
        }
    }

    /// `stats: c1 up rx 10 tx 12 …` for every port (`down`: closed; `link-down`: open, its
    /// device down).
    public func statsLine() -> String {
        "stats: " + ports.map { tap in
            let c = tap.counters
            var text = "\(tap.name) \(tap.isUp ? (tap.linkDown ? "link-down" : "up") : "down") rx \(c.received) tx \(c.sent)"
            if c.sendBlocked > 0 { text += " tx-blocked \(c.sendBlocked)" }
            if c.sendWhileDown > 0 { text += " tx-down \(c.sendWhileDown)" }
            if c.offloadRefused > 0 { text += " offload-refused \(c.offloadRefused)" }
            if c.errors > 0 { text += " errors \(c.errors)" }
            return text
        }.joined(separator: ", ")
    }

    private func closeCaptures() throws(Failure) {
        for writer in sink.captures.compactMap({ $0 }) {
            do { try writer.close() } catch { throw Failure(description: error.description) }
        }
    }
}
