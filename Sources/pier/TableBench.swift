import Dataplane
import Wire

/// The table benchmarks of `pier bench bridge route`: the bridge's learn + forward decision
/// (FDB learn of the source, lookup of the destination, a batch of 64 prefetched first) with
/// 4,096 and 1,048,576 stations, and an IPv4 longest-prefix match over 10,000 prefixes.
/// The same loops as Benchmarks/Bridge and Benchmarks/Route, in this process.
enum TableBench {
    static func bridge(stations: Int, packets: Int) -> BenchResult {
        var random = SplitMix64(seed: UInt64(stations))
        var seen = Set<UInt64>()
        var macs: [MACAddress] = []
        while macs.count < stations {
            let raw = (random.next() & 0xFEFF_FFFF_FFFF) | 0x0200_0000_0000
            if seen.insert(raw).inserted { macs.append(MACAddress(rawValue: raw)) }
        }
        var now = Timestamp(seconds: 1_000, nanoseconds: 0)
        let table = FDB(capacity: stations, ageing: 300, seed: random.next())
        func port(_ mac: MACAddress) -> PortID { PortID(rawValue: UInt16(truncatingIfNeeded: mac.rawValue & 0xF)) }
        for mac in macs { table.learn(mac, port: port(mac), now: now) }
        let frames = (0..<(1 << 20)).map { _ in
            (macs[Int(random.next() % UInt64(stations))], macs[Int(random.next() % UInt64(stations))])
        }
        var sink = 0
        let count = packets / 64 * 64
        var result = measure(stage: "bridge-\(stations)", frames: count) {
            frames.withUnsafeBufferPointer { frames in
                var cursor = 0
                for _ in 0..<(count / 64) {
                    for index in cursor..<(cursor + 64) {
                        table.prefetch(frames[index].0)
                        table.prefetch(frames[index].1)
                    }
                    for index in cursor..<(cursor + 64) {
                        let (source, destination) = frames[index]
                        table.learn(source, port: port(source), now: now)
                        if let out = table.lookup(destination, now: now) { sink &+= Int(out.rawValue) }
                    }
                    cursor = (cursor + 64) & (frames.count - 1)
                    now.nanoseconds += 2_000
                }
            }
        }
        blackHole(sink)
        result.memoryBytesPerEntry = Double(table.memoryBytes) / Double(stations)
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
