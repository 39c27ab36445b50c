/// The overlay: peers that are other nodes, each once.
extension Validator {
    /// Peers are not this node, and each peer node and node IP appears once.
    mutating func checkOverlay() {
        guard let peers = topology.overlay?.peers else { return }
        for (index, peer) in peers.enumerated() where peer.node == topology.node {
            fail("overlay.peers[\(index)].node",
                 "\(quoted(peer.node)) is this node, \(reference("node")); expected another node")
        }
        for (index, first) in duplicates(peers.map(\.node)) {
            fail("overlay.peers[\(index)].node",
                 "duplicate peer \(quoted(peers[index].node)), also \(reference("overlay.peers[\(first)].node")); expected each node once")
        }
        for (index, first) in duplicates(peers.map(\.ip)) {
            fail("overlay.peers[\(index)].ip",
                 "\(peers[index].ip) is already the IP of \(peers[first].node), \(reference("overlay.peers[\(first)].ip")); expected each node IP once")
        }
    }
}
