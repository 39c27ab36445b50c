import Dataplane
import Wire

/// The table benchmarks of `pier bench bridge route`: the bridge's learn + forward decision
/// (FDB learn of the source, lookup of the destination, a batch of 64 prefetched first) with
/// 4,096 and 1,048,576 stations, and an IPv4 longest-prefix match over 10,000 prefixes.
/// The bridge's workload is Dataplane's `BridgeWorkload`, the one Benchmarks/Bridge runs.
enum TableBench {
    static func bridge(stations: Int, packets: Int) -> BenchResult {
        let workload = BridgeWorkload(stations: stations)
        let count = packets / 64 * 64
        var sink = 0
        var result = measure(stage: "bridge-\(stations)", frames: count) { sink = workload.run(frames: count) }
        blackHole(sink)
        result.memoryBytesPerEntry = Double(workload.fdb.memoryBytes) / Double(stations)
        return result
    }

    static func route(packets: Int) -> BenchResult {
        var random = SplitMix64(seed: 10_000)
        var table = RouteTable4()
        table.insert(IPv4Prefix(address: .any, length: 0), nextHop: 0)
        var inserted = 1
        while inserted < 10_001 {
            let length = 8 + Int(random.next() % 25)
            table.insert(IPv4Prefix(address: IPv4Address(rawValue: UInt32(truncatingIfNeeded: random.next())), length: length),
                         nextHop: UInt32(inserted))
            inserted = table.count
        }
        let addresses = (0..<(1 << 20)).map { _ in IPv4Address(rawValue: UInt32(truncatingIfNeeded: random.next())) }
        var sink: UInt32 = 0
        var result = measure(stage: "route-10k", frames: packets) {
            addresses.withUnsafeBufferPointer { addresses in
                for index in 0..<packets { sink &+= table.lookup(addresses[index & (addresses.count - 1)]) ?? 0 }
            }
        }
        blackHole(Int(sink))
        result.memoryBytesPerEntry = Double(table.memoryBytes) / Double(table.count)
        return result
    }
}
