import Dataplane
import Wire

/// Small topologies built in code, each written once for `pier bench`, the fuzz target and
/// the tests (the YAML topologies in fixtures/topologies are for the `pier` binary).
package enum SyntheticTopologies {
    /// Another node as `overlayNode` sees it.
    package struct OverlayPeer: Sendable {
        /// The peer's node IP, on the uplink's subnet (so it is also the uplink's next hop).
        package var nodeIP: IPv4Address
        /// The MAC of the peer's uplink, as a static ARP entry for `nodeIP`; nil leaves it to
        /// be resolved by ARP.
        package var uplinkMAC: MACAddress?
        /// The peer's pod subnet.
        package var podCIDR: IPv4Prefix
        /// The peer's VTEP MAC (or, for ipip and udp, the MAC that names it inside Pier).
        package var tunnelMAC: MACAddress

        /// Describes a peer.
        package init(nodeIP: IPv4Address, uplinkMAC: MACAddress?, podCIDR: IPv4Prefix, tunnelMAC: MACAddress) {
            self.nodeIP = nodeIP
            self.uplinkMAC = uplinkMAC
            self.podCIDR = podCIDR
            self.tunnelMAC = tunnelMAC
        }
    }

    /// The overlay node's IP on its uplink, 192.168.1.25.
    package static let overlayNodeIP = IPv4Address(192, 168, 1, 25)
    /// The MAC of the overlay node's pod bridge cni0, 0a:58:0a:f4:01:01.
    package static let overlayBridgeMAC = MACAddress(0x0a, 0x58, 10, 244, 1, 1)
    /// The MAC of the overlay node's tunnel interface flannel.1, 02:aa:00:00:00:01.
    package static let overlayTunnelMAC = MACAddress(0x02, 0xAA, 0, 0, 0, 1)

    /// A flannel-style node with pods on 10.244.1.0/24: port 0 `eth0` is the uplink
    /// (interface 0, `overlayNodeIP`/24, MAC `uplinkMAC`); port 1 `pod` sits on bridge `cni0`
    /// (interface 1, 10.244.1.1/24); interface 2 `flannel.1` is the tunnel (10.244.1.0/32,
    /// `overlayTunnelMAC`, over the uplink). The overlay uses `encapsulation` with `vni` on
    /// UDP port 8285 for `udp` and 8472 otherwise, and reaches each of `peers` directly on
    /// the uplink's subnet.
    ///
    /// With `routesPodCIDRs`, each peer's pod subnet is also routed as flannel programs Linux
    /// (see `PipelineConfig.Overlay`): via `podCIDR.network` on flannel.1, with a static
    /// neighbour mapping that address to the peer's tunnel MAC. Without it the config serves
    /// the overlay stages alone (as `pier bench` runs them), with no routes.
    package static func overlayNode(_ encapsulation: PipelineConfig.Overlay.Encapsulation, vni: UInt32 = 1,
                                   uplinkMAC: MACAddress, peers: [OverlayPeer], routesPodCIDRs: Bool = true) -> PipelineConfig {
        let uplink = PortID(rawValue: 0)
        var neighbors: [(IPv4Address, MACAddress)] = []
        var routes: [PipelineConfig.Route4] = []
        for peer in peers {
            if let mac = peer.uplinkMAC { neighbors.append((peer.nodeIP, mac)) }
            guard routesPodCIDRs else { continue }
            routes.append(PipelineConfig.Route4(prefix: peer.podCIDR, interface: 2, gateway: peer.podCIDR.network))
            neighbors.append((peer.podCIDR.network, peer.tunnelMAC))
        }
        var config = PipelineConfig(
            ports: [PipelineConfig.Port(name: "eth0", interface: 0), PipelineConfig.Port(name: "pod", bridge: 0)],
            bridges: [PipelineConfig.Bridge(name: "cni0", ports: [PortID(rawValue: 1)], interface: 1)],
            interfaces: [
                PipelineConfig.Interface(name: "eth0", mac: uplinkMAC, ipv4: [IPv4Prefix(address: overlayNodeIP, length: 24)],
                                         attachment: .port(uplink)),
                PipelineConfig.Interface(name: "cni0", mac: overlayBridgeMAC,
                                         ipv4: [IPv4Prefix(address: IPv4Address(10, 244, 1, 1), length: 24)], attachment: .bridge(0)),
                PipelineConfig.Interface(name: "flannel.1", mac: overlayTunnelMAC,
                                         ipv4: [IPv4Prefix(address: IPv4Address(10, 244, 1, 0), length: 32)], attachment: .port(uplink)),
            ],
            routes4: routes,
            neighbors4: neighbors)
        config.overlay = PipelineConfig.Overlay(
            encapsulation: encapsulation, vni: vni, port: encapsulation == .udp ? 8285 : 8472, nodeIP: overlayNodeIP, uplink: 0,
            tunnelInterface: 2, tunnelMAC: overlayTunnelMAC, podBridge: 0,
            peers: peers.map { PipelineConfig.Overlay.Peer(ip: $0.nodeIP, podCIDR: $0.podCIDR, tunnelMAC: $0.tunnelMAC, nextHop: $0.nodeIP) })
        return config
    }
}
