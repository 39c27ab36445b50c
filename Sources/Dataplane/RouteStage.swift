import Wire

/// Route: forwards IPv4 and IPv6 packets addressed to one of the node's interfaces but not
/// to its addresses, as the host's routing table does between docker0 and the uplink. A
/// longest-prefix match picks the egress interface and next hop (connected subnets, the
/// uplink's default gateway, configured routes); the TTL or hop limit drops by one with the
/// IPv4 checksum patched (RFC 1624); the next hop's MAC comes from the `NeighborResolver`,
/// which holds the frame and asks (ARP, neighbour solicitation) when it does not know it yet.
/// Out of TTL: ICMP time exceeded; no route: ICMP destination unreachable (RFC 792, RFC 1812
/// §4.3.2.7: never about an ICMP error, a non-first fragment or a broadcast or multicast
/// source; the error policy is in RouteStage+Errors.swift).
///
/// An IPv4 packet longer than the egress interface's MTU
/// (only the overlay's tunnel interface has one) is refused before its TTL drops, as Linux's
/// `ip_forward` does: with DF set an ICMP fragmentation-needed carrying the MTU goes back
/// (RFC 1191 §4), without DF it is dropped and counted (`too-big-for-tunnel`: Pier does not
/// fragment). IPv6 gets ICMPv6 destination unreachable (no route) and time exceeded (RFC
/// 4443), never about an ICMPv6 error or a multicast packet. Errors of both kinds pass
/// Linux's rate limits (`ICMPRateLimiter`). It does not send redirects or check IPv6 MTUs.
final class RouteStage: FrameStage {
    typealias NextHop = RoutingTable.NextHop

    let context: PipelineContext
    /// The routes forwarded by.
    private let table: RoutingTable
    /// Where next hops' MACs come from, and where frames wait for them.
    private let resolver: NeighborResolver

    init(context: PipelineContext, table: RoutingTable, resolver: NeighborResolver) {
        self.context = context
        self.table = table
        self.resolver = resolver
    }

    /// Drops the frames whose next hop never answered.
    func prepare(_ batch: inout Batch) { resolver.expire() }

    /// Routes one frame the local stage left for forwarding.
    func process(_ frame: inout Frame, at index: Int) {
        guard case .toInterface(let ingress) = frame.verdict else { return }
        switch frame.layers.networkType {
        case .ipv4: route4(&frame, ingress: ingress)
        case .ipv6: route6(&frame, ingress: ingress)
        default: frame.verdict = .drop(.localDeliveryUnsupported)
        }
    }

    // MARK: IPv4

    private func route4(_ frame: inout Frame, ingress: InterfaceIndex) {
        guard let facts = IPv4Facts(of: frame) else {
            frame.verdict = .drop(.malformedIPv4)
            return
        }
        guard let nextHop = table.nextHop(facts.destination) else {
            sendICMPError(about: frame, facts: facts, ingress: ingress, type: .destinationUnreachable, code: ICMPv4Type.UnreachableCode.net)
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
        let mtu = context.interfaceMTUs[nextHop.interface]
        guard facts.totalLength <= mtu || Self.segmentsFit(frame, mtu: mtu) else {
            refuseTooBig(&frame, facts: facts, ingress: ingress, mtu: mtu)
            return
        }
        let gateway = nextHop.gateway4 ?? facts.destination
        decrementTTL(&frame)
        forward(&frame, to: facts.destination, via: .ipv4(gateway), mac: resolver.resolve(gateway), nextHop: nextHop)
    }

    /// Sends a routed frame (TTL or hop limit already decremented) toward `gateway`: with its
    /// MAC known, out of the next hop's interface with that interface's MAC as source; else
    /// into the resolver's hold queue until it answers.
    private func forward(_ frame: inout Frame, to destination: some CustomStringConvertible, via gateway: NeighborResolver.Address,
                         mac: MACAddress?, nextHop: NextHop) {
        context.counters.count(.routed)
        guard let mac else {
            resolver.hold(&frame, nextHop: gateway, interface: nextHop.interface)
            return
        }
        resolver.setMACs(&frame, interface: nextHop.interface, destination: mac)
        frame.verdict = resolver.interfaceVerdicts[nextHop.interface]
        context.trace(frame, "route: \(destination) via \(nextHop.isConnected ? "connected" : "\(gateway)") dev \(context.config.interfaces[nextHop.interface].name), next hop \(mac)")
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

    // MARK: IPv6

    private func route6(_ frame: inout Frame, ingress: InterfaceIndex) {
        let network = Int(frame.layers.network)
        guard let facts = IPv6Facts(of: frame) else {
            frame.verdict = .drop(.malformedIPv6)
            return
        }
        guard let nextHop = table.nextHop(facts.destination) else {
            sendICMPv6Error(about: frame, facts: facts, ingress: ingress, type: ICMPv6Repr.destinationUnreachable)
            frame.verdict = .drop(.noRoute)
            context.trace(frame, "route: no IPv6 route to \(facts.destination) -> drop no-route\(facts.mayTriggerError ? ", ICMPv6 unreachable sent" : "")")
            return
        }
        guard facts.hopLimit > 1 else {
            sendICMPv6Error(about: frame, facts: facts, ingress: ingress, type: ICMPv6Repr.timeExceeded)
            frame.verdict = .drop(.ttlExceeded)
            context.trace(frame, "route: hop limit \(facts.hopLimit) -> drop ttl-exceeded\(facts.mayTriggerError ? ", ICMPv6 time exceeded sent" : "")")
            return
        }
        let gateway = nextHop.gateway6 ?? facts.destination
        var bytes = frame.mutableBytes
        bytes.setU8(facts.hopLimit - 1, at: network + IPv6Header.Field.hopLimit)
        forward(&frame, to: facts.destination, via: .ipv6(gateway), mac: resolver.resolve(gateway), nextHop: nextHop)
    }
}

// MARK: What this part counts (names and descriptions: DropReason, PipelineCounters.Event)

extension RouteStage: CountingPart {
    package static let dropReasons: [DropReason] = [.noRoute, .ttlExceeded, .fragmentationNeeded, .tooBigForTunnel]
    package static let events: [PipelineCounters.Event] = [.routed]
}
