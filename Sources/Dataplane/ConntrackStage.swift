import Wire

/// Conntrack and NAT, in one pass before the local stage (netfilter's PREROUTING conntrack
/// and nat hooks, with POSTROUTING's MASQUERADE decided at the same time): every routed IPv4
/// TCP, UDP and ICMP echo packet, and IPv6 TCP, UDP and ICMPv6 echo packet, is looked up by
/// its key in the connection table.
///
/// - A packet of a known connection moves its state (TCP: `TCPTracker`; UDP: replied or
///   not; ICMP echo), renews its timer, and is rewritten to the other direction's key
///   reversed, as Open vSwitch does: the original direction gets the DNAT and SNAT of the
///   connection, replies get them undone. The checksum deltas were computed when the
///   connection was made.
/// - A packet that may open a connection (a TCP SYN, any UDP datagram, an ICMP echo
///   request) gets its destination from the published ports and Services (`DNATTable`); its
///   egress interface from the routing table; then MASQUERADE (a rule's source subnet and
///   output port, a node port as kube-proxy marks it, or hairpin: a translated connection
///   that leaves by the interface it came in on, so the reply comes back through Pier) with a
///   source port, or ICMP identifier, that keeps every reply key unique. The connection is
///   recorded and the packet rewritten; the route stage then forwards it.
/// - A TCP packet other than a SYN, or an ICMP echo reply, with no connection is invalid:
///   dropped (`conntrack-invalid`), unless it is for the node itself (the local stage takes it).
/// - An ICMP error quoting a packet of a known connection is translated inside (the quoted
///   IP and L4 headers) and out (its addresses), every checksum patched.
/// - A Service port with no endpoints answers ICMP port unreachable, as kube-proxy's REJECT.
///
/// The parts: tracking of known connections here (with `TCPTracker`, `UDPTracker`,
/// `ICMPTracker` and `ConntrackTimeouts`); new connections and the NAT decision in
/// ConntrackStage+Open.swift (`NATPolicy`, `NATPortAllocator`); related ICMP errors in
/// ConntrackStage+Related.swift; the `conntrack -L` text in ConntrackText.swift.
///
/// Bridged frames (switched between two stations of a bridge) are looked up only when their
/// source may be the endpoint of a connection translated between two stations of that bridge
/// (ConntrackStage+Bridged.swift): the reply is then un-DNATed as Linux's br_netfilter does;
/// other bridged traffic never reaches the table.
///
/// IPv6 (TCP, UDP, ICMPv6 echo and errors; ip6tables' MASQUERADE and DNAT) shares the table:
/// ConntrackStage+IPv6.swift and ConntrackStage+Related6.swift.
///
/// It does not track other bridged traffic between containers (Linux does with br_netfilter),
/// fragments after the first (Linux reassembles first), TCP sequence windows, or the
/// connections of packets Pier makes itself (its ICMP errors are not translated).
package final class ConntrackStage: FrameStage {
    let context: PipelineContext
    /// The connection table.
    package let table: ConntrackTable
    /// What new connections become: DNAT, egress, MASQUERADE.
    let policy: NATPolicy
    /// Where masqueraded connections get their source ports.
    let ports: NATPortAllocator
    /// How long connections live, by protocol and state.
    let timeouts: ConntrackTimeouts
    /// Whether a packet that opens no connection and belongs to none is dropped.
    let dropInvalid: Bool
    /// What `prefetch` read of each frame of the batch (nil: not tracked), and its key's tag,
    /// for `process(_:at:)`: each packet is parsed and hashed once.
    /// (Buffers, not arrays: an array element written inside a class pays a uniqueness check.)
    private let batchFacts: UnsafeMutablePointer<NATRewrite.Facts?> = {
        let facts = UnsafeMutablePointer<NATRewrite.Facts?>.allocate(capacity: Batch.capacity)
        facts.initialize(repeating: nil, count: Batch.capacity)
        return facts
    }()
    private let batchTags: UnsafeMutablePointer<UInt32> = {
        let tags = UnsafeMutablePointer<UInt32>.allocate(capacity: Batch.capacity)
        tags.initialize(repeating: 0, count: Batch.capacity)
        return tags
    }()
    /// The addresses of each IPv6 frame `prepare` read (its key holds only their hashes).
    let batchAddresses6: UnsafeMutablePointer<AddressPair6> = {
        let pairs = UnsafeMutablePointer<AddressPair6>.allocate(capacity: Batch.capacity)
        pairs.initialize(repeating: AddressPair6(source: .any, destination: .any), count: Batch.capacity)
        return pairs
    }()
    /// What new IPv6 connections become: DNAT, egress, MASQUERADE.
    let policy6: NATPolicy6
    var lastFullSweep: Int64 = 0
    var lastSweep: Int64 = 0
    /// The endpoints of connections whose replies are switched on a bridge: a bridged frame
    /// from one of them is looked up (ConntrackStage+Bridged.swift).
    var bridgedEndpoints = BridgedEndpointFilter()
    /// Neighbours' MACs, for translated frames bridged back into their own bridge (nil: they
    /// are routed there instead).
    let neighbors: NeighborResolver?

    /// Makes the stage for `context`'s configuration; `routes` gives a destination's egress
    /// interface (the route stage's table in a pipeline). With `carried` (the table of the
    /// pipeline this one replaces, when its capacity is the configuration's), connections go
    /// on, except UDP ones whose DNAT endpoint no rule leads to any more: those are forgotten,
    /// as kube-proxy deletes them (`conntrack -D`), so the next datagram picks a live endpoint.
    /// TCP connections stay until they end, as on Linux; new connections follow the new rules.
    package init(context: PipelineContext, routes: RoutingTable, carrying carried: ConntrackTable? = nil, dnat: DNATTable? = nil,
                 neighbors: NeighborResolver? = nil) {
        self.context = context
        self.neighbors = neighbors
        let config = context.config
        let policy = NATPolicy(config: config, routes: routes, nodeAddresses: context.nodeAddresses4, dnat: dnat)
        self.policy = policy
        let policy6 = NATPolicy6(config: config, routes: routes, nodeAddresses: context.nodeAddresses6)
        self.policy6 = policy6
        if let carried, carried.capacity == max(1, config.conntrack.capacity) {
            var stale: [Int] = [], switched = BridgedEndpointFilter()
            for index in carried.indices() {
                let connection = carried[index]
                guard connection.has(.destinationNAT) else { continue }
                if connection.original.protocol == .udp {
                    let leads = connection.original.isIPv6
                        ? policy6.dnat.leads(carried.addresses6(at: index), connection)
                        : policy.dnat.leads(to: connection.reply.source, port: connection.reply.sourcePort,
                                            from: connection.original.destination, port: connection.original.destinationPort, proto: .udp)
                    if !leads {
                        stale.append(index)
                        continue
                    }
                }
                if !connection.has(.sourceNAT) && !connection.original.isIPv6 {
                    switched.insert(connection.reply.source)  // its reply may be switched
                }
            }
            for index in stale { carried.remove(index) }
            if !stale.isEmpty { context.counters.count(.conntrackFlushed, stale.count) }
            table = carried
            bridgedEndpoints = switched
        } else {
            table = ConntrackTable(capacity: max(1, config.conntrack.capacity))
        }
        ports = NATPortAllocator(range: config.nat.portRange)
        dropInvalid = config.conntrack.dropInvalid
        timeouts = ConntrackTimeouts(config.conntrack)
    }

    deinit {
        batchFacts.deallocate()
        batchTags.deallocate()
        batchAddresses6.deallocate()
    }

    /// Reads, for every frame of `batch` that conntrack will look up, its facts and key tag,
    /// and starts loading the index slot then the record of its connection, so the lookups
    /// that follow find them in cache (at a million connections each would otherwise wait on
    /// two cache misses in turn). `process(_:at:)` then takes the facts from here.
    package func prepare(_ batch: inout Batch) {
        let count = batch.count
        for index in 0..<count {
            let facts = trackedFacts(of: batch[index], at: index)
            batchFacts[index] = facts
            guard let facts else { continue }
            let tag = table.tag(of: facts.key)
            batchTags[index] = tag
            table.prefetchSlot(tag: tag)
        }
        for index in 0..<count where batchFacts[index] != nil { table.prefetchRecord(tag: batchTags[index]) }
    }

    /// What conntrack reads of `frame`, if it is routed IPv4 TCP, UDP or ICMP, or IPv6 TCP, UDP
    /// or ICMPv6 (whose addresses go to `batchAddresses6` at `index`).
    @inline(__always)
    private func trackedFacts(of frame: borrowing Frame, at index: Int) -> NATRewrite.Facts? {
        guard case .toInterface = frame.verdict, frame.layers.transport >= 0 else { return nil }
        if frame.layers.networkType == .ipv4 {
            return NATRewrite.facts(of: frame.bytes, network: Int(frame.layers.network), transport: Int(frame.layers.transport))
        }
        guard frame.layers.networkType == .ipv6 else { return nil }
        return trackedFacts6(frame.bytes, network: Int(frame.layers.network), transport: Int(frame.layers.transport),
                             proto: frame.layers.transportProtocol, at: index)
    }

    /// `trackedFacts` of an IPv6 packet, out of line and given the bytes rather than the frame
    /// (passing the frame made the IPv4 loop copy every frame first).
    @inline(never)
    private func trackedFacts6(_ bytes: RawSpan, network: Int, transport: Int, proto: IPProtocol, at index: Int) -> NATRewrite.Facts? {
        guard let six = NATRewrite.facts6(of: bytes, network: network, transport: transport, proto: proto) else { return nil }
        batchAddresses6[index] = six.addresses
        return six.facts
    }

    /// Tracks and translates frame `index` of the batch `prepare` last read, with what it read
    /// there (no stage touches a frame between the two), when the bridge or port left it for
    /// the node's interfaces.
    package func process(_ frame: inout Frame, at index: Int) {
        guard let facts = batchFacts[index], case .toInterface(let ingress) = frame.verdict else {
            // Bridged: looked up here, not in `prepare`, as a connection opened by an earlier
            // frame of this batch may be the one it answers.
            if !bridgedEndpoints.isEmpty { trackBridged(&frame) }
            return
        }
        process(&frame, facts: facts, tag: batchTags[index], ingress: ingress, index: index)
    }

    @inline(__always)
    private func process(_ frame: inout Frame, facts: NATRewrite.Facts, tag: UInt32, ingress: InterfaceIndex, index: Int) {
        if facts.key.isIPv6 { return process6(&frame, facts: facts, addresses: batchAddresses6[index], tag: tag, ingress: ingress) }
        if facts.key.protocol == .icmp {
            switch ICMPTracker.kind(of: ICMPv4Type(rawValue: facts.icmpType)) {
            case .echo: break
            case .error: return translateRelated(&frame)
            case .untracked: return
            }
        }
        let now = frame.timestamp.nanoseconds
        if now - lastSweep >= 1_000_000_000 { sweep(now: now) }
        if let hit = table.find(facts.key, tag: tag, now: now), track(&frame, hit: hit, facts: facts, now: now) { return }
        open(&frame, facts: facts, ingress: ingress, now: now)
    }

    /// Removes the connections that expired by `now` (once a second of pipeline time: a
    /// lookup already treats an expired connection as gone, this frees their records).
    func sweep(now: Int64) {
        lastSweep = now
        let removed = table.expire(now: now)
        if removed > 0 { context.counters.count(.conntrackExpired, removed) }
        if table.count == 0 { bridgedEndpoints.removeAll() }
    }

    // MARK: Known connections

    /// Moves a known connection's state and translates the packet; false when a SYN reopens
    /// a closed connection (the caller then opens a new one).
    func track(_ frame: inout Frame, hit: ConntrackTable.Hit, facts: NATRewrite.Facts, now: Int64) -> Bool {
        var record = table[hit.index]
        guard advance(frame, hit: hit, facts: facts, now: now, record: &record) else { return false }
        let direction = hit.direction
        guard record.has(.sourceNAT) || record.has(.destinationNAT) else { return true }
        let old = record.key(direction)
        let new = record.key(direction.opposite).reversed
        let network = Int(frame.layers.network), transport = Int(frame.layers.transport)
        let (ipDelta, l4Delta) = direction == .original ? (record.originalIPDelta, record.originalL4Delta)
                                                        : (record.replyIPDelta, record.replyL4Delta)
        let partial = frame.offload.needsChecksum
        var bytes = frame.mutableBytes
        NATRewrite.apply(&bytes, network: network, transport: transport, old: old, new: new, ipDelta: ipDelta, l4Delta: l4Delta,
                         partialChecksum: partial)
        context.trace(frame, "conntrack: \(direction == .original ? "original" : "reply") \(old) translated to \(new)")
        if old.destination != new.destination, case .toInterface(let ingress) = frame.verdict, policy.isBridge(ingress) {
            bridgeBack(&frame, ingress: ingress, destination: new.destination, egress: policy.egress(of: new.destination))
        }
        return true
    }

    /// Moves the state of `record`, the connection `hit` found (either family), for a packet
    /// with `facts`, renews its timer and stores it; false when a SYN reopens a closed
    /// connection (it is forgotten, and the caller opens a new one).
    @inline(__always)
    func advance(_ frame: borrowing Frame, hit: ConntrackTable.Hit, facts: NATRewrite.Facts, now: Int64,
                 record: inout ConntrackTable.Connection) -> Bool {
        let direction = hit.direction
        if direction == .reply && !record.has(.seenReply) { record.set(.seenReply) }
        let timeout: Int64
        switch facts.key.protocol {
        case .tcp:
            let old = TCPState(rawValue: record.state) ?? .close
            let finFrom: FlowDirection = record.has(.finFromReply) ? .reply : .original
            switch TCPTracker.next(old, flags: facts.flags, direction: direction, finFrom: finFrom) {
            case .reopen:
                table.remove(hit.index)
                context.trace(frame, "conntrack: SYN on a closed connection, the old one is forgotten")
                return false
            case .state(let new):
                if new != old {
                    if let sender = TCPTracker.finSender(movedTo: new, flags: facts.flags, direction: direction) {
                        if sender == .reply { record.set(.finFromReply) } else { record.clear(.finFromReply) }
                    }
                    if new == .established { record.set(.assured) }
                    record.state = new.rawValue
                    context.trace(frame, "conntrack: tcp \(old.name) -> \(new.name) (\(direction == .original ? "original" : "reply"))")
                }
                timeout = timeouts.tcp(new)
            }
        case .udp:
            let outcome = UDPTracker.next(seenReply: record.has(.seenReply))
            if outcome.isStream { record.set(.assured) }
            timeout = timeouts.udp(isStream: outcome.isStream)
        default:
            timeout = timeouts.icmp
        }
        record.expires = now + timeout
        table[hit.index] = record
        return true
    }
}

// MARK: What this part counts (names and descriptions: DropReason, PipelineCounters.Event)

extension ConntrackStage: CountingPart {
    package static let dropReasons: [DropReason] = [.conntrackInvalid, .conntrackFull, .natPortsExhausted, .serviceNoEndpoints, .serviceNoLocalEndpoints]
    package static let events: [PipelineCounters.Event] = [.conntrackNew, .conntrackExpired, .conntrackEvicted, .sourceNAT, .destinationNAT, .relatedTranslated, .conntrackInvalidAccepted, .conntrackFlushed]
}
