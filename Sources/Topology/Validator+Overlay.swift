/// The overlay: peers that are other nodes, each once.
extension Validator {
    /// Peers are not this node, each peer node and node IP appears once, host-gw peers are on
    /// the uplink's subnet, and the local VTEP MAC is no port's or bridge's (flannel.1 has its
    /// own: the encap stage tells a frame routed into the tunnel by that source MAC).
    mutating func checkOverlay() {
        guard let overlay = topology.overlay else { return }
        if let vtepMAC = overlay.vtepMAC {
            for (index, port) in topology.ports.enumerated() where port.mac == vtepMAC {
                fail("overlay.vtepMAC", "\(vtepMAC) is port \(quoted(port.name))'s MAC, \(reference("ports[\(index)].mac")); expected a MAC of its own")
            }
            for (index, bridge) in topology.bridges.enumerated() where bridge.mac == vtepMAC {
                fail("overlay.vtepMAC", "\(vtepMAC) is bridge \(quoted(bridge.name))'s MAC, \(reference("bridges[\(index)].mac")); expected a MAC of its own")
            }
        }
        let peers = overlay.peers
        // host-gw's routes run over the uplink (the first port outside every bridge with an IPv4
        // address); a topology without one loads, but its overlay does nothing (see PipelineBuilder+Overlay).
        let bridged = topology.bridgedPortNames
        let uplink = topology.ports.first { !bridged.contains($0.name) && !$0.addresses.isEmpty }
        if overlay.backend == .hostGW, let uplink {
            for (index, peer) in peers.enumerated() where !uplink.addresses.contains(where: { $0.contains(peer.ip) }) {
                fail("overlay.peers[\(index)].ip",
                     "host-gw routes via the peer's node IP on the uplink, but \(peer.ip) is not on \(uplink.name)'s subnet; expected an address in \(uplink.addresses.map { "\($0.canonical)" }.joined(separator: ", "))")
            }
        }
        for (index, peer) in peers.enumerated() where peer.node == topology.node {
            fail("overlay.peers[\(index)].node",
                 "\(quoted(peer.node)) is this node, \(reference("node")); expected another node")
        }
        for (index, first) in duplicates(peers.map(\.node), in: "overlay.peers") {
            fail("overlay.peers[\(index)].node",
                 "duplicate peer \(quoted(peers[index].node)), also \(reference("overlay.peers[\(first)].node")); expected each node once")
        }
        for (index, first) in duplicates(peers.map(\.ip), in: "overlay.peers") {
            fail("overlay.peers[\(index)].ip",
                 "\(peers[index].ip) is already the IP of \(peers[first].node), \(reference("overlay.peers[\(first)].ip")); expected each node IP once")
        }
    }
}
