import Dataplane
import Wire

/// The bridge table benchmark workload, shared by `pier bench bridge` and the Benchmarks
/// package's Bridge suite so that both measure the same thing: per frame, learn the source
/// MAC on its input port and look up the destination, as Linux's `br_handle_frame_finish`
/// does, in batches of 64 whose 128 MACs' slots are prefetched first (the bridge stage itself
/// prefetches only when its table is too big to stay in cache).
///
/// `stations` random unicast, locally administered MACs (what Docker and CNI plugins hand
/// out), all learned already (the steady state of a busy bridge), and 2^20 frames drawn at
/// random among them, all from a `SplitMix64` seeded with `stations`: the same on every run.
///
/// Not thread-safe: one benchmark thread uses a workload at a time.
public final class BridgeWorkload: @unchecked Sendable {
    /// The table under measurement.
    package let fdb: FDB
    /// The frames' (source, destination) MACs; a power-of-two count, so the cursor wraps by mask.
    package let frames: [(source: MACAddress, destination: MACAddress)]
    /// The next frame to handle: each run picks up where the last one stopped.
    package var cursor = 0
    /// The clock, advanced by 2 µs a batch (64 frames at ~30 ns): never long enough to age.
    package var now = Timestamp(seconds: 1_000, nanoseconds: 0)

    /// The port a station sends from: its MAC's low four bits (16 ports).
    @inline(__always)
    package static func port(of mac: MACAddress) -> PortID { PortID(rawValue: UInt16(truncatingIfNeeded: mac.rawValue & 0xF)) }

    /// Draws `stations` MACs, learns them all, and draws the frames.
    public init(stations: Int) {
        var random = SplitMix64(seed: UInt64(stations))
        var seen = Set<UInt64>()
        var macs: [MACAddress] = []
        macs.reserveCapacity(stations)
        while macs.count < stations {
            let raw = (random.next() & 0xFEFF_FFFF_FFFF) | 0x0200_0000_0000
            if seen.insert(raw).inserted { macs.append(MACAddress(rawValue: raw)) }
        }
        fdb = FDB(capacity: stations, ageing: 300, seed: random.next())
        for mac in macs { fdb.learn(mac, port: Self.port(of: mac), now: now) }
        frames = (0..<(1 << 20)).map { _ in
            (macs[Int(random.next() % UInt64(stations))], macs[Int(random.next() % UInt64(stations))])
        }
    }

    /// Handles `count` frames (a multiple of 64) batch by batch; returns a checksum of the
    /// looked-up ports, so that nothing is optimized away.
    public func run(frames count: Int) -> Int {
        var sink = 0
        var cursor = self.cursor, now = self.now
        defer { (self.cursor, self.now) = (cursor, now) }
        frames.withUnsafeBufferPointer { frames in
            for _ in 0..<(count / 64) {
                let batch = cursor..<(cursor + 64)
                for index in batch {
                    fdb.prefetch(frames[index].source)
                    fdb.prefetch(frames[index].destination)
                }
                for index in batch {
                    let (source, destination) = frames[index]
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
