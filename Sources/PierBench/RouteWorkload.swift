import Dataplane
import Wire

/// The IPv4 route lookup benchmark workload, shared by `pier bench route` and the Benchmarks
/// package's Route suite so that both measure the same thing: a `RouteTable4` holding a
/// default route and `prefixes` different random prefixes (/8 to /32, lengths uniform), and
/// 2^20 addresses looked up in turn (enough that they do not all sit in the cache beside the
/// table), all drawn from a `SplitMix64` seeded with 10,000: the same on every run.
///
/// Not thread-safe: one benchmark thread uses a workload at a time.
public final class RouteWorkload: @unchecked Sendable {
    /// Where the looked-up addresses come from.
    public enum Addresses: Sendable {
        /// Uniformly random: most lookups end at the trie's first level.
        case uniform
        /// Inside a random one of the inserted prefixes: most lookups reach a chunk.
        case matched
    }

    /// The table under measurement.
    package let table: RouteTable4
    /// The addresses to look up, a power-of-two count, so the index wraps by mask.
    package let addresses: [IPv4Address]

    /// Draws and inserts the prefixes (each new one's next hop is the table's count before it),
    /// then draws the addresses.
    public init(prefixes count: Int = 10_000, addresses kind: Addresses = .uniform) {
        var random = SplitMix64(seed: 10_000)
        var table = RouteTable4()
        table.insert(IPv4Prefix(address: .any, length: 0), nextHop: 0)
        var prefixes: [IPv4Prefix] = []
        var seen = Set<IPv4Prefix>()
        while table.count < count + 1 {
            let length = 8 + Int(random.next() % 25)
            let prefix = IPv4Prefix(address: IPv4Address(rawValue: UInt32(truncatingIfNeeded: random.next())), length: length)
            table.insert(prefix, nextHop: UInt32(table.count))
            if seen.insert(prefix.canonical).inserted { prefixes.append(prefix.canonical) }
        }
        self.table = table
        addresses = (0..<(1 << 20)).map { _ in
            switch kind {
            case .uniform:
                return IPv4Address(rawValue: UInt32(truncatingIfNeeded: random.next()))
            case .matched:
                let inside = prefixes[Int(random.next() % UInt64(prefixes.count))]
                return IPv4Address(rawValue: inside.network.rawValue | UInt32(truncatingIfNeeded: random.next()) & ~inside.mask)
            }
        }
    }

    /// Looks up `count` addresses in turn from the first; returns the sum of the next hops
    /// found, so that nothing is optimized away.
    public func run(lookups count: Int) -> UInt32 {
        var sink: UInt32 = 0
        addresses.withUnsafeBufferPointer { addresses in
            for index in 0..<count { sink &+= table.lookup(addresses[index & (addresses.count - 1)]) ?? 0 }
        }
        return sink
    }
}
