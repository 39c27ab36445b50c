import Wire

// IPv6 conntrack and NAT: the same table, states and timeouts as IPv4, the keys made of the
// addresses' hashes (`FlowKey`) and the full addresses beside the record, compared on every
// hit. New connections get ip6tables' decisions (`NATPolicy6`): DNAT of published IPv6 ports
// and Services' IPv6 cluster IPs, MASQUERADE to the egress port's IPv6 address.
extension ConntrackStage {
    /// Tracks and translates an IPv6 packet with `facts` and `addresses` (out of line: the
    /// IPv4 path stays as it was).
    @inline(never)
    func process6(_ frame: inout Frame, facts: NATRewrite.Facts, addresses: AddressPair6, tag: UInt32, ingress: InterfaceIndex) {
        if facts.key.protocol == .icmpv6 {
            if ICMPv6Repr.isError(facts.icmpType) { return translateRelated6(&frame) }
            guard facts.icmpType == ICMPv6Repr.echoRequest || facts.icmpType == ICMPv6Repr.echoReply else { return }
        }
        let now = frame.timestamp.nanoseconds
        if now - lastSweep >= 1_000_000_000 { sweep(now: now) }
        if let hit = table.find(facts.key, addresses: addresses, tag: tag, now: now) {
            var record = table[hit.index]
            guard advance(frame, hit: hit, facts: facts, now: now, record: &record) else {
                return open6(&frame, facts: facts, addresses: addresses, ingress: ingress, now: now)
            }
            guard record.has(.sourceNAT) || record.has(.destinationNAT) else { return }
            let direction = hit.direction
            let stored = table.addresses6(at: hit.index)
            let new = record.key(direction.opposite).reversed, newPair = stored.pair(direction.opposite).reversed
            let (addressDelta, l4Delta) = direction == .original ? (record.originalIPDelta, record.originalL4Delta)
                                                                 : (record.replyIPDelta, record.replyL4Delta)
            let network = Int(frame.layers.network), transport = Int(frame.layers.transport)
            let partial = frame.offload.needsChecksum
            var bytes = frame.mutableBytes
            NATRewrite.apply6(&bytes, network: network, transport: transport, old: facts.key, oldPair: addresses, new: new,
                              newPair: newPair, addressDelta: addressDelta, l4Delta: l4Delta, partialChecksum: partial)
            context.trace(frame, "conntrack: \(direction == .original ? "original" : "reply") \(Self.tuple6(facts.key, addresses)) translated to \(Self.tuple6(new, newPair))")
            return
        }
        open6(&frame, facts: facts, addresses: addresses, ingress: ingress, now: now)
    }

    /// Opens an IPv6 connection for a packet with no connection, or drops it as invalid.
    private func open6(_ frame: inout Frame, facts: NATRewrite.Facts, addresses: AddressPair6, ingress: InterfaceIndex, now: Int64) {
        let key = facts.key
        let opens = switch key.protocol {
        case .tcp: TCPTracker.opens(facts.flags)
        case .icmpv6: facts.icmpType == ICMPv6Repr.echoRequest
        default: UDPTracker.opens()
        }
        guard opens else {
            if !policy6.isNodeAddress(addresses.destination) { refuseInvalid(&frame, Self.tuple6(key, addresses)) }
            return
        }
        let destination: IPv6Address, destinationPort: UInt16, egress: InterfaceIndex, masquerade: Bool, rule: Int
        switch policy6.decide(key, addresses: addresses, ingress: ingress, now: now) {
        case .untracked:
            return
        case .reject(let index):
            frame.verdict = .drop(.serviceNoEndpoints)
            context.emitICMPv6Error(about: frame, ingress: ingress, type: ICMPv6Repr.destinationUnreachable, code: 4)  // port unreachable
            context.trace(frame, "conntrack: \(policy6.dnat.label(index)) has no endpoints -> drop service-no-endpoints, ICMPv6 port unreachable sent")
            return
        case .track(let address, let port, let interface, let masquerading, let index):
            (destination, destinationPort, egress, masquerade, rule) = (address, port, interface, masquerading, index)
        }
        var source = addresses.source, sourcePort = key.sourcePort
        if masquerade {
            guard let address = context.sourceAddress(of: egress, toward: destination) else { return }
            source = address
            guard let port = ports.uniquePort6(in: table, source: address, destination: destination, destinationPort: destinationPort,
                                               key: key) else {
                frame.verdict = .drop(.natPortsExhausted)
                context.trace(frame, "conntrack: no free source port on \(address) toward [\(destination)]:\(destinationPort) -> drop nat-ports-exhausted")
                return
            }
            sourcePort = port
        }
        let replyPair = AddressPair6(source: destination, destination: source)
        let reply = FlowKey(source: destination, destination: source, sourcePort: key.protocol == .icmpv6 ? sourcePort : destinationPort,
                            destinationPort: sourcePort, protocol: key.protocol)
        guard makeRoom(frame, now: now) else { return dropFull(&frame) }
        let initial = key.protocol == .tcp ? timeouts.tcp(.synSent) : key.protocol == .udp ? timeouts.udp : timeouts.icmp
        guard let index = table.insert(original: key, reply: reply, addresses: ConnectionAddresses6(original: addresses, reply: replyPair),
                                       expires: now + initial) else {
            frame.verdict = .drop(.conntrackInvalid)
            context.trace(frame, "conntrack: reply key \(Self.tuple6(reply, replyPair)) already belongs to another connection -> drop conntrack-invalid")
            return
        }
        var connection = table[index]
        connection.state = key.protocol == .tcp ? TCPState.synSent.rawValue : 0
        if masquerade { connection.set(.sourceNAT) }
        if rule >= 0 { connection.set(.destinationNAT) }
        let translated = reply.reversed, translatedPair = replyPair.reversed
        (connection.originalIPDelta, connection.originalL4Delta) = NATRewrite.deltas6(from: key, addresses, to: translated, translatedPair)
        (connection.replyIPDelta, connection.replyL4Delta) = NATRewrite.deltas6(from: reply, replyPair, to: key.reversed, addresses.reversed)
        table[index] = connection
        context.counters.count(.conntrackNew)
        guard key != translated || addresses != translatedPair else {
            context.trace(frame, "conntrack: new \(Self.tuple6(key, addresses))")
            return
        }
        if masquerade { context.counters.count(.sourceNAT) }
        if rule >= 0 { context.counters.count(.destinationNAT) }
        let network = Int(frame.layers.network), transport = Int(frame.layers.transport)
        let partial = frame.offload.needsChecksum
        var bytes = frame.mutableBytes
        NATRewrite.apply6(&bytes, network: network, transport: transport, old: key, oldPair: addresses, new: translated,
                          newPair: translatedPair, addressDelta: connection.originalIPDelta, l4Delta: connection.originalL4Delta,
                          partialChecksum: partial)
        context.trace(frame, "conntrack: new \(Self.tuple6(key, addresses))\(rule >= 0 ? " (\(policy6.dnat.label(rule)))" : ""), translated to \(Self.tuple6(translated, translatedPair))")
    }

    /// `src=A dst=B sport=P dport=Q` (ICMPv6: `id=I`) with the full addresses.
    static func tuple6(_ key: FlowKey, _ pair: AddressPair6) -> String {
        if key.protocol == .icmpv6 { return "src=\(pair.source) dst=\(pair.destination) id=\(key.sourcePort)" }
        return "src=\(pair.source) dst=\(pair.destination) sport=\(key.sourcePort) dport=\(key.destinationPort)"
    }
}

extension NATPortAllocator {
    /// A port on the IPv6 `source` toward `destination`:`destinationPort` whose reply key no
    /// connection in `table` holds, for the connection `key`; nil when the range is used up.
    func uniquePort6(in table: ConntrackTable, source: IPv6Address, destination: IPv6Address, destinationPort: UInt16,
                     key: FlowKey) -> UInt16? {
        firstFreePort(in: table, key: key) { port in
            FlowKey(source: destination, destination: source, sourcePort: key.protocol == .icmpv6 ? port : destinationPort,
                    destinationPort: port, protocol: key.protocol)
        }
    }
}
