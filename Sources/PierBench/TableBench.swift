import Dataplane
import Wire

/// The table benchmarks of `pier bench bridge route`: the bridge's learn + forward decision
/// (FDB learn of the source, lookup of the destination, a batch of 64 prefetched first) with
/// 4,096 and 1,048,576 stations, and an IPv4 longest-prefix match over 10,000 prefixes.
/// The workloads are PierBench's `BridgeWorkload` and `RouteWorkload`, the ones
/// Benchmarks/Bridge and Benchmarks/Route run.
package enum TableBench {
    /// The learn + forward decision over `stations` stations, `packets` frames (whole batches).
    package static func bridge(stations: Int, packets: Int, meter: BenchMeter) -> BenchResult {
        let workload = BridgeWorkload(stations: stations)
        let count = packets / 64 * 64
        var sink = 0
        var result = meter.measure(stage: "bridge-\(stations)", frames: count) { sink = workload.run(frames: count) }
        blackHole(sink)
        result.memoryBytesPerEntry = Double(workload.fdb.memoryBytes) / Double(stations)
        return result
    }

    /// `packets` lookups in the 10,000-prefix table.
    package static func route(packets: Int, meter: BenchMeter) -> BenchResult {
        let workload = RouteWorkload()
        var sink: UInt32 = 0
        var result = meter.measure(stage: "route-10k", frames: packets) { sink = workload.run(lookups: packets) }
        blackHole(Int(sink))
        result.memoryBytesPerEntry = Double(workload.table.memoryBytes) / Double(workload.table.count)
        return result
    }
}
