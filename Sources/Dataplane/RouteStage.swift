import Wire

/// Route: forwards IPv4 and IPv6 packets addressed to one of the node's interfaces but not
/// to its addresses, as the host's routing table does between docker0 and the uplink. A
/// longest-prefix match picks the egress interface and next hop (connected subnets, the
/// uplink's default gateway, configured routes); the TTL or hop limit drops by one with the
/// IPv4 checksum patched (RFC 1624); the next hop's MAC comes from the neighbour table. An
/// unresolved next hop gets an ARP request (at most one a second) while up to
/// `holdQueuePerNeighbor` frames wait for the reply; they leave when it comes and are
/// dropped (`neighbor-unresolved`) when it does not come in time. Out of TTL: ICMP time
/// exceeded; no route: ICMP destination unreachable (RFC 792, RFC 1812 §4.3.2.7: never about
/// an ICMP error, a non-first fragment or a broadcast or multicast source).
///
/// An unknown IPv6 next hop is the same with a neighbour solicitation (RFC 4861 §7.2.2) for
/// the ARP request: the frames wait, and the advertisement releases them. An IPv4 packet longer than the egress interface's MTU
/// (only the overlay's tunnel interface has one) is refused before its TTL drops, as Linux's
/// `ip_forward` does: with DF set an ICMP fragmentation-needed carrying the MTU goes back
/// (RFC 1191 §4), without DF it is dropped and counted (`too-big-for-tunnel`: Pier does not
/// fragment). IPv6 gets ICMPv6 destination unreachable (no route) and time exceeded (RFC
/// 4443), never about an ICMPv6 error or a multicast packet. Errors of both kinds pass
/// Linux's rate limits (`ICMPRateLimiter`). It does not send redirects or check IPv6 MTUs.
final class RouteStage {
    /// Where a route leads: the egress interface and the gateway, if not directly connected.
    struct NextHop: Equatable {
        var interface: InterfaceIndex
        var gateway4: IPv4Address?
        var gateway6: IPv6Address?
    }

    /// A next hop whose MAC is asked for: by ARP (IPv4) or neighbour solicitation (IPv6).
    enum NeighborAddress: Hashable, CustomStringConvertible {
        case ipv4(IPv4Address)
        case ipv6(IPv6Address)
        var description: String {
            switch self {
            case .ipv4(let address): address.description
            case .ipv6(let address): address.description
            }
        }
    }

    /// Frames waiting for one next hop's MAC.
    final class Pending {
        var frames: FrameQueue
        let interface: InterfaceIndex
        let since: Timestamp
        var lastAsked: Timestamp
        init(capacity: Int, interface: InterfaceIndex, now: Timestamp) {
            frames = FrameQueue(capacity: capacity)
            self.interface = interface
            since = now
            lastAsked = now
        }
    }

    private let context: PipelineContext
    private let neighbors: NeighborTable
    var routes4 = RouteTable4()
    var routes6 = RouteTable6()
    private(set) var nextHops: [NextHop] = []
    private var pending: [NeighborAddress: Pending] = [:]
    /// The verdict for a frame leaving by each interface, copied out of the config: reading a
    /// whole `Interface` per frame retained its name and address arrays.
    private let interfaceVerdicts: [Verdict]

    init(context: PipelineContext, neighbors: NeighborTable) {
        self.context = context
        self.neighbors = neighbors
        let config = context.config
        interfaceVerdicts = config.interfaces.map { interface in
            switch interface.attachment {
            case .port(let port): .output(port)
            case .bridge(let bridge): .toBridge(bridge)
            }
        }
        // Connected subnets first, then configured routes (a configured route for the same
        // prefix replaces the connected one, as a more specific decision).
        for (index, interface) in config.interfaces.enumerated() {
            for prefix in interface.ipv4 { routes4.insert(prefix.canonical, nextHop: nextHopIndex(NextHop(interface: index))) }
            for prefix in interface.ipv6 {
                routes6.insert(IPv6Prefix(address: prefix.network, length: prefix.length), nextHop: nextHopIndex(NextHop(interface: index)))
            }
        }
        for route in config.routes4 {
            routes4.insert(route.prefix.canonical, nextHop: nextHopIndex(NextHop(interface: route.interface, gateway4: route.gateway)))
        }
        for route in config.routes6 {
            let prefix = IPv6Prefix(address: route.prefix.network, length: route.prefix.length)
            routes6.insert(prefix, nextHop: nextHopIndex(NextHop(interface: route.interface, gateway6: route.gateway)))
        }
    }

    /// The index of `nextHop` in the next-hop table, adding it when new.
    private func nextHopIndex(_ nextHop: NextHop) -> UInt32 {
        if let index = nextHops.firstIndex(of: nextHop) { return UInt32(index) }
        nextHops.append(nextHop)
        return UInt32(nextHops.count - 1)
    }

    /// Routes one frame the local stage left for forwarding.
    func process(_ frame: inout Frame) {
        guard case .toInterface(let ingress) = frame.verdict else { return }
        switch frame.layers.networkType {
        case .ipv4: route4(&frame, ingress: ingress)
        case .ipv6: route6(&frame, ingress: ingress)
        default: frame.verdict = .drop(.localDeliveryUnsupported)
        }
    }

    // MARK: IPv4

    /// The facts of an IPv4 packet that routing needs, read without holding the frame.
    private struct IPv4Facts {
        var source: IPv4Address
        var destination: IPv4Address
        var ttl: UInt8
        var totalLength: Int
        var dontFragment: Bool
        var mayTriggerError: Bool
    }

    /// Reads the fields in place: the classify stage validated the header (version, length,
    /// total length) when it set `layers.network`; only the 20 bytes read are checked again.
    private func facts(of frame: borrowing Frame) -> IPv4Facts? {
        let network = Int(frame.layers.network)
        let bytes = frame.bytes
        guard network >= 0, bytes.byteCount >= network + IPv4Header.minimumLength else { return nil }
        typealias Field = IPv4Header.Field
        let transport = Int(frame.layers.transport)
        let isICMPError = bytes.u8(at: network + Field.protocol) == IPProtocol.icmp.rawValue && transport >= 0
            && transport < bytes.byteCount && ICMPv4Type(rawValue: bytes.u8(at: transport)).isError
        let source = IPv4Address(rawValue: bytes.u32(at: network + Field.source))
        let badSource = source == .any || source == .broadcast || source.isMulticast
        let flags = bytes.u16(at: network + Field.flagsAndFragmentOffset)
        let firstFragment = flags & 0x1FFF == 0
        return IPv4Facts(source: source, destination: IPv4Address(rawValue: bytes.u32(at: network + Field.destination)),
                         ttl: bytes.u8(at: network + Field.ttl), totalLength: Int(bytes.u16(at: network + Field.totalLength)),
                         dontFragment: flags & 0x4000 != 0, mayTriggerError: !isICMPError && firstFragment && !badSource)
    }

    private func route4(_ frame: inout Frame, ingress: InterfaceIndex) {
        guard let facts = facts(of: frame) else {
            frame.verdict = .drop(.malformedIPv4)
            return
        }
        guard let index = routes4.lookup(facts.destination) else {
            sendICMPError(about: frame, facts: facts, ingress: ingress, type: .destinationUnreachable, code: 0)
            frame.verdict = .drop(.noRoute)
            context.trace(frame, "route: no route to \(facts.destination) -> drop no-route, ICMP net unreachable sent")
            return
        }
        guard facts.ttl > 1 else {
            sendICMPError(about: frame, facts: facts, ingress: ingress, type: .timeExceeded, code: 0)
            frame.verdict = .drop(.ttlExceeded)
            context.trace(frame, "route: TTL \(facts.ttl) -> drop ttl-exceeded, ICMP time exceeded sent")
            return
        }
        let nextHop = nextHops[Int(index)]
        let mtu = context.interfaceMTUs[nextHop.interface]
        guard facts.totalLength <= mtu else {
            refuseTooBig(&frame, facts: facts, ingress: ingress, mtu: mtu)
            return
        }
        let gateway = nextHop.gateway4 ?? facts.destination
        decrementTTL(&frame)
        forward(&frame, to: facts.destination, via: .ipv4(gateway), mac: neighbors.resolve(gateway), nextHop: nextHop)
    }

    /// Sends a routed frame (TTL or hop limit already decremented) toward `gateway`: with its
    /// MAC known, out of the next hop's interface with that interface's MAC as source; else
    /// into the hold queue until it answers.
    private func forward(_ frame: inout Frame, to destination: some CustomStringConvertible, via gateway: NeighborAddress,
                         mac: MACAddress?, nextHop: NextHop) {
        context.counters.count(.routed)
        guard let mac else {
            hold(&frame, nextHop: gateway, interface: nextHop.interface)
            return
        }
        setMACs(&frame, source: context.interfaceMACs[nextHop.interface], destination: mac)
        frame.verdict = interfaceVerdicts[nextHop.interface]
        context.trace(frame, "route: \(destination) via \(nextHop.gateway4 == nil && nextHop.gateway6 == nil ? "connected" : "\(gateway)") dev \(context.config.interfaces[nextHop.interface].name), next hop \(mac)")
    }

    /// Drops a packet longer than the egress MTU; with DF, tells the sender the MTU (the
    /// packet is quoted as it arrived, TTL not yet decremented, as Linux quotes it).
    private func refuseTooBig(_ frame: inout Frame, facts: IPv4Facts, ingress: InterfaceIndex, mtu: Int) {
        guard facts.dontFragment else {
            frame.verdict = .drop(.tooBigForTunnel)
            context.trace(frame, "route: \(facts.totalLength) bytes over MTU \(mtu), DF clear -> drop too-big-for-tunnel (no fragmentation)")
            return
        }
        sendICMPError(about: frame, facts: facts, ingress: ingress, type: .destinationUnreachable, code: 4, restOfHeader: UInt32(mtu))
        frame.verdict = .drop(.fragmentationNeeded)
        context.trace(frame, "route: \(facts.totalLength) bytes over MTU \(mtu) with DF -> drop fragmentation-needed, ICMP sent")
    }

    /// TTL minus one, and the header checksum patched for the TTL/protocol word.
    private func decrementTTL(_ frame: inout Frame) {
        let word = Int(frame.layers.network) + IPv4Header.Field.ttl
        let checksumAt = Int(frame.layers.network) + IPv4Header.Field.checksum
        var bytes = frame.mutableBytes
        let old = bytes.bytes.u16(at: word)
        let new = old &- 0x0100
        bytes.setU16(new, at: word)
        bytes.setU16(InternetChecksum.update(bytes.bytes.u16(at: checksumAt), old: old, new: new), at: checksumAt)
    }

    /// Where a request Pier makes for a neighbour on `interface` goes: out of the routed
    /// port, or flooded to every member of the bridge.
    private func requestVerdict(for interface: InterfaceIndex) -> Verdict {
        switch context.config.interfaces[interface].attachment {
        case .port(let port): .output(port)
        case .bridge(let bridge): .flood(bridge, except: .none)
        }
    }

    private func setMACs(_ frame: inout Frame, source: MACAddress, destination: MACAddress) {
        var bytes = frame.mutableBytes
        bytes.setMAC(destination, at: EthernetHeader.Field.destination)
        bytes.setMAC(source, at: EthernetHeader.Field.source)
    }

    /// The most next hops waiting for an answer at once, as Linux's neighbour table holds at
    /// most 1,024 entries (`gc_thresh3`): a frame for one more is dropped as
    /// `neighbor-queue-full` and nothing is asked, so a scan of a subnet (an IPv6 /64 has 2^64
    /// addresses) cannot grow the queues without bound.
    static let maximumPendingNextHops = 1_024

    /// Queues a copy of `frame` until `nextHop` answers, asking it (ARP or a neighbour
    /// solicitation, at most once a second); on release the frame leaves `interface` with that
    /// interface's MAC as source and the answer as destination. The overlay holds its
    /// encapsulated frames here too.
    func hold(_ frame: inout Frame, nextHop: NeighborAddress, interface: InterfaceIndex) {
        let entry: Pending
        if let existing = pending[nextHop] {
            entry = existing
        } else {
            guard pending.count < Self.maximumPendingNextHops else {
                frame.verdict = .drop(.neighborQueueFull)
                context.trace(frame, "route: \(Self.maximumPendingNextHops) next hops already unresolved, \(nextHop) not asked -> drop neighbor-queue-full")
                return
            }
            entry = Pending(capacity: context.config.holdQueuePerNeighbor, interface: interface, now: frame.timestamp)
            pending[nextHop] = entry
            askForMAC(of: nextHop, interface: interface, about: frame)
        }
        if frame.timestamp.nanoseconds - entry.lastAsked.nanoseconds >= 1_000_000_000 {
            entry.lastAsked = frame.timestamp
            askForMAC(of: nextHop, interface: interface, about: frame)
        }
        guard !entry.frames.isFull else {
            frame.verdict = .drop(.neighborQueueFull)
            context.trace(frame, "route: \(nextHop) unresolved and its queue is full -> drop neighbor-queue-full")
            return
        }
        context.counters.count(.held)
        context.trace(frame, "route: next hop \(nextHop) unresolved, held (\(entry.frames.count + 1) waiting)")
        // The frame itself goes into the queue; a spare from the pool takes its place in the
        // batch, marked held (a copy allocated a whole buffer per held frame).
        var placeholder = context.pool.take()
        swap(&frame, &placeholder)
        frame.verdict = .held
        frame.number = placeholder.number
        entry.frames.append(placeholder)
    }

    /// Sends an ARP request or a neighbour solicitation for `address` out of `interface`.
    private func askForMAC(of address: NeighborAddress, interface: InterfaceIndex, about frame: borrowing Frame) {
        switch address {
        case .ipv4(let address): askForMAC(of: address, interface: interface, about: frame)
        case .ipv6(let address): solicit(address, interface: interface, about: frame)
        }
    }

    /// Sends an ARP request for `address` out of `interface`.
    private func askForMAC(of address: IPv4Address, interface: InterfaceIndex, about frame: borrowing Frame) {
        guard let source = context.emitARPRequest(for: address, interface: interface, verdict: requestVerdict(for: interface),
                                                  at: frame.timestamp) else { return }
        context.trace(frame, "route: ARP who-has \(address) tell \(source) out \(context.config.interfaces[interface].name)")
    }

    /// Sends the frames held for `address`, now that its MAC is known.
    func release(_ address: NeighborAddress, mac: MACAddress) {
        guard let entry = pending.removeValue(forKey: address) else { return }
        while !entry.frames.isEmpty {
            var frame = entry.frames.removeFirst()
            setMACs(&frame, source: context.interfaceMACs[entry.interface], destination: mac)
            frame.verdict = interfaceVerdicts[entry.interface]
            context.counters.count(.released)
            context.trace(frame, "route: \(address) resolved to \(mac), held frame released")
            context.emit(frame)
        }
    }

    /// Drops the frames of next hops that did not answer within the timeout.
    func expirePending() {
        guard !pending.isEmpty else { return }
        let limit = context.config.neighborTimeoutSeconds * 1_000_000_000
        for (address, entry) in pending where context.now.nanoseconds - entry.since.nanoseconds > limit {
            while !entry.frames.isEmpty {
                let frame = entry.frames.removeFirst()
                context.counters.drop(.neighborUnresolved)
                context.trace(frame, "route: \(address) never answered -> drop neighbor-unresolved")
                context.pool.recycle(frame)
            }
            pending[address] = nil
        }
    }

    /// Frames still waiting for a next hop.
    var heldCount: Int { pending.values.reduce(0) { $0 + $1.frames.count } }

    /// Sends an ICMP error about `frame` back out of its ingress port, unless RFC 1812
    /// §4.3.2.7 forbids one (a frame that came out of the tunnel goes back into it: the
    /// pipeline encapsulates what Pier makes).
    private func sendICMPError(about frame: borrowing Frame, facts: IPv4Facts, ingress: InterfaceIndex,
                               type: ICMPv4Type, code: UInt8, restOfHeader: UInt32 = 0) {
        guard facts.mayTriggerError else { return }
        context.emitICMPError(about: frame, ingress: ingress, type: type, code: code, restOfHeader: restOfHeader)
    }

    // MARK: IPv6

    /// What routing reads of the frame's IPv6 header: the destination, the hop limit, and
    /// whether an ICMPv6 error may be sent about it (RFC 4443 §2.4(e): not about an ICMPv6
    /// error or a packet whose source is unspecified or multicast; packets to a multicast
    /// address never get here, the local stage drops them as unhandled-multicast).
    private static func ipv6Facts(of frame: borrowing Frame) -> (destination: IPv6Address, hopLimit: UInt8, mayTriggerError: Bool)? {
        guard let header = try? IPv6Header(validating: frame.bytes.slice(from: Int(frame.layers.network))) else { return nil }
        let transport = Int(frame.layers.transport)
        let isError = frame.layers.transportProtocol == .icmpv6 && transport >= 0 && transport < frame.count
            && frame.bytes.u8(at: transport) < 128
        let source = header.source
        let mayTriggerError = !isError && source != .any && !source.isMulticast
        return (header.destination, header.hopLimit, mayTriggerError)
    }

    private func route6(_ frame: inout Frame, ingress: InterfaceIndex) {
        let network = Int(frame.layers.network)
        guard let (destination, hopLimit, mayTriggerError) = Self.ipv6Facts(of: frame) else {
            frame.verdict = .drop(.malformedIPv6)
            return
        }
        guard let index = routes6.lookup(destination) else {
            if mayTriggerError {
                context.emitICMPv6Error(about: frame, ingress: ingress, type: ICMPv6Repr.destinationUnreachable, code: 0)
            }
            frame.verdict = .drop(.noRoute)
            context.trace(frame, "route: no IPv6 route to \(destination) -> drop no-route\(mayTriggerError ? ", ICMPv6 unreachable sent" : "")")
            return
        }
        guard hopLimit > 1 else {
            if mayTriggerError {
                context.emitICMPv6Error(about: frame, ingress: ingress, type: ICMPv6Repr.timeExceeded, code: 0)
            }
            frame.verdict = .drop(.ttlExceeded)
            context.trace(frame, "route: hop limit \(hopLimit) -> drop ttl-exceeded\(mayTriggerError ? ", ICMPv6 time exceeded sent" : "")")
            return
        }
        let nextHop = nextHops[Int(index)]
        let gateway = nextHop.gateway6 ?? destination
        var bytes = frame.mutableBytes
        bytes.setU8(hopLimit - 1, at: network + IPv6Header.Field.hopLimit)
        forward(&frame, to: destination, via: .ipv6(gateway), mac: neighbors.resolve(gateway), nextHop: nextHop)
    }

    /// Sends a neighbour solicitation for `address` out of `interface` (the hold queue asks
    /// at most once a second).
    private func solicit(_ address: IPv6Address, interface: InterfaceIndex, about frame: borrowing Frame) {
        guard let source = context.emitNeighborSolicitation(for: address, interface: interface, verdict: requestVerdict(for: interface),
                                                            at: frame.timestamp) else { return }
        context.trace(frame, "route: neighbour solicitation for \(address) from \(source) out \(context.config.interfaces[interface].name)")
    }
}
