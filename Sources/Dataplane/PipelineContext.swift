import Wire

/// The state the stages of one pipeline share: the configuration, the counters, the frame
/// pool, the clock, the frames Pier makes during a run, and the optional tracer.
public final class PipelineContext {
    /// The validated configuration.
    public let config: PipelineConfig
    /// What the pipeline counted.
    public let counters: PipelineCounters
    /// Where new frames come from and used ones go.
    public let pool: FramePool
    /// Frames Pier made during this run (replies, requests, errors, released frames), with
    /// final verdicts; the output step sends each right after the frame that caused it.
    var generated = FrameQueue(capacity: 512)
    /// How many frames have ever been queued in `generated` (less its count: how many were
    /// taken): the pipeline sends a frame Pier made right after the frame that caused it.
    private(set) var generatedIn = 0
    /// How many frames have ever been taken from `generated`.
    var generatedOut: Int { generatedIn - generated.count }
    /// The pipeline's clock: capture time in replay, the monotonic clock live.
    public var now = Timestamp.zero
    /// Prints each frame's path when set (`--trace`).
    public var tracer: Tracer?
    /// For each port, its bridge's index or -1.
    let portBridge: [Int]
    /// For each port, its routed interface's index or -1.
    let portInterface: [Int]
    /// For each bridge, its L3 interface's index or -1.
    let bridgeInterface: [Int]
    /// Every IPv4 and IPv6 address of the node's interfaces, copied out of the config once:
    /// the stages ask "is this the node's?" per frame.
    let nodeAddresses4: [IPv4Address]
    let nodeAddresses6: [IPv6Address]
    /// Linux's limits on the ICMP and ICMPv6 errors the node sends.
    let icmpLimiter = ICMPRateLimiter()
    /// Each interface's MAC, in `InterfaceIndex` order (reading a whole `Interface` per frame
    /// retains its name and address arrays).
    let interfaceMACs: [MACAddress]
    /// The largest IPv4 packet each interface sends (`Int.max`: no limit). Only the overlay's
    /// tunnel interface has one, the overlay MTU, as flannel.1 and tunl0 have on Linux.
    let interfaceMTUs: [Int]

    /// Makes the shared state for `config`; with `counters`, counting goes on from theirs (a
    /// pipeline that replaces another).
    package init(config: PipelineConfig, pool: FramePool, continuing counters: PipelineCounters? = nil) {
        self.config = config
        self.counters = counters.map { PipelineCounters(portCount: config.ports.count, continuing: $0) }
            ?? PipelineCounters(portCount: config.ports.count)
        self.pool = pool
        portBridge = config.ports.map { $0.bridge ?? -1 }
        portInterface = config.ports.map { $0.interface ?? -1 }
        bridgeInterface = config.bridges.map { $0.interface ?? -1 }
        nodeAddresses4 = config.nodeAddresses4
        nodeAddresses6 = config.interfaces.flatMap { $0.ipv6.map(\.address) }
        interfaceMACs = config.interfaces.map(\.mac)
        interfaceMTUs = config.interfaces.indices.map { index in
            config.overlay.map { $0.tunnelInterface == index ? $0.mtu : Int.max } ?? Int.max
        }
    }

    /// Queues a frame Pier made, already given its final verdict; when the queue is full (it
    /// never is with batches of 64) the frame is dropped and counted as `generated-overflow`.
    func emit(_ frame: consuming Frame) {
        guard !generated.isFull else {
            counters.drop(.generatedOverflow)
            pool.recycle(frame)
            return
        }
        generated.append(frame)
        generatedIn += 1
    }

    /// Notes a step of `frame`'s path when tracing.
    @inline(__always)
    func trace(_ frame: borrowing Frame, _ text: @autoclosure () -> String) {
        guard let tracer else { return }
        tracer.note(frame.number, text())
    }

    /// The interface's first IPv4 address in the subnet of `neighbor`, or its first address.
    func sourceAddress(of interface: InterfaceIndex, toward neighbor: IPv4Address) -> IPv4Address? {
        let addresses = config.interfaces[interface].ipv4
        return addresses.first { $0.contains(neighbor) }?.address ?? addresses.first?.address
    }

    /// The interface's first IPv6 address in the subnet of `neighbor`, or its first address.
    func sourceAddress(of interface: InterfaceIndex, toward neighbor: IPv6Address) -> IPv6Address? {
        let addresses = config.interfaces[interface].ipv6
        return addresses.first { $0.contains(neighbor) }?.address ?? addresses.first?.address
    }
}

/// Collects each frame's path through the stages, in the spirit of `ovs-appctl
/// ofproto/trace`: one note per decision, printed by the caller.
public final class Tracer {
    /// Notes so far: the frame's number (0 for frames Pier made) and the text.
    public private(set) var notes: [(frame: Int, text: String)] = []
    /// Makes an empty tracer.
    public init() {}
    /// Adds a note.
    public func note(_ frame: Int, _ text: String) { notes.append((frame, text)) }
    /// Returns the notes so far and forgets them.
    public func drain() -> [(frame: Int, text: String)] {
        defer { notes.removeAll(keepingCapacity: true) }
        return notes
    }
}

// MARK: What this part counts (names and descriptions: DropReason, PipelineCounters.Event)

extension PipelineContext: CountingPart {
    package static let dropReasons: [DropReason] = [.generatedOverflow]
    package static let events: [PipelineCounters.Event] = [.icmpErrorsSent, .icmpErrorsRateLimited]
}
