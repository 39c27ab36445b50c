import Wire

/// Bridge: the learning switch of docker0/cni0. For each frame that entered on a member
/// port it learns the source MAC on that port (refreshing, or moving a station that changed
/// ports; never a group address), then picks the destination: the bridge's own MAC goes to
/// its L3 interface, a known station to its port, and broadcast, multicast and unknown
/// unicast flood to every member but the ingress. A frame whose destination is behind its
/// own ingress port is dropped unless hairpin is on. When the table is full, forwarding goes
/// on, unknown destinations flood, and `fdb-full` counts what was not learned.
///
/// Frames entering on a routed port (the uplink) are sorted here too: unicast to the port's
/// MAC and group frames go to its interface, unicast to other MACs is dropped.
///
/// It does not do VLAN filtering (tagged frames are switched like any other), STP or IGMP
/// snooping.
final class BridgeStage: BatchStage {
    private let context: PipelineContext
    /// One table per bridge.
    let tables: [FDB]
    /// The same tables, read per frame without a retain and release (`tables` keeps them
    /// alive): the reference counting cost more than the table lookups.
    private let unretainedTables: [Unmanaged<FDB>]
    /// Per bridge: whether hairpin is on, copied out of the config (reading a whole `Bridge`
    /// per frame retained its name and port arrays; its interface is `context.bridgeInterface`).
    private let bridgeHairpins: [Bool]

    /// Makes the stage for `context`'s bridges, each keeping the learned MACs of its table in
    /// `carried` (by bridge name: the tables of the pipeline this one replaces).
    init(context: PipelineContext, carrying carried: [String: FDB] = [:]) {
        self.context = context
        let config = context.config
        bridgeHairpins = config.bridges.map(\.hairpin)
        tables = config.bridges.map { bridge in FDB.carried(carried[bridge.name], for: bridge, now: context.now) }
        unretainedTables = tables.map { Unmanaged.passUnretained($0) }
        prefetches = tables.contains { $0.memoryBytes > Self.cachedTableBytes }
    }

    /// Tables up to this size stay in cache: prefetching their slots only costs instructions
    /// (the default 4,096 entries take 128 KiB).
    private static let cachedTableBytes = 1 << 20
    /// True when some bridge's table is too big to stay in cache, so the batch's slots are
    /// prefetched before any frame needs them.
    private let prefetches: Bool

    /// Calls `body` with bridge `bridge`'s table, without retaining it.
    @inline(__always)
    private func withTable<R>(_ bridge: BridgeIndex, _ body: (FDB) -> R) -> R {
        unretainedTables[bridge]._withUnsafeGuaranteedRef(body)
    }

    func run(_ batch: inout Batch) {
        // Start the table loads for the whole batch before any frame needs them.
        if prefetches { prefetch(batch) }
        for index in 0..<batch.count {
            guard case .pending = batch[index].verdict else { continue }
            let port = Int(batch[index].inputPort.rawValue)
            let bridge = context.portBridge[port]
            if bridge >= 0 {
                switchFrame(&batch[index], bridge: bridge)
            } else {
                sortRouted(&batch[index], interface: context.portInterface[port])
            }
        }
    }

    /// Starts loading the slots of every pending frame's source and destination MAC.
    private func prefetch(_ batch: borrowing Batch) {
        for index in 0..<batch.count {
            guard case .pending = batch[index].verdict else { continue }
            let bridge = context.portBridge[Int(batch[index].inputPort.rawValue)]
            guard bridge >= 0 else { continue }
            let bytes = batch[index].bytes
            let source = bytes.mac(at: EthernetHeader.Field.source)
            let destination = bytes.mac(at: EthernetHeader.Field.destination)
            withTable(bridge) { table in
                table.prefetch(source)
                table.prefetch(destination)
            }
        }
    }

    /// Learns and forwards one frame that entered on a member of `bridge`.
    private func switchFrame(_ frame: inout Frame, bridge: BridgeIndex) {
        let source = frame.bytes.mac(at: EthernetHeader.Field.source)
        let destination = frame.bytes.mac(at: EthernetHeader.Field.destination)
        let input = frame.inputPort
        // Each frame's own time: within a replayed batch, frames span different moments.
        let now = frame.timestamp
        switch withTable(bridge, { table in table.learn(source, port: input, now: now) }) {
        case .new:
            context.counters.count(.fdbLearned)
            context.trace(frame, "bridge \(context.config.bridges[bridge].name): learned \(source) on \(portName(input))")
        case .moved(let from):
            context.counters.count(.fdbMoved)
            context.trace(frame, "bridge \(context.config.bridges[bridge].name): \(source) moved from \(portName(from)) to \(portName(input))")
        case .full:
            context.counters.count(.fdbFull)
            context.trace(frame, "bridge \(context.config.bridges[bridge].name): table full, \(source) not learned")
        case .refreshed, .ignored:
            break
        }
        let interface = context.bridgeInterface[bridge]
        if interface >= 0, destination == context.interfaceMACs[interface] {
            frame.verdict = .toInterface(interface)
            context.trace(frame, "bridge \(context.config.bridges[bridge].name): to the bridge's own address")
        } else if destination.isGroup {
            frame.verdict = .flood(bridge, except: input)
            context.counters.count(.flooded)
            context.trace(frame, "bridge \(context.config.bridges[bridge].name): \(destination.isBroadcast ? "broadcast" : "multicast"), flood")
        } else if let port = withTable(bridge, { table in table.lookup(destination, now: now) }) {
            if port == input && !bridgeHairpins[bridge] {
                frame.verdict = .drop(.hairpin)
                context.trace(frame, "bridge \(context.config.bridges[bridge].name): \(destination) is behind the ingress port -> drop hairpin")
            } else {
                frame.verdict = .output(port)
                context.trace(frame, "bridge \(context.config.bridges[bridge].name): \(destination) is on \(portName(port))")
            }
        } else {
            frame.verdict = .flood(bridge, except: input)
            context.counters.count(.flooded)
            context.trace(frame, "bridge \(context.config.bridges[bridge].name): \(destination) unknown, flood")
        }
    }

    /// Sorts one frame that entered on a routed port.
    private func sortRouted(_ frame: inout Frame, interface: InterfaceIndex) {
        guard interface >= 0 else {
            frame.verdict = .drop(.notForThisHost)
            context.trace(frame, "port \(portName(frame.inputPort)) is in no bridge and has no address -> drop not-for-this-host")
            return
        }
        let destination = frame.bytes.mac(at: EthernetHeader.Field.destination)
        if destination == context.interfaceMACs[interface] || destination.isGroup {
            frame.verdict = .toInterface(interface)
        } else {
            frame.verdict = .drop(.notForThisHost)
            context.trace(frame, "port \(portName(frame.inputPort)): \(destination) is not this host -> drop not-for-this-host")
        }
    }

    /// Forwards a frame routed into `bridge`: to the port its destination MAC was learned
    /// on, or flooded when unknown.
    func egress(_ frame: inout Frame, bridge: BridgeIndex) {
        let destination = frame.bytes.mac(at: EthernetHeader.Field.destination)
        let now = frame.timestamp
        if !destination.isGroup, let port = withTable(bridge, { table in table.lookup(destination, now: now) }) {
            frame.verdict = .output(port)
            context.trace(frame, "bridge \(context.config.bridges[bridge].name): \(destination) is on \(portName(port))")
        } else {
            frame.verdict = .flood(bridge, except: .none)
            context.counters.count(.flooded)
            context.trace(frame, "bridge \(context.config.bridges[bridge].name): \(destination) unknown or group, flood")
        }
    }

    private func portName(_ port: PortID) -> String {
        Int(port.rawValue) < context.config.ports.count ? context.config.ports[Int(port.rawValue)].name : "port \(port)"
    }
}

// MARK: What this part counts (names and descriptions: DropReason, PipelineCounters.Event)

extension BridgeStage: CountingPart {
    package static let dropReasons: [DropReason] = [.hairpin, .notForThisHost]
    package static let events: [PipelineCounters.Event] = [.fdbLearned, .fdbMoved, .fdbFull, .flooded]
}
