import Wire

/// Where a pipeline's output goes: a capture file per port in replay, a TAP device live.
public protocol FrameSink {
    /// Sends `frame` out of `port`.
    mutating func send(_ frame: borrowing Frame, to port: PortID)
}

/// The node's dataplane: the stages in order over each batch (DESIGN.md, "Data flow"):
/// classify, bridge (learn, forward), conntrack and NAT (before local, so a published port
/// on the node's address is routed to its container), local (ARP and ping for the node's
/// addresses), route, then output: frames routed into a bridge find their member port, and
/// every frame leaves by its verdict. Frames Pier makes during a run (ARP replies and requests, ICMP errors,
/// released held frames) leave right after the frame that caused them, before the next one:
/// frames released by an ARP reply go ahead of the frames behind that reply, as Linux sends
/// a neighbour's queue as soon as it resolves.
///
/// Every stage is a `BatchStage` (classify, decap, bridge: the whole batch, one stage after
/// the other) or a `FrameStage` (conntrack, local, route, encap: frame by frame together),
/// and declares the drop reasons and events it counts beside its code (`CountingPart`).
///
/// Time is an input: `process` takes the clock from the frames' timestamps (replay) unless
/// `now` is given (live).
public final class Pipeline {
    /// The shared state: config, counters, pool, clock, tracer.
    public let context: PipelineContext
    private let classify: ClassifyStage
    let bridge: BridgeStage
    private let local: LocalStage
    private let route: RouteStage
    let conntrack: ConntrackStage
    private let overlayDecap: OverlayDecapStage?
    private let overlayEncap: OverlayEncapStage?
    /// The routes, shared by route (forwarding) and conntrack (MASQUERADE's egress test).
    private let routes: RoutingTable
    /// Next hops' MACs and the frames waiting for them: route and encap hold frames there,
    /// local tells it what it learned, the tunnel templates observe it.
    let resolver: NeighborResolver
    /// The ARP and neighbour cache.
    public var neighbors: NeighborTable { resolver.table }
    private var lastExpiry = Timestamp.zero
    /// For each frame of the batch: how many frames Pier had made once it was processed.
    private let generatedAfter = UnsafeMutablePointer<Int>.allocate(capacity: Batch.capacity)

    /// Builds the stages for `config`: the shared objects first, then each stage with the
    /// ones it uses. With `handover` (from `handOver()` of the pipeline this one replaces),
    /// counting, learned MACs and neighbours, connections and the clock go on from there.
    public convenience init(config: PipelineConfig, pool: FramePool = FramePool(), handover: PipelineHandover? = nil) {
        self.init(config: config, pool: pool, handover: handover, prepared: nil)
    }

    /// Builds the stages, with the tables `prepared` built aside when given.
    init(config: PipelineConfig, pool: FramePool, handover: PipelineHandover?, prepared: PreparedTables?) {
        context = PipelineContext(config: config, pool: pool, continuing: handover?.counters)
        if let handover { context.now = handover.now }
        routes = prepared?.routes ?? RoutingTable(config: config)
        resolver = NeighborResolver(context: context, carrying: handover?.neighbors)
        classify = ClassifyStage(context: context)
        overlayDecap = OverlayDecapStage(context: context, classify: classify)
        bridge = BridgeStage(context: context, carrying: handover?.tables ?? [:])
        conntrack = ConntrackStage(context: context, routes: routes, carrying: handover?.connections, dnat: prepared?.dnat,
                                   neighbors: resolver)
        local = LocalStage(context: context, resolver: resolver)
        route = RouteStage(context: context, table: routes, resolver: resolver)
        overlayEncap = OverlayEncapStage(context: context, resolver: resolver)
    }

    deinit { generatedAfter.deallocate() }

    /// What the pipeline counted.
    public var counters: PipelineCounters { context.counters }
    /// The configuration it was built from.
    public var config: PipelineConfig { context.config }

    /// Runs `batch` through the stages and sends every frame that leaves to `sink`; the
    /// batch's frames go back to the pool. The clock advances to `now`, or to the latest
    /// frame timestamp when `now` is nil (replay).
    public func process<Sink: FrameSink>(_ batch: inout Batch, into sink: inout Sink, now: Timestamp? = nil) {
        advanceClock(batch, now: now)
        for index in 0..<batch.count {
            let port = Int(batch[index].inputPort.rawValue)
            context.counters.received(port: port, byteCount: batch[index].count)
        }
        classify.run(&batch)
        // Frames for the node's VTEP become their inner frame, routed or switched (see the stage).
        overlayDecap?.run(&batch)

        bridge.run(&batch)
        // Local and route go frame by frame together: an ARP reply later in the batch must not
        // resolve a next hop for an earlier frame.
        conntrack.prepare(&batch)
        route.prepare(&batch)
        for index in 0..<batch.count {
            conntrack.process(&batch[index], at: index)
            local.process(&batch[index], at: index)
            route.process(&batch[index], at: index)
            // Frames routed toward a peer's pod subnet go into the tunnel.
            overlayEncap?.process(&batch[index], at: index)
            generatedAfter[index] = context.generatedIn
        }
        if now == nil {
            for index in 0..<batch.count where batch[index].timestamp > context.now { context.now = batch[index].timestamp }
        }
        for index in 0..<batch.count {
            if case .toBridge(let target) = batch[index].verdict { bridge.egress(&batch[index], bridge: target) }
            finish(batch[index], into: &sink)
            if generatedAfter[index] > context.generatedOut { flushGenerated(upTo: generatedAfter[index], into: &sink) }
        }
        batch.recycleAll(into: context.pool)
        flushGenerated(into: &sink)
    }

    /// Sends the frames Pier made (which may make more, as a released frame can be routed
    /// into a bridge); each is final. With `limit`, only until that many were ever taken
    /// (those made by the frames sent so far), in the order they were made.
    public func flushGenerated<Sink: FrameSink>(upTo limit: Int = .max, into sink: inout Sink) {
        while !context.generated.isEmpty && context.generatedOut < limit {
            var frame = context.generated.removeFirst()
            overlayEncap?.encapsulate(&frame)
            if case .toBridge(let target) = frame.verdict { bridge.egress(&frame, bridge: target) }
            finish(frame, into: &sink)
            context.pool.recycle(frame)
        }
    }

    /// Moves the clock to the batch's earliest frame and ages the tables once a second of
    /// pipeline time (the stages then use each frame's own timestamp).
    private func advanceClock(_ batch: borrowing Batch, now: Timestamp?) {
        if let now {
            context.now = now
        } else if batch.count > 0 {
            var earliest = batch[0].timestamp
            for index in 0..<batch.count where batch[index].timestamp < earliest { earliest = batch[index].timestamp }
            if earliest > context.now { context.now = earliest }
        }
        if context.now.nanoseconds - lastExpiry.nanoseconds >= 1_000_000_000 {
            lastExpiry = context.now
            for table in bridge.tables { _ = table.expire(now: context.now) }
        }
    }

    /// Sends one frame according to its verdict and counts it.
    private func finish<Sink: FrameSink>(_ frame: borrowing Frame, into sink: inout Sink) {
        switch frame.verdict {
        case .output(let port):
            send(frame, to: port, into: &sink)
        case .flood(let target, let except):
            for port in context.config.bridges[target].ports where port != except {
                send(frame, to: port, into: &sink)
            }
        case .drop(let reason):
            context.counters.drop(reason)
        case .held, .delivered:
            break
        case .pending, .toInterface, .toBridge:
            // Every stage decides; a frame left undecided is a bug, counted rather than lost.
            context.counters.drop(.notForThisHost)
        }
    }

    private func send<Sink: FrameSink>(_ frame: borrowing Frame, to port: PortID, into sink: inout Sink) {
        let index = Int(port.rawValue)
        guard index < context.counters.portCount else { return }
        context.counters.sent(port: index, byteCount: frame.count)
        sink.send(frame, to: port)
    }

    /// The learned and static MACs of each bridge, for `pier fdb` and `--dump`.
    public func fdbEntries() -> [(bridge: String, entries: [FDB.Entry])] {
        zip(context.config.bridges, bridge.tables).map { ($0.name, $1.entries(now: context.now)) }
    }

    /// Forgets the MACs learned on `port` (static entries stay), as Linux's bridge does when a
    /// port goes away; returns how many were forgotten. The live switch calls it when a port's
    /// device goes down.
    @discardableResult
    public func forgetLearned(on port: PortID) -> Int {
        var forgotten = 0
        for table in bridge.tables {
            for entry in table.entries(now: context.now) where entry.port == port && !entry.isStatic {
                if table.remove(entry.mac) { forgotten += 1 }
            }
        }
        return forgotten
    }

    /// The memory the bridges' tables use, in bytes.
    public var fdbMemoryBytes: Int { bridge.tables.reduce(0) { $0 + $1.memoryBytes } }

    /// The IPv4 routes with their egress interface and gateway, for `--dump`.
    public func routes4() -> [(prefix: IPv4Prefix, interface: String, gateway: IPv4Address?)] {
        routes.routes().map { prefix, nextHop in
            (prefix, context.config.interfaces[nextHop.interface].name, nextHop.gateway4)
        }
    }

    /// Frames waiting for a next hop's MAC.
    public var heldFrames: Int { resolver.heldCount }

    /// The tracked connections, one `conntrack -L` line each (for `--dump` and `pier conntrack`).
    public func conntrackLines() -> [String] { conntrack.lines(now: context.now) }

    /// Connections tracked now (expired ones not yet swept included).
    public var conntrackCount: Int { conntrack.table.count }

    /// Connections that have not expired by the pipeline's clock: the lines `conntrackLines` gives.
    public var liveConnectionCount: Int { conntrack.liveIndices(now: context.now).count }

    /// The memory the connection table uses, in bytes.
    public var conntrackMemoryBytes: Int { conntrack.table.memoryBytes }
}
