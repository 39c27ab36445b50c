import Dataplane
import Wire

extension PipelineConfig {
    /// The names Linux gives each backend's tunnel device.
    static func tunnelName(_ backend: OverlayConfig.Backend) -> String {
        switch backend {
        case .vxlan: "flannel.1"
        case .ipip: "tunl0"
        case .udp: "flannel0"
        case .hostGW: ""
        }
    }

    /// Adds what `overlay:` makes flannel (or Calico) program on the node. The uplink is the
    /// first routed port with an IPv4 address; its first address is the node IP. Without such
    /// a port (a topology that only describes a bridge) the overlay adds nothing.
    ///
    /// - host-gw: a route for each peer's pod subnet via the peer's node IP on the uplink.
    /// - vxlan, ipip, udp: a tunnel interface (flannel.1, tunl0, flannel0) with the local VTEP
    ///   MAC and `podCIDR.network/32`, a route for each peer's pod subnet via the peer's
    ///   `podCIDR.network` on it, and a static neighbour from that address to the peer's VTEP
    ///   MAC, exactly flannel's onlink route + ARP entry; then `overlay` for the tunnel stages.
    ///   A VTEP MAC not given is derived from the node IP, 02:aa:a.b.c.d, on both sides alike.
    ///   The outer next hop toward a peer is the peer itself when it is on the uplink's subnet,
    ///   else the uplink's gateway. Decapsulated frames not for the VTEP MAC go to the bridge
    ///   whose subnet holds `podCIDR` (else the first bridge).
    mutating func addOverlay(_ overlay: OverlayConfig) {
        guard let uplink = interfaces.firstIndex(where: { interface in
            if case .port = interface.attachment { return !interface.ipv4.isEmpty }
            return false
        }), case .port(let uplinkPort) = interfaces[uplink].attachment else { return }
        let uplinkSubnets = interfaces[uplink].ipv4
        let nodeIP = uplinkSubnets[0].address
        let gateway = routes4.first { $0.interface == uplink && $0.prefix.length == 0 }?.gateway
        if overlay.backend == .hostGW {
            for peer in overlay.peers {
                routes4.append(Route4(prefix: peer.podCIDR, interface: uplink, gateway: peer.ip))
            }
            return
        }
        let encapsulation: Overlay.Encapsulation = switch overlay.backend {
        case .vxlan, .hostGW: .vxlan
        case .ipip: .ipip
        case .udp: .udp
        }
        let tunnelMAC = overlay.vtepMAC ?? Self.derivedMAC(prefix: 0x02AA, from: [IPv4Prefix(address: nodeIP, length: 32)])
        let tunnel = interfaces.count
        interfaces.append(Interface(name: Self.tunnelName(overlay.backend), mac: tunnelMAC,
                                    ipv4: [IPv4Prefix(address: overlay.podCIDR.network, length: 32)],
                                    attachment: .port(uplinkPort)))
        var peers: [Overlay.Peer] = []
        for peer in overlay.peers {
            let mac = peer.vtepMAC ?? Self.derivedMAC(prefix: 0x02AA, from: [IPv4Prefix(address: peer.ip, length: 32)])
            routes4.append(Route4(prefix: peer.podCIDR, interface: tunnel, gateway: peer.podCIDR.network))
            neighbors4.append((peer.podCIDR.network, mac))
            let onLink = uplinkSubnets.contains { $0.contains(peer.ip) }
            peers.append(Overlay.Peer(ip: peer.ip, podCIDR: peer.podCIDR, tunnelMAC: mac,
                                      nextHop: onLink ? peer.ip : gateway ?? peer.ip))
        }
        let podBridge = bridges.indices.first { index in
            guard let interface = bridges[index].interface else { return false }
            return interfaces[interface].ipv4.contains { $0.contains(overlay.podCIDR.network) || overlay.podCIDR.contains($0.address) }
        } ?? (bridges.isEmpty ? nil : 0)
        self.overlay = Overlay(encapsulation: encapsulation, vni: overlay.vni,
                               port: overlay.port ?? overlay.backend.defaultPort ?? 0, mtu: overlay.mtu,
                               nodeIP: nodeIP, uplink: uplink, tunnelInterface: tunnel, tunnelMAC: tunnelMAC,
                               podBridge: podBridge, peers: peers, sourcePorts: overlay.sourcePorts)
    }
}
