/// A stage `pier bench` can measure, named as its argument; `measure` runs the stage's
/// measurers and returns one result per configuration (table size, encapsulation).
package enum BenchStage: String, CaseIterable, Sendable {
    /// Full decode of a VXLAN frame down to its inner TCP header (Ethernet, IPv4, UDP, VXLAN,
    /// Ethernet, IPv4, TCP) into a `DecodedFrame`.
    case decode
    /// The bridge's learn + forward decision with 4,096 and with 1,048,576 stations.
    case bridge
    /// IPv4 longest-prefix match over 10,000 prefixes and a default route.
    case route
    /// The whole pipeline over a 16-port bridge with 4,096 stations.
    case `switch`
    /// The overlay encap stage (VXLAN template copy and patch) on 64-byte inner frames.
    case vxlanEncap = "vxlan-encap"
    /// The overlay decap stage (outer checks, strip, inner classify) on 64-byte inner frames.
    case vxlanDecap = "vxlan-decap"
    /// IP-in-IP encap and decap, and flannel's UDP backend beside it.
    case ipip
    /// Conntrack: established lookup + NAT rewrite with 10,000 and 1,000,000 connections, and
    /// IPv6 with 10,000.
    case conntrack
    /// NAT: new masqueraded connections per second.
    case nat
    /// Reassembly of two-fragment datagrams (datagrams per second).
    case defrag

    /// Runs the stage over `packets` frames, measured by `meter`.
    package func measure(packets: Int, meter: BenchMeter) -> [BenchResult] {
        switch self {
        case .decode: [DecodeBench.run(packets: packets, meter: meter)]
        case .bridge: [TableBench.bridge(stations: 4_096, packets: packets, meter: meter),
                       TableBench.bridge(stations: 1 << 20, packets: packets, meter: meter)]
        case .route: [TableBench.route(packets: packets, meter: meter)]
        case .switch: [SwitchBench.run(packets: packets, meter: meter)]
        case .vxlanEncap: [OverlayBench.encap(.vxlan, stage: "vxlan-encap", packets: packets, meter: meter)]
        case .vxlanDecap: [OverlayBench.decap(.vxlan, stage: "vxlan-decap", packets: packets, meter: meter)]
        case .ipip: [OverlayBench.encap(.ipip, stage: "ipip-encap", packets: packets, meter: meter),
                     OverlayBench.decap(.ipip, stage: "ipip-decap", packets: packets, meter: meter),
                     OverlayBench.encap(.udp, stage: "udp-encap", packets: packets, meter: meter),
                     OverlayBench.decap(.udp, stage: "udp-decap", packets: packets, meter: meter)]
        case .conntrack: [ConntrackBench.established(connections: 10_000, packets: packets, label: "10k", meter: meter),
                          ConntrackBench.established(connections: 1_000_000, packets: packets, label: "1M", meter: meter),
                          ConntrackBench.established6(connections: 10_000, packets: packets, meter: meter)]
        case .nat: [ConntrackBench.newConnections(packets: packets, meter: meter)]
        case .defrag: [DefragBench.run(packets: packets, meter: meter)]
        }
    }
}
