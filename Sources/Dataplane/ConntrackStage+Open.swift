import Wire

// New connections: a packet that may open one gets the NAT decision (`NATPolicy`), a source
// port when masqueraded (`NATPortAllocator`), room in the table, and its record with the
// checksum deltas of both directions; then it is rewritten.
extension ConntrackStage {
    /// Opens a connection for a packet with no connection, or drops it as invalid.
    func open(_ frame: inout Frame, facts: NATRewrite.Facts, ingress: InterfaceIndex, now: Int64) {
        let key = facts.key
        let opens = switch key.protocol {
        case .tcp: TCPTracker.opens(facts.flags)
        case .icmp: ICMPTracker.opens(facts.icmpType)
        default: UDPTracker.opens()
        }
        guard opens else {
            // For the node itself: the local stage's.
            if !policy.isNodeAddress(key.destination) { refuseInvalid(&frame, key.description) }
            return
        }
        let destination: IPv4Address, destinationPort: UInt16, egress: InterfaceIndex, masquerade: Bool, rule: Int, bridged: Bool
        switch policy.decide(key, ingress: ingress, now: now) {
        case .untracked:
            return  // for the node itself (the local stage's), or unroutable (the route stage's)
        case .reject(let index):
            reject(&frame, ingress: ingress)
            context.trace(frame, "conntrack: \(policy.dnat.label(index)) has no endpoints -> drop service-no-endpoints, ICMP port unreachable sent")
            return
        case .dropNoLocal(let index):
            frame.verdict = .drop(.serviceNoLocalEndpoints)
            context.trace(frame, "conntrack: \(policy.dnat.label(index)) has no local endpoints -> drop service-no-local-endpoints")
            return
        case .track(let address, let port, let interface, let masquerading, let index, let switched):
            (destination, destinationPort, egress, masquerade, rule, bridged) = (address, port, interface, masquerading, index, switched)
        }
        var source = key.source, sourcePort = key.sourcePort
        if masquerade {
            guard let address = context.sourceAddress(of: egress, toward: destination) else { return }
            source = address
            guard let port = ports.uniquePort(in: table, source: address, destination: destination, destinationPort: destinationPort,
                                              key: key) else {
                frame.verdict = .drop(.natPortsExhausted)
                context.trace(frame, "conntrack: no free source port on \(address) toward \(destination):\(destinationPort) -> drop nat-ports-exhausted")
                return
            }
            sourcePort = port
        }
        let reply = NATPortAllocator.replyKey(key.protocol, from: destination, port: destinationPort, to: source, port: sourcePort)
        guard makeRoom(frame, now: now) else { return dropFull(&frame) }
        let initial = key.protocol == .tcp ? timeouts.tcp(.synSent) : key.protocol == .udp ? timeouts.udp : timeouts.icmp
        guard let index = table.insert(original: key, reply: reply, expires: now + initial) else {
            frame.verdict = .drop(.conntrackInvalid)
            context.trace(frame, "conntrack: reply key \(reply) already belongs to another connection -> drop conntrack-invalid")
            return
        }
        let (ipDelta, l4Delta) = record(index, key: key, reply: reply, sourceNAT: masquerade, destinationNAT: rule >= 0)
        if bridged { bridgedEndpoints.insert(destination) }
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
        context.trace(frame, "conntrack: new \(key)\(rule >= 0 ? " (\(policy.dnat.label(rule)))" : ""), translated to \(translated)")
        if rule >= 0 && egress == ingress && policy.isBridge(ingress) {
            bridgeBack(&frame, ingress: ingress, destination: destination, egress: egress)
        }
    }

    /// A packet that opens no connection and belongs to none (`tuple` describes it): dropped
    /// as `conntrack-invalid`, or with `conntrack: {invalid: accept}` passed untranslated.
    func refuseInvalid(_ frame: inout Frame, _ tuple: @autoclosure () -> String) {
        guard dropInvalid else {
            context.counters.count(.conntrackInvalidAccepted)
            context.trace(frame, "conntrack: \(tuple()) opens no connection and belongs to none -> invalid, accepted untranslated")
            return
        }
        frame.verdict = .drop(.conntrackInvalid)
        context.trace(frame, "conntrack: \(tuple()) opens no connection and belongs to none -> drop conntrack-invalid")
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

    /// Makes room for one connection when the table is full: every expired connection (at
    /// most once a second of pipeline time), else one that was never assured.
    func makeRoom(_ frame: borrowing Frame, now: Int64) -> Bool {
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

    func dropFull(_ frame: inout Frame) {
        frame.verdict = .drop(.conntrackFull)
        context.trace(frame, "conntrack: table full of assured connections -> drop conntrack-full")
    }

    /// ICMP port unreachable to the sender, from the ingress interface's address (as
    /// kube-proxy's `REJECT --reject-with icmp-port-unreachable`), and the packet dropped.
    private func reject(_ frame: inout Frame, ingress: InterfaceIndex) {
        frame.verdict = .drop(.serviceNoEndpoints)
        context.emitICMPError(about: frame, ingress: ingress, type: .destinationUnreachable, code: ICMPv4Type.UnreachableCode.port)
    }
}
