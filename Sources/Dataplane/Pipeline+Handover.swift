import Wire

/// What a running pipeline hands to the pipeline built to replace it when its topology
/// changes (`pier apply`, a reload), so that a change drops nothing it need not: the counters
/// (resized to the new ports), each bridge's learned MACs (by bridge name, on the ports still
/// in it), the learned neighbours, the tracked connections, and the clock. Port numbers are
/// the caller's to keep stable (`PortSlots` in the Topology module): a port keeps its number
/// across the change, so its counters and table entries stay its own.
public struct PipelineHandover {
    let counters: PipelineCounters
    let tables: [String: FDB]
    let neighbors: NeighborTable
    let connections: ConntrackTable
    let now: Timestamp
}

/// The parts of a pipeline that take time to build for a large topology (the routes, and the
/// DNAT rules of 10,000 Services), built on another thread before the pipeline itself is made
/// between two batches: the live switch's loop then only hands state over.
public struct PreparedTables: @unchecked Sendable {
    let config: PipelineConfig
    let routes: RoutingTable
    let dnat: DNATTable

    /// Builds `config`'s tables.
    public init(_ config: PipelineConfig) {
        self.config = config
        routes = RoutingTable(config: config)
        dnat = DNATTable(rules: config.nat, nodeAddresses: config.nodeAddresses4)
    }
}

extension Pipeline {
    /// Ends this pipeline's service between two batches: what the next one takes over. Frames
    /// still waiting for a next hop are dropped and counted (`neighbor-unresolved`): the
    /// interfaces they wait on may not exist in the new topology. The pipeline must not process
    /// frames after this.
    public func handOver() -> PipelineHandover {
        resolver.dropAllHeld()
        var tables: [String: FDB] = [:]
        for (bridge, table) in zip(context.config.bridges, bridge.tables) { tables[bridge.name] = table }
        return PipelineHandover(counters: context.counters, tables: tables, neighbors: resolver.table,
                                connections: conntrack.table, now: context.now)
    }

    /// The pipeline of `prepared`'s configuration, taking over `handover` (see `init`).
    public convenience init(prepared: PreparedTables, pool: FramePool, handover: PipelineHandover) {
        self.init(config: prepared.config, pool: pool, handover: handover, prepared: prepared)
    }
}

extension PipelineCounters {
    /// New counters for `portCount` ports holding `old`'s counts (ports past the old count start
    /// at zero).
    convenience init(portCount: Int, continuing old: PipelineCounters) {
        self.init(portCount: portCount)
        for index in 0..<min(portCount, old.portCount) { portStorage[index] = old.portStorage[index] }
        dropStorage.update(from: old.dropStorage, count: DropReason.allCases.count)
        eventStorage.update(from: old.eventStorage, count: Event.allCases.count)
    }
}

extension FDB {
    /// A table for `bridge` carrying `old`'s learned entries on the bridge's ports: `old` itself
    /// when its size and ageing are the bridge's (its static entries replaced by the bridge's),
    /// else a new table that learns them again with their ages.
    static func carried(_ old: FDB?, for bridge: PipelineConfig.Bridge, now: Timestamp) -> FDB {
        let members = Set(bridge.ports)
        let table: FDB
        if let old, old.capacity == bridge.fdbCapacity, old.ageing == bridge.ageingSeconds {
            table = old
            for entry in old.entries(now: now) where entry.isStatic || !members.contains(entry.port) {
                _ = table.remove(entry.mac)
            }
        } else {
            table = FDB(capacity: bridge.fdbCapacity, ageing: bridge.ageingSeconds)
            for entry in old?.entries(now: now) ?? [] where !entry.isStatic && members.contains(entry.port) {
                let seen = Timestamp(nanoseconds: now.nanoseconds - entry.ageSeconds * 1_000_000_000)
                _ = table.learn(entry.mac, port: entry.port, now: seen)
            }
        }
        for entry in bridge.staticEntries { _ = table.addStatic(entry.mac, port: entry.port) }
        return table
    }
}

extension NeighborTable {
    /// Takes `old`'s learned entries (static ones come from the configuration, which wins).
    func learnAll(from old: NeighborTable) {
        for (address, entry) in old.ipv4 where !entry.isStatic { learn(address, mac: entry.mac) }
        for (address, entry) in old.ipv6 where !entry.isStatic { learn(address, mac: entry.mac) }
    }
}
