// Throughput of the IPv4 route lookup: a RouteTable4 holding 10,000 different random prefixes
// (/8 to /32, lengths uniform) and a default route; one iteration is one lookup of an address taken in turn from a
// precomputed array of 2^20 addresses.
//   RouteLookupV4-10k          uniform random addresses (most end in the first level)
//   RouteLookupV4-10k-matched  addresses inside the inserted prefixes (most reach a chunk)
// Target (issue: routing): >= 20 Mpps on one core, zero allocations per lookup.
// The workload is PierBench's RouteWorkload, the same one `pier bench route` runs.
import Benchmark
import BenchmarkDefaults
import PierBench

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .pierStage(drift: 10, of: [.throughput])

    for (name, addresses) in [("RouteLookupV4-10k", RouteWorkload.Addresses.uniform), ("RouteLookupV4-10k-matched", .matched)] {
        stageBenchmark(name) { RouteWorkload(addresses: addresses) } run: { $0.run(lookups: $1) }
    }
}
