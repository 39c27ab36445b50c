/// What becomes of a frame: every frame ends a pipeline run with exactly one verdict, and
/// nothing disappears uncounted (DESIGN.md, "Data flow").
///
/// `pending`, `toInterface` and `toBridge` are intermediate: a later stage takes the frame
/// on. `output`, `flood`, `held`, `delivered` and `drop` are final.
public enum Verdict: Equatable, Sendable {
    /// Not decided yet: the next stage looks at it.
    case pending
    /// For an L3 interface of the node (a routed port, or a bridge's own address): the local
    /// stage answers ARP and ping for it, the route stage forwards it.
    case toInterface(InterfaceIndex)
    /// Routed into a bridge: the bridge picks the member port from the destination MAC.
    case toBridge(BridgeIndex)
    /// Leave by this port.
    case output(PortID)
    /// Leave by every port of the bridge except `except` (the ingress, unless hairpin).
    case flood(BridgeIndex, except: PortID)
    /// Taken into a queue (a frame waiting for its next hop's MAC); it leaves later or is
    /// dropped and counted then.
    case held
    /// Taken by the node itself: an ARP or neighbour discovery packet it answered or learned from.
    case delivered
    /// Dropped, and counted under the reason.
    case drop(DropReason)
}

/// An L3 interface's index in the pipeline's interface table.
public typealias InterfaceIndex = Int
/// A bridge's index in the pipeline's bridge table.
public typealias BridgeIndex = Int

/// Why a frame was dropped. Each reason is counted and has a name (for `--stats-json` and
/// traces) and a human description.
public enum DropReason: Int, CaseIterable, Sendable {
    case malformedEthernet
    case malformedVLAN
    case malformedARP
    case malformedIPv4
    case malformedIPv6
    case malformedTransport
    case badIPv4Checksum
    case invalidSourceMAC
    case reservedGroupAddress
    case hairpin
    case notForThisHost
    case unhandledMulticast
    case localDeliveryUnsupported
    case noRoute
    case ttlExceeded
    case neighborQueueFull
    case neighborUnresolved
    case unknownPort
    case generatedOverflow
    case conntrackInvalid
    case conntrackFull
    case natPortsExhausted
    case serviceNoEndpoints
    case unknownVTEP
    case wrongVNI
    case notVXLAN
    case truncatedTunnel
    case innerTooShort
    case nestedTunnel
    case tunnelFragment
    case fragmentationNeeded
    case tooBigForTunnel
    case noHeadroom

    /// A short kebab-case name: `malformed-ipv4`, `no-route`, …
    public var name: String {
        switch self {
        case .malformedEthernet: "malformed-ethernet"
        case .malformedVLAN: "malformed-vlan"
        case .malformedARP: "malformed-arp"
        case .malformedIPv4: "malformed-ipv4"
        case .malformedIPv6: "malformed-ipv6"
        case .malformedTransport: "malformed-transport"
        case .badIPv4Checksum: "bad-ipv4-checksum"
        case .invalidSourceMAC: "invalid-source-mac"
        case .reservedGroupAddress: "reserved-group-address"
        case .hairpin: "hairpin"
        case .notForThisHost: "not-for-this-host"
        case .unhandledMulticast: "unhandled-multicast"
        case .localDeliveryUnsupported: "local-delivery-unsupported"
        case .noRoute: "no-route"
        case .ttlExceeded: "ttl-exceeded"
        case .neighborQueueFull: "neighbor-queue-full"
        case .neighborUnresolved: "neighbor-unresolved"
        case .unknownPort: "unknown-port"
        case .generatedOverflow: "generated-overflow"
        case .conntrackInvalid: "conntrack-invalid"
        case .conntrackFull: "conntrack-full"
        case .natPortsExhausted: "nat-ports-exhausted"
        case .serviceNoEndpoints: "service-no-endpoints"
        case .unknownVTEP: "unknown-vtep"
        case .wrongVNI: "wrong-vni"
        case .notVXLAN: "not-vxlan"
        case .truncatedTunnel: "truncated-tunnel"
        case .innerTooShort: "inner-too-short"
        case .nestedTunnel: "nested-tunnel"
        case .tunnelFragment: "tunnel-fragment"
        case .fragmentationNeeded: "fragmentation-needed"
        case .tooBigForTunnel: "too-big-for-tunnel"
        case .noHeadroom: "no-headroom"
        }
    }

    /// One sentence for people reading the counters.
    public var description: String {
        switch self {
        case .malformedEthernet: "frame shorter than an Ethernet header"
        case .malformedVLAN: "VLAN tag cut short"
        case .malformedARP: "ARP packet cut short or not Ethernet/IPv4"
        case .malformedIPv4: "IPv4 header invalid (version, header length, total length)"
        case .malformedIPv6: "IPv6 header invalid or cut short"
        case .malformedTransport: "TCP/UDP/ICMP header invalid or cut short"
        case .badIPv4Checksum: "IPv4 header checksum wrong (routed or local frames only)"
        case .invalidSourceMAC: "source MAC is a group address or zero (never learned or forwarded)"
        case .reservedGroupAddress: "IEEE 802.1D reserved group address (01:80:c2:00:00:0x), not forwarded"
        case .hairpin: "destination is the ingress port and hairpin is off"
        case .notForThisHost: "unicast to another MAC on a routed port, a frame on a port with no bridge or address, or an inner frame with no pod bridge to go to"
        case .unhandledMulticast: "multicast or broadcast on a routed port that Pier does not answer"
        case .localDeliveryUnsupported: "for the node's own address, but not ARP or ICMP echo"
        case .noRoute: "no route to the destination (ICMP destination unreachable sent)"
        case .ttlExceeded: "TTL or hop limit ran out (ICMP time exceeded sent)"
        case .neighborQueueFull: "next hop unresolved and its hold queue full"
        case .neighborUnresolved: "next hop did not answer ARP or neighbour solicitation in time"
        case .unknownPort: "entered on a port the pipeline does not know"
        case .generatedOverflow: "a frame Pier made (reply, request, error) found its output queue full"
        case .conntrackInvalid: "belongs to no tracked connection and cannot open one (a TCP ACK, an echo reply), or clashes with one"
        case .conntrackFull: "a new connection found the conntrack table full of assured connections"
        case .natPortsExhausted: "MASQUERADE found no free source port on the node address for this destination"
        case .serviceNoEndpoints: "for a Service port with no endpoints (ICMP port unreachable sent, as kube-proxy's REJECT)"
        case .unknownVTEP: "tunnel packet from an address that is no configured peer, or to a VTEP MAC no peer has"
        case .wrongVNI: "VXLAN packet with a VNI other than the configured one"
        case .notVXLAN: "UDP to the VXLAN port without the I flag (RFC 7348 §5)"
        case .truncatedTunnel: "tunnel packet cut short: outer lengths run past the bytes, or no room for the VXLAN header"
        case .innerTooShort: "decapsulated inner frame shorter than an Ethernet header (or an IPv4 header for ipip/udp)"
        case .nestedTunnel: "decapsulated inner packet is itself a tunnel packet (VXLAN in VXLAN, IP in IP in IP)"
        case .tunnelFragment: "outer IPv4 fragment of a tunnel packet (no reassembly yet)"
        case .fragmentationNeeded: "inner IPv4 larger than the overlay MTU with DF set (ICMP fragmentation needed sent)"
        case .tooBigForTunnel: "inner IPv4 larger than the overlay MTU without DF (no fragmentation yet)"
        case .noHeadroom: "no headroom left in front of the frame for the outer headers"
        }
    }
}
