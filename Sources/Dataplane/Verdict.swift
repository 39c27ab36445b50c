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

/// Why a frame was dropped. Each reason is counted, and has a name (for `--stats-json`,
/// traces and metrics) and a human description, written together once in `declaration`. The
/// part of the pipeline that decides it lists it in its `dropReasons` (`CountingPart`), beside
/// its code; a test checks that every reason has exactly one such part.
public enum DropReason: Int, CaseIterable, Sendable, NamedCounter {
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
    case serviceNoLocalEndpoints
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

    /// The reason's kebab-case name and one sentence for people reading the counters.
    public var declaration: (name: String, description: String) {
        switch self {
        case .malformedEthernet: ("malformed-ethernet", "frame shorter than an Ethernet header")
        case .malformedVLAN: ("malformed-vlan", "VLAN tag cut short")
        case .malformedARP: ("malformed-arp", "ARP packet cut short or not Ethernet/IPv4")
        case .malformedIPv4: ("malformed-ipv4", "IPv4 header invalid (version, header length, total length)")
        case .malformedIPv6: ("malformed-ipv6", "IPv6 header invalid or cut short")
        case .malformedTransport: ("malformed-transport", "TCP/UDP/ICMP header invalid or cut short")
        case .badIPv4Checksum: ("bad-ipv4-checksum", "IPv4 header checksum wrong (routed or local frames only)")
        case .invalidSourceMAC: ("invalid-source-mac", "source MAC is a group address or zero (never learned or forwarded)")
        case .reservedGroupAddress: ("reserved-group-address", "IEEE 802.1D reserved group address (01:80:c2:00:00:0x), not forwarded")
        case .hairpin: ("hairpin", "destination is the ingress port and hairpin is off")
        case .notForThisHost: ("not-for-this-host", "unicast to another MAC on a routed port, a frame on a port with no bridge or address, or an inner frame with no pod bridge to go to")
        case .unhandledMulticast: ("unhandled-multicast", "multicast or broadcast on a routed port that Pier does not answer")
        case .localDeliveryUnsupported: ("local-delivery-unsupported", "for the node's own address, but not ARP or ICMP echo")
        case .noRoute: ("no-route", "no route to the destination (ICMP destination unreachable sent)")
        case .ttlExceeded: ("ttl-exceeded", "TTL or hop limit ran out (ICMP time exceeded sent)")
        case .neighborQueueFull: ("neighbor-queue-full", "next hop unresolved and its hold queue full")
        case .neighborUnresolved: ("neighbor-unresolved", "next hop did not answer ARP or neighbour solicitation in time")
        case .unknownPort: ("unknown-port", "entered on a port the pipeline does not know")
        case .generatedOverflow: ("generated-overflow", "a frame Pier made (reply, request, error) found its output queue full")
        case .conntrackInvalid: ("conntrack-invalid", "belongs to no tracked connection and cannot open one (a TCP ACK, an echo reply), or clashes with one")
        case .conntrackFull: ("conntrack-full", "a new connection found the conntrack table full of assured connections")
        case .natPortsExhausted: ("nat-ports-exhausted", "MASQUERADE found no free source port on the node address for this destination")
        case .serviceNoEndpoints: ("service-no-endpoints", "for a Service port with no endpoints (ICMP port unreachable sent, as kube-proxy's REJECT)")
        case .serviceNoLocalEndpoints: ("service-no-local-endpoints", "for a Service whose traffic policy is Local with no endpoint on this node (dropped silently, as kube-proxy's DROP \"has no local endpoints\")")
        case .unknownVTEP: ("unknown-vtep", "tunnel packet from an address that is no configured peer, or to a VTEP MAC no peer has")
        case .wrongVNI: ("wrong-vni", "VXLAN packet with a VNI other than the configured one")
        case .notVXLAN: ("not-vxlan", "UDP to the VXLAN port without the I flag (RFC 7348 §5)")
        case .truncatedTunnel: ("truncated-tunnel", "tunnel packet cut short: outer lengths run past the bytes, or no room for the VXLAN header")
        case .innerTooShort: ("inner-too-short", "decapsulated inner frame shorter than an Ethernet header (or an IPv4 header for ipip/udp)")
        case .nestedTunnel: ("nested-tunnel", "decapsulated inner packet is itself a tunnel packet (VXLAN in VXLAN, IP in IP in IP)")
        case .tunnelFragment: ("tunnel-fragment", "outer IPv4 fragment of a tunnel packet (no reassembly yet)")
        case .fragmentationNeeded: ("fragmentation-needed", "inner IPv4 larger than the overlay MTU with DF set (ICMP fragmentation needed sent)")
        case .tooBigForTunnel: ("too-big-for-tunnel", "inner IPv4 larger than the overlay MTU without DF (no fragmentation yet)")
        case .noHeadroom: ("no-headroom", "no headroom left in front of the frame for the outer headers")
        }
    }
}
