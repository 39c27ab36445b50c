import Wire

/// Addresses: subnets that do not overlap, neighbors listed once, no address used twice.
extension Validator {
    /// A subnet and where it came from.
    private struct Subnet {
        /// The prefix.
        let prefix: AnyPrefix
        /// The logical path of the value.
        let path: String
        /// What owns it: `ports[0]`, `bridges[1]`, `overlay`, `overlay.peers[2]`.
        let owner: String
        /// What kind of subnet this is.
        let kind: Kind

        /// The kinds of subnet, for the rule that a bridge may lie inside this node's pod subnet.
        enum Kind { case port, bridge, podCIDR, peerPodCIDR }
    }

    /// Static neighbors are listed once per IP address.
    mutating func checkNeighbors() {
        let neighbors = topology.neighbors
        for (index, first) in duplicates(neighbors.map(\.ip), in: "neighbors") {
            fail("neighbors[\(index)].ip",
                 "duplicate neighbor \(neighbors[index].ip), also \(reference("neighbors[\(first)].ip")); expected each IP address once")
        }
    }

    /// No two subnets among ports, bridges, this node's pod subnet and the peers' pod subnets
    /// overlap (the same one twice counts), except that a bridge may lie inside this node's
    /// pod subnet: that is flannel's `cni0`, the gateway of the node's pods.
    mutating func checkSubnets() {
        let subnets = allSubnets()
        for (i, j) in Self.overlappingPairs(subnets.map(\.prefix)) {
            let earlier = subnets[i], later = subnets[j]
            if earlier.owner != later.owner {
                if isBridgeInPodCIDR(earlier, later) || isBridgeInPodCIDR(later, earlier) { continue }
                let (first, second) = line(earlier.path) <= line(later.path) ? (earlier, later) : (later, earlier)
                fail(second.path,
                     "subnet \(second.prefix.text) overlaps \(first.prefix.text) at \(reference(first.path)); expected subnets that do not overlap")
            }
        }
        checkAddressesUsedOnce()
    }

    /// The pairs `(i, j)`, `i < j`, of prefixes that overlap, ordered by `j` then `i`. IPv4
    /// prefixes are nested or apart, so a sweep in address order with a stack of the prefixes
    /// still open finds them without comparing every pair (1,000 etcd peers: 500,000 pairs);
    /// IPv6 prefixes, few, are compared pairwise.
    static func overlappingPairs(_ prefixes: [AnyPrefix]) -> [(Int, Int)] {
        var pairs: [(Int, Int)] = []
        var v4: [(index: Int, start: UInt32, end: UInt32)] = []
        var v6: [Int] = []
        for (index, prefix) in prefixes.enumerated() {
            switch prefix {
            case .v4(let p): v4.append((index, p.network.rawValue, p.network.rawValue | ~p.mask))
            case .v6: v6.append(index)
            }
        }
        // By start, the wider first: each prefix then lies inside every one still open.
        v4.sort { ($0.start, $1.end, $0.index) < ($1.start, $0.end, $1.index) }
        var open: [(index: Int, start: UInt32, end: UInt32)] = []
        for item in v4 {
            while let top = open.last, top.end < item.start { open.removeLast() }
            pairs += open.map { (min($0.index, item.index), max($0.index, item.index)) }
            open.append(item)
        }
        for (position, j) in v6.enumerated() {
            pairs += v6[..<position].filter { prefixes[$0].overlaps(prefixes[j]) }.map { ($0, j) }
        }
        return pairs.sorted { ($0.1, $0.0) < ($1.1, $1.0) }
    }

    /// Every subnet in the file, in model order.
    private func allSubnets() -> [Subnet] {
        var result: [Subnet] = []
        func add(owner: String, v4: [IPv4Prefix], v6: [IPv6Prefix], kind: Subnet.Kind) {
            result += v4.enumerated().map { Subnet(prefix: .v4($1), path: "\(owner).ip.v4[\($0)]", owner: owner, kind: kind) }
            result += v6.enumerated().map { Subnet(prefix: .v6($1), path: "\(owner).ip.v6[\($0)]", owner: owner, kind: kind) }
        }
        for (index, port) in topology.ports.enumerated() {
            add(owner: "ports[\(index)]", v4: port.addresses, v6: port.addresses6, kind: .port)
        }
        for (index, bridge) in topology.bridges.enumerated() {
            add(owner: "bridges[\(index)]", v4: bridge.addresses, v6: bridge.addresses6, kind: .bridge)
        }
        if let overlay = topology.overlay {
            if !overlay.awaitsLease {
                result.append(Subnet(prefix: .v4(overlay.podCIDR), path: "overlay.podCIDR", owner: "overlay", kind: .podCIDR))
            }
            for (index, peer) in overlay.peers.enumerated() {
                let owner = "overlay.peers[\(index)]"
                result.append(Subnet(prefix: .v4(peer.podCIDR), path: "\(owner).podCIDR", owner: owner, kind: .peerPodCIDR))
            }
        }
        return result
    }

    /// True when `bridge` is a bridge's subnet lying wholly inside `pod`, this node's pod subnet.
    private func isBridgeInPodCIDR(_ bridge: Subnet, _ pod: Subnet) -> Bool {
        bridge.kind == .bridge && pod.kind == .podCIDR && pod.prefix.covers(bridge.prefix)
    }

    /// No address is configured twice, whether on ports, bridges or in containers. (Two
    /// ports or bridges with one address already overlap; this catches the rest.)
    private mutating func checkAddressesUsedOnce() {
        struct Use { let address: String, path: String, owner: String, isContainer: Bool }
        var uses: [Use] = []
        func add(owner: String, v4: [IPv4Prefix], v6: [IPv6Prefix], isContainer: Bool = false) {
            uses += v4.enumerated().map { Use(address: $1.address.description, path: "\(owner).ip.v4[\($0)]", owner: owner, isContainer: isContainer) }
            uses += v6.enumerated().map { Use(address: $1.address.description, path: "\(owner).ip.v6[\($0)]", owner: owner, isContainer: isContainer) }
        }
        for (index, port) in topology.ports.enumerated() { add(owner: "ports[\(index)]", v4: port.addresses, v6: port.addresses6) }
        for (index, bridge) in topology.bridges.enumerated() { add(owner: "bridges[\(index)]", v4: bridge.addresses, v6: bridge.addresses6) }
        for (index, container) in topology.containers.enumerated() {
            add(owner: "containers[\(index)]", v4: container.addresses, v6: container.addresses6, isContainer: true)
        }
        let inFileOrder = uses.enumerated().sorted { (line($0.element.path), $0.offset) < (line($1.element.path), $1.offset) }
        var seen: [String: Use] = [:]
        for use in inFileOrder.map(\.element) {
            guard let earlier = seen[use.address] else {
                seen[use.address] = use
                continue
            }
            if earlier.owner == use.owner || earlier.isContainer || use.isContainer {
                fail(use.path, "address \(use.address) is already used at \(reference(earlier.path)); expected each address once")
            }
        }
    }
}
