import Wire

/// IPv6 longest-prefix match: the next hop of the longest prefix containing a destination
/// (RFC 4291 §2.3, RFC 8200), with the same shape as `RouteTable4`.
///
/// One hash map per prefix length, from the masked network to the next hop; a lookup masks the
/// address to each length present, longest first, and stops at the first hit. A container
/// node holds a handful of IPv6 routes at three or four lengths (/0, /48, /64, /128), so that
/// is a handful of hash probes; there is no speed target yet.
///
/// Not yet: a trie or binary search on lengths for large tables, ECMP, metrics.
public struct RouteTable6: Sendable {
    /// `networks[n]` maps each /n network (host bits clear) to its next hop.
    private var networks = [[IPv6Address: UInt32]](repeating: [:], count: 129)
    /// The lengths with at least one route, longest first.
    private var lengths: [Int] = []

    /// Makes an empty table.
    public init() {}

    /// The number of prefixes in the table.
    public private(set) var count = 0

    /// The bytes the hash maps' keys and values take, spare capacity included (an estimate:
    /// the maps' metadata is left out).
    public var memoryBytes: Int {
        let perRoute = MemoryLayout<IPv6Address>.stride + MemoryLayout<UInt32>.stride
        return networks.reduce(0) { $0 + $1.capacity * perRoute }
    }

    /// The next hop of the longest prefix containing `address`, or nil when none does.
    public func lookup(_ address: IPv6Address) -> UInt32? {
        for length in lengths {
            let network = IPv6Prefix(address: address, length: length).network
            if let nextHop = networks[length][network] { return nextHop }
        }
        return nil
    }

    /// Routes `prefix` to `nextHop`, replacing the next hop of an identical prefix. Host bits
    /// in `prefix` are ignored.
    public mutating func insert(_ prefix: IPv6Prefix, nextHop: UInt32) {
        let length = prefix.length
        if networks[length].updateValue(nextHop, forKey: prefix.network) == nil {
            count += 1
            if networks[length].count == 1 {
                lengths.append(length)
                lengths.sort(by: >)
            }
        }
    }

    /// Removes `prefix` (host bits ignored); a prefix not in the table is ignored.
    public mutating func remove(_ prefix: IPv6Prefix) {
        let length = prefix.length
        guard networks[length].removeValue(forKey: prefix.network) != nil else { return }
        count -= 1
        if networks[length].isEmpty { lengths.removeAll { $0 == length } }
    }

    /// Every route, ordered by network address, then by prefix length (shorter first).
    public func routes() -> [(IPv6Prefix, UInt32)] {
        networks.enumerated()
            .flatMap { length, routes in
                routes.map { (IPv6Prefix(address: $0.key, length: length), $0.value) }
            }
            .sorted { ($0.0.address, $0.0.length) < ($1.0.address, $1.0.length) }
    }
}
