// Throughput of the IPv4 route lookup: a RouteTable4 holding 10,000 different random prefixes
// (/8 to /32, lengths uniform) and a default route; one iteration is one lookup of an address taken in turn from a
// precomputed array of 2^20 addresses.
//   RouteLookupV4-10k          uniform random addresses (most end in the first level)
//   RouteLookupV4-10k-matched  addresses inside the inserted prefixes (most reach a chunk)
// Target (issue: routing): >= 20 Mpps on one core, zero allocations per lookup.
import Benchmark
import BenchmarkDefaults
import Dataplane
import Wire

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .pierStage(drift: 10, of: [.throughput])

    Benchmark("RouteLookupV4-10k") { benchmark in
        var random = SplitMix64(seed: 0x0A11_0C47)
        let prefixes = random.distinctPrefixes(10_000)
        let addresses = (0..<addressCount).map { _ in IPv4Address(rawValue: random.next32()) }
        measureLookups(benchmark, prefixes: prefixes, addresses: addresses)
    }

    Benchmark("RouteLookupV4-10k-matched") { benchmark in
        var random = SplitMix64(seed: 0x0A11_0C47)
        let prefixes = random.distinctPrefixes(10_000)
        let addresses = (0..<addressCount).map { _ in
            let inside = prefixes[Int(random.next32()) % prefixes.count]
            return IPv4Address(rawValue: inside.network.rawValue | random.next32() & ~inside.mask)
        }
        measureLookups(benchmark, prefixes: prefixes, addresses: addresses)
    }
}

/// Addresses looked up in turn: enough that they do not all sit in the cache beside the table.
let addressCount = 1 << 20

/// Fills a table with `prefixes` and a default route, then looks up `addresses` in turn.
func measureLookups(_ benchmark: Benchmark, prefixes: [IPv4Prefix], addresses: [IPv4Address]) {
    var table = RouteTable4()
    table.insert(IPv4Prefix(address: .any, length: 0), nextHop: 0)
    for (index, prefix) in prefixes.enumerated() { table.insert(prefix, nextHop: UInt32(1 + index % 64)) }
    var sink: UInt32 = 0
    benchmark.startMeasurement()
    for iteration in benchmark.scaledIterations {
        sink &+= table.lookup(addresses[iteration & (addressCount - 1)]) ?? 0
    }
    benchmark.stopMeasurement()
    blackHole(sink)
}

/// The route benchmark's draws on Dataplane's seeded generator: the same prefixes and
/// addresses on every run.
extension SplitMix64 {
    mutating func next32() -> UInt32 { UInt32(truncatingIfNeeded: next() >> 32) }

    /// `count` different random prefixes of /8 to /32, in the order drawn.
    mutating func distinctPrefixes(_ count: Int) -> [IPv4Prefix] {
        var seen = Set<IPv4Prefix>(), prefixes: [IPv4Prefix] = []
        while prefixes.count < count {
            let prefix = IPv4Prefix(address: IPv4Address(rawValue: next32()), length: 8 + Int(next() % 25))
            if seen.insert(prefix.canonical).inserted { prefixes.append(prefix.canonical) }
        }
        return prefixes
    }
}
