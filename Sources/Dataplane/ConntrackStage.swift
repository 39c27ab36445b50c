import Wire

/// Conntrack and NAT, in one pass before the local stage (netfilter's PREROUTING conntrack
/// and nat hooks, with POSTROUTING's MASQUERADE decided at the same time): every routed IPv4
/// TCP, UDP and ICMP echo packet is looked up by its key in the connection table.
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
/// It does not track bridged traffic between containers (Linux does with br_netfilter), IPv6,
/// fragments after the first (Linux reassembles first), TCP sequence windows, or the
/// connections of packets Pier makes itself (its ICMP errors are not translated).
package final class ConntrackStage {
    private let context: PipelineContext
    /// The connection table.
    package let table: ConntrackTable
    private let dnat: DNATTable
    /// The egress interface of a destination (the route stage's table).
    private let egressOf: (IPv4Address) -> InterfaceIndex?
    /// MASQUERADE rules with their output port's interface.
    private let masquerade: [(source: IPv4Prefix, interface: InterfaceIndex)]
    private let portRange: ClosedRange<UInt16>
    /// Timeouts in nanoseconds: TCP states by raw value, then UDP, UDP stream, ICMP.
    private let timeouts: [Int64]
    private let dropInvalid: Bool
    /// What `prefetch` read of each frame of the batch (nil: not tracked), and its key's tag,
    /// for `process(_:prefetched:)`: each packet is parsed and hashed once.
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
    private var lastFullSweep: Int64 = 0
    private var lastSweep: Int64 = 0

    /// Makes the stage for `context`'s configuration; `egressOf` gives a destination's egress
    /// interface (the route stage's table in a pipeline).
    package init(context: PipelineContext, egressOf: @escaping (IPv4Address) -> InterfaceIndex?) {
        self.context = context
        self.egressOf = egressOf
        let config = context.config
        table = ConntrackTable(capacity: max(1, config.conntrack.capacity))
        dnat = DNATTable(rules: config.nat, nodeAddresses: context.nodeAddresses4)
        masquerade = config.nat.masquerade.compactMap { rule in
            config.ports[Int(rule.out.rawValue)].interface.map { (rule.source, $0) }
        }
        portRange = config.nat.portRange
        let settings = config.conntrack
        dropInvalid = settings.dropInvalid
        precondition(settings.tcpTimeouts.count == TCPState.allCases.count && TCPState.allCases.count == Self.udpTimeout,
                     "one TCP timeout per state, then UDP's and ICMP's")
        timeouts = (settings.tcpTimeouts + [settings.udpTimeout, settings.udpStreamTimeout, settings.icmpTimeout])
            .map { $0 * 1_000_000_000 }
    }

    deinit {
        batchFacts.deallocate()
        batchTags.deallocate()
    }

    /// Where UDP's and ICMP's timeouts sit in `timeouts`, after one per TCP state (literals, so
    /// no once-guarded accessor per packet; `init` checks them against `TCPState`).
    private static let udpTimeout = 8, udpStreamTimeout = 9, icmpTimeout = 10

    /// Reads, for every frame of `batch` that conntrack will look up, its facts and key tag,
    /// and starts loading the index slot then the record of its connection, so the lookups
    /// that follow find them in cache (at a million connections each would otherwise wait on
    /// two cache misses in turn). `process(_:prefetched:)` then takes the facts from here.
    package func prefetch(_ batch: inout Batch) {
        let count = batch.count
        for index in 0..<count {
            let facts = Self.trackedFacts(of: batch[index])
            batchFacts[index] = facts
            guard let facts else { continue }
            let tag = table.tag(of: facts.key)
            batchTags[index] = tag
            table.prefetchSlot(tag: tag)
        }
        for index in 0..<count where batchFacts[index] != nil { table.prefetchRecord(tag: batchTags[index]) }
    }

    /// What conntrack reads of `frame`, if it is routed IPv4 TCP, UDP or ICMP.
    @inline(__always)
    private static func trackedFacts(of frame: borrowing Frame) -> NATRewrite.Facts? {
        guard case .toInterface = frame.verdict, frame.layers.networkType == .ipv4, frame.layers.transport >= 0 else { return nil }
        return NATRewrite.facts(of: frame.bytes, network: Int(frame.layers.network), transport: Int(frame.layers.transport))
    }

    /// Tracks and translates frame `index` of the batch `prefetch` last read, with what it read
    /// there (no stage touches a frame between the two), when the bridge or port left it for
    /// the node's interfaces.
    package func process(_ frame: inout Frame, prefetched index: Int) {
        guard case .toInterface(let ingress) = frame.verdict, let facts = batchFacts[index] else { return }
        process(&frame, facts: facts, tag: batchTags[index], ingress: ingress)
    }

    @inline(__always)
    private func process(_ frame: inout Frame, facts: NATRewrite.Facts, tag: UInt32, ingress: InterfaceIndex) {
        if facts.key.protocol == .icmp {
            let type = ICMPv4Type(rawValue: facts.icmpType)
            if type.isError {
                translateRelated(&frame)
                return
            }
            guard type == .echoRequest || type == .echoReply else { return }
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
    }

    // MARK: Known connections

    /// Moves a known connection's state and translates the packet; false when a SYN reopens
    /// a closed connection (the caller then opens a new one).
    private func track(_ frame: inout Frame, hit: ConntrackTable.Hit, facts: NATRewrite.Facts, now: Int64) -> Bool {
        var record = table[hit.index]
        let direction = hit.direction
        if direction == .reply && !record.has(.seenReply) { record.set(.seenReply) }
        let timeout: Int
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
                timeout = Int(new.rawValue)
            }
        case .udp:
            if record.has(.seenReply) { record.set(.assured) }
            timeout = record.has(.seenReply) ? Self.udpStreamTimeout : Self.udpTimeout
        default:
            timeout = Self.icmpTimeout
        }
        record.expires = now + timeouts[timeout]
        table[hit.index] = record
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
        return true
    }

    // MARK: New connections

    private func isNodeAddress(_ address: IPv4Address) -> Bool {
        context.nodeAddresses4.contains(address)
    }

    /// Opens a connection for a packet with no connection, or drops it as invalid.
    private func open(_ frame: inout Frame, facts: NATRewrite.Facts, ingress: InterfaceIndex, now: Int64) {
        let key = facts.key
        let opens = switch key.protocol {
        case .tcp: TCPTracker.opens(facts.flags)
        case .icmp: facts.icmpType == ICMPv4Type.echoRequest.rawValue
        default: true
        }
        guard opens else {
            if isNodeAddress(key.destination) { return }  // for the node itself: the local stage's
            guard dropInvalid else {
                context.counters.count(.conntrackInvalidAccepted)
                context.trace(frame, "conntrack: \(key) opens no connection and belongs to none -> invalid, accepted untranslated")
                return
            }
            frame.verdict = .drop(.conntrackInvalid)
            context.trace(frame, "conntrack: \(key) opens no connection and belongs to none -> drop conntrack-invalid")
            return
        }
        var destination = key.destination, destinationPort = key.destinationPort
        var masquerade = false
        var rule = -1
        if key.protocol != .icmp {
            switch dnat.decide(destination: key.destination, port: key.destinationPort, proto: key.protocol, client: key.source, now: now) {
            case .none:
                break
            case .noEndpoints(let index):
                reject(&frame, ingress: ingress)
                context.trace(frame, "conntrack: \(dnat.labels[index]) has no endpoints -> drop service-no-endpoints, ICMP port unreachable sent")
                return
            case .translate(let address, let port, let mark, let index):
                (destination, destinationPort, masquerade, rule) = (address, port, mark, index)
            }
        }
        // Traffic for the node itself is the local stage's, untracked.
        guard !isNodeAddress(destination), let egress = egressOf(destination) else { return }
        if rule >= 0 && egress == ingress { masquerade = true }  // hairpin
        if !masquerade {
            masquerade = self.masquerade.contains { $0.interface == egress && $0.source.contains(key.source) }
        }
        var source = key.source, sourcePort = key.sourcePort
        if masquerade {
            guard let address = context.sourceAddress(of: egress, toward: destination) else { return }
            source = address
            guard let port = uniquePort(source: address, destination: destination, destinationPort: destinationPort, key: key) else {
                frame.verdict = .drop(.natPortsExhausted)
                context.trace(frame, "conntrack: no free source port on \(address) toward \(destination):\(destinationPort) -> drop nat-ports-exhausted")
                return
            }
            sourcePort = port
        }
        let reply = Self.replyKey(key.protocol, from: destination, port: destinationPort, to: source, port: sourcePort)
        guard makeRoom(frame, now: now) else { return dropFull(&frame) }
        let initial = key.protocol == .tcp ? Int(TCPState.synSent.rawValue) : key.protocol == .udp ? Self.udpTimeout : Self.icmpTimeout
        guard let index = table.insert(original: key, reply: reply, expires: now + timeouts[initial]) else {
            frame.verdict = .drop(.conntrackInvalid)
            context.trace(frame, "conntrack: reply key \(reply) already belongs to another connection -> drop conntrack-invalid")
            return
        }
        let (ipDelta, l4Delta) = record(index, key: key, reply: reply, sourceNAT: masquerade, destinationNAT: rule >= 0)
        context.counters.count(.conntrackNew)
        let translated = reply.reversed
        guard key != translated else {
            context.trace(frame, "conntrack: new \(key)")
            return
        }
        if masquerade { context.counters.count(.sourceNAT) }
        if rule >= 0 { context.counters.count(.destinationNAT) }
        let network = Int(frame.layers.network), transport = Int(frame.layers.transport)
        let partial = frame.offload.needsChecksum
        var bytes = frame.mutableBytes
        NATRewrite.apply(&bytes, network: network, transport: transport, old: key, new: translated,
                         ipDelta: ipDelta, l4Delta: l4Delta, partialChecksum: partial)
        context.trace(frame, "conntrack: new \(key)\(rule >= 0 ? " (\(dnat.labels[rule]))" : ""), translated to \(translated)")
    }

    /// The reply key of a connection from `source`:`sourcePort` (ICMP: the identifier) to
    /// `destination`:`destinationPort` after translation: the packets coming back.
    private static func replyKey(_ proto: IPProtocol, from destination: IPv4Address, port destinationPort: UInt16,
                                 to source: IPv4Address, port sourcePort: UInt16) -> FlowKey {
        FlowKey(source: destination, destination: source, sourcePort: proto == .icmp ? sourcePort : destinationPort,
                destinationPort: sourcePort, protocol: proto)
    }

    /// Sets a new record's protocol state, NAT flags and the checksum deltas of each direction;
    /// returns the original direction's deltas.
    private func record(_ index: Int, key: FlowKey, reply: FlowKey, sourceNAT: Bool, destinationNAT: Bool) -> (ip: UInt16, l4: UInt16) {
        var connection = table[index]
        connection.state = key.protocol == .tcp ? TCPState.synSent.rawValue : 0
        if sourceNAT { connection.set(.sourceNAT) }
        if destinationNAT { connection.set(.destinationNAT) }
        (connection.originalIPDelta, connection.originalL4Delta) = NATRewrite.deltas(from: key, to: reply.reversed)
        (connection.replyIPDelta, connection.replyL4Delta) = NATRewrite.deltas(from: reply, to: key.reversed)
        table[index] = connection
        return (connection.originalIPDelta, connection.originalL4Delta)
    }

    /// A source port (ICMP: identifier) on `source` for which the reply key is free: the
    /// original one if it is, else the first free one in the range after a point drawn from
    /// the key (netfilter's `nf_nat_l4proto_unique_tuple` starts at a hash of the tuple too).
    private func uniquePort(source: IPv4Address, destination: IPv4Address, destinationPort: UInt16, key: FlowKey) -> UInt16? {
        func replyKey(_ port: UInt16) -> FlowKey {
            Self.replyKey(key.protocol, from: destination, port: destinationPort, to: source, port: port)
        }
        if !table.contains(replyKey(key.sourcePort)) { return key.sourcePort }
        let lower = Int(portRange.lowerBound), count = Int(portRange.upperBound) - lower + 1
        let start = Int(key.hash(seed: 0x4E41_5450_4F52_5453) % UInt64(count))
        for step in 0..<count {
            let port = UInt16(lower + (start + step) % count)
            if !table.contains(replyKey(port)) { return port }
        }
        return nil
    }

    /// Makes room for one connection when the table is full: every expired connection (at
    /// most once a second of pipeline time), else one that was never assured.
    private func makeRoom(_ frame: borrowing Frame, now: Int64) -> Bool {
        guard table.isFull else { return true }
        if now - lastFullSweep >= 1_000_000_000 {
            lastFullSweep = now
            sweep(now: now)
            if !table.isFull { return true }
        }
        guard table.evictUnassured(now: now) else { return false }
        context.counters.count(.conntrackEvicted)
        context.trace(frame, "conntrack: table full, an unassured connection evicted")
        return true
    }

    private func dropFull(_ frame: inout Frame) {
        frame.verdict = .drop(.conntrackFull)
        context.trace(frame, "conntrack: table full of assured connections -> drop conntrack-full")
    }

    /// ICMP port unreachable to the sender, from the ingress interface's address (as
    /// kube-proxy's `REJECT --reject-with icmp-port-unreachable`), and the packet dropped.
    private func reject(_ frame: inout Frame, ingress: InterfaceIndex) {
        frame.verdict = .drop(.serviceNoEndpoints)
        context.emitICMPError(about: frame, ingress: ingress, type: .destinationUnreachable, code: 3)
    }

    // MARK: Related ICMP errors

    /// Translates an ICMP error about a tracked connection: the quoted datagram went the
    /// other way, so its key reversed is the key of the error's own direction.
    private func translateRelated(_ frame: inout Frame) {
        let transport = Int(frame.layers.transport), network = Int(frame.layers.network)
        // The message ends with the outer IP datagram: Ethernet padding after it is not quoted.
        let end = min(frame.count, network + Int(frame.bytes.u16(at: network + IPv4Header.Field.totalLength)))
        guard end > transport, let quoted = NATRewrite.quotedFacts(of: frame.bytes.slice(from: 0, count: end), transport: transport),
              let hit = table.find(quoted.key.reversed, now: frame.timestamp.nanoseconds) else { return }
        let record = table[hit.index]
        guard record.has(.sourceNAT) || record.has(.destinationNAT) else { return }
        let key = record.key(hit.direction)
        let translated = record.key(hit.direction.opposite).reversed
        var bytes = frame.mutableBytes
        NATRewrite.translateQuoted(&bytes, icmp: transport, network: quoted.network, transport: quoted.transport,
                                   end: end, quotedOld: quoted.key, quotedNew: translated.reversed)
        if bytes.bytes.u32(at: network + IPv4Header.Field.destination) == key.destination.rawValue {
            NATRewrite.setAddress(&bytes, network: network, field: IPv4Header.Field.destination, to: translated.destination)
        }
        if bytes.bytes.u32(at: network + IPv4Header.Field.source) == key.source.rawValue {
            NATRewrite.setAddress(&bytes, network: network, field: IPv4Header.Field.source, to: translated.source)
        }
        context.counters.count(.relatedTranslated)
        context.trace(frame, "conntrack: ICMP error about \(quoted.key) (related), translated to quote \(translated.reversed)")
    }

    // MARK: Listing

    /// One `conntrack -L` line per connection, in table order.
    func lines(now: Timestamp) -> [String] {
        liveIndices(now: now).map { Self.line(table[$0], now: now) }
    }

    /// The records of the connections that have not expired by `now`.
    func liveIndices(now: Timestamp) -> [Int] {
        table.indices().filter { table[$0].expires > now.nanoseconds }
    }

    /// `tcp      6 431999 ESTABLISHED src=… dst=… sport=… dport=… src=… … [ASSURED]`.
    static func line(_ connection: ConntrackTable.Connection, now: Timestamp) -> String {
        let proto = connection.original.protocol
        let name = proto == .tcp ? "tcp" : proto == .udp ? "udp" : "icmp"
        let seconds = max(0, (connection.expires - now.nanoseconds) / 1_000_000_000)
        var line = name + String(repeating: " ", count: 9 - name.count) + "\(proto.rawValue) \(seconds) "
        if proto == .tcp { line += (TCPState(rawValue: connection.state)?.name ?? "?") + " " }
        line += tuple(connection.original, request: true)
        if !connection.has(.seenReply) { line += " [UNREPLIED]" }
        line += " " + tuple(connection.reply, request: false)
        if connection.has(.assured) { line += " [ASSURED]" }
        return line
    }

    private static func tuple(_ key: FlowKey, request: Bool) -> String {
        guard key.protocol == .icmp else { return key.description }
        return "src=\(key.source) dst=\(key.destination) type=\(request ? 8 : 0) code=0 id=\(key.sourcePort)"
    }
}
