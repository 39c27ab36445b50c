// Throughput of the bridge's MAC learning table (FDB): per frame, learn the source MAC on its
// input port and look up the destination, as Linux's br_handle_frame_finish does. One
// iteration is one frame; frames are (source, destination) pairs drawn at random from N
// stations and handled 64 at a time, the way a bridge stage sees a batch: first the slots of
// all 128 MACs are prefetched, then the 64 frames are learned and looked up.
// Targets (issue: bridge FDB): >= 30 Mpps with 4,096 stations and >= 15 Mpps with 1,048,576
// (a table bigger than the caches, where the prefetching pays), zero allocations per frame.
import Benchmark
import Dataplane
import Wire

/// N stations, all learned already (the steady state of a busy bridge), and a million frames
/// among them. Built once in setup; one benchmark thread uses it at a time.
final class BridgeFixture: @unchecked Sendable {
    let fdb: FDB
    /// The frames' (source, destination) MACs; a power-of-two count, so the cursor wraps by mask.
    let frames: [(source: MACAddress, destination: MACAddress)]
    /// The next frame to handle: each measured run picks up where the last one stopped.
    var cursor = 0
    /// The clock, advanced by 2 µs a batch (64 frames at ~30 ns): never long enough to age.
    var now = Timestamp(seconds: 1_000, nanoseconds: 0)

    /// The port a station sends from: its MAC's low four bits (16 ports).
    @inline(__always)
    static func port(of mac: MACAddress) -> PortID { PortID(rawValue: UInt16(truncatingIfNeeded: mac.rawValue & 0xF)) }

    init(stations: Int) {
        var rng = SplitMix64(seed: UInt64(stations))
        var seen = Set<UInt64>()
        var macs: [MACAddress] = []
        macs.reserveCapacity(stations)
        while macs.count < stations {
            // Unicast, locally administered: what Docker and CNI plugins hand out.
            let raw = (rng.next() & 0xFEFF_FFFF_FFFF) | 0x0200_0000_0000
            if seen.insert(raw).inserted { macs.append(MACAddress(rawValue: raw)) }
        }
        fdb = FDB(capacity: stations, ageing: 300, seed: rng.next())
        for mac in macs { fdb.learn(mac, port: Self.port(of: mac), now: now) }
        frames = (0..<(1 << 20)).map { _ in
            (macs[Int(rng.next() % UInt64(stations))], macs[Int(rng.next() % UInt64(stations))])
        }
    }

    /// Handles `count` frames (a multiple of 64) batch by batch; returns a checksum of the
    /// looked-up ports, so that nothing is optimized away.
    func run(frames count: Int) -> Int {
        var sink = 0
        frames.withUnsafeBufferPointer { frames in
            for _ in 0..<(count / 64) {
                let batch = cursor..<(cursor + 64)
                for i in batch {
                    fdb.prefetch(frames[i].source)
                    fdb.prefetch(frames[i].destination)
                }
                for i in batch {
                    let (source, destination) = frames[i]
                    fdb.learn(source, port: Self.port(of: source), now: now)
                    if let port = fdb.lookup(destination, now: now) { sink &+= Int(port.rawValue) }
                }
                cursor = (cursor + 64) & (frames.count - 1)
                now.nanoseconds += 2_000
            }
        }
        return sink
    }
}


let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.throughput, .wallClock, .mallocCountTotal],
        timeUnits: .nanoseconds,
        scalingFactor: .mega,
        maxDuration: .seconds(3),
        thresholds: [
            .mallocCountTotal: .init(absolute: [.p90: 0]),
            .throughput: .init(relative: [.p50: 15]),
            .wallClock: .init(relative: [.p50: 15]),
        ])

    // 1,000,000 frames a measured iteration (scalingFactor .mega), a multiple of 64.
    for (name, stations) in [("BridgeFDB-4096", 4_096), ("BridgeFDB-1M", 1 << 20)] {
        Benchmark(name) { benchmark, fixture in
            benchmark.startMeasurement()
            let sink = fixture.run(frames: benchmark.scaledIterations.count)
            benchmark.stopMeasurement()
            blackHole(sink)
        } setup: {
            BridgeFixture(stations: stations)
        }
    }
}
