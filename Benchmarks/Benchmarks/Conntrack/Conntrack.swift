// Throughput of conntrack + NAT (issue 4), through the stage's real per-packet path
// (`ConntrackStage.process`, after its batch prefetch): 54-byte TCP frames copied into pool
// frames 64 at a time, as a TAP read would.
// - ConntrackEstablished-10k / -1M: replies from the outside to random ones of N masqueraded
//   connections: lookup by either key, state and timer update, rewrite with precomputed
//   checksum deltas. Targets: >= 10 Mpps with 10,000 connections, >= 3 Mpps with 1,000,000.
// - ConntrackNew: SYNs from containers, each a new masqueraded connection (egress, unique
//   port check, insertion under both keys, rewrite). Target: >= 1,000,000 per second.
// Zero allocations per frame.
import Benchmark
import Dataplane
import Wire

/// A conntrack stage on a node with one uplink (192.168.1.25) and MASQUERADE of 10.0.0.0/8.
final class ConntrackFixture: @unchecked Sendable {
    static let node = IPv4Address(192, 168, 1, 25)
    let stage: ConntrackStage
    let pool = FramePool(limit: 256, preallocated: 128)
    /// The frames to replay, 54 bytes each, back to back.
    var templates: [UInt8] = []
    var cursor = 0
    let now = Timestamp(seconds: 1_000, nanoseconds: 0)

    init(capacity: Int) {
        let uplink = PortID(rawValue: 0)
        var config = PipelineConfig(
            ports: [PipelineConfig.Port(name: "eth0", interface: 0)],
            interfaces: [PipelineConfig.Interface(name: "eth0", mac: MACAddress(rawValue: 0x0200_C0A8_0119),
                                                  ipv4: [IPv4Prefix(address: Self.node, length: 24)], attachment: .port(uplink))])
        config.nat = NATRules(masquerade: [NATRules.Masquerade(source: IPv4Prefix(address: IPv4Address(10, 0, 0, 0), length: 8), out: uplink)])
        config.conntrack = ConntrackSettings(capacity: capacity)
        stage = ConntrackStage(context: PipelineContext(config: config, pool: pool)) { _ in 0 }
    }

    /// Connection `i`: container 10.x.y.z port 20000–20255 to its own outside address, port 443.
    static func key(_ index: Int) -> FlowKey {
        FlowKey(source: IPv4Address(rawValue: 0x0A00_0000 | UInt32(index >> 8)),
                destination: IPv4Address(rawValue: 0xCB00_0000 | UInt32(index)),
                sourcePort: UInt16(20_000 + index & 0xFF), destinationPort: 443, protocol: .tcp)
    }

    static func frames(_ keys: [FlowKey], flags: TCPFlags) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(keys.count * 54)
        for key in keys {
            bytes += SyntheticFrames.tcp(source: key.source, destination: key.destination,
                                         sourcePort: key.sourcePort, destinationPort: key.destinationPort, flags: flags)
        }
        return bytes
    }

    /// `count` masqueraded connections made, and replies to them in a random order to replay.
    static func established(_ count: Int) -> ConntrackFixture {
        let fixture = ConntrackFixture(capacity: count)
        fixture.templates = frames((0..<count).map(key), flags: [.syn])
        fixture.run(frames: count)
        var rng = SplitMix64(seed: UInt64(count))
        let order = (0..<count).shuffled(using: &rng)
        fixture.templates = frames(order.map { key($0).withSource(node, port: key($0).sourcePort).reversed }, flags: [.ack])
        fixture.cursor = 0
        return fixture
    }

    /// Runs `count` frames (a multiple of 64) through the stage.
    func run(frames count: Int) {
        var batch = Batch()
        let frames = templates.count / 54
        templates.withUnsafeBytes { all in
            for _ in 0..<(count / 64) {
                for _ in 0..<64 {
                    var frame = pool.take()
                    frame.replaceContents(with: UnsafeRawBufferPointer(rebasing: all[(cursor * 54)..<(cursor * 54 + 54)]))
                    var layers = LayerOffsets()
                    (layers.network, layers.transport, layers.networkType, layers.transportProtocol) = (14, 34, .ipv4, .tcp)
                    frame.layers = layers
                    frame.verdict = .toInterface(0)
                    frame.timestamp = now
                    batch.append(frame)
                    cursor += 1
                    if cursor == frames { cursor = 0 }
                }
                stage.prefetch(&batch)
                for index in 0..<batch.count { stage.process(&batch[index], prefetched: index) }
                batch.recycleAll(into: pool)
            }
        }
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

    for (name, connections) in [("ConntrackEstablished-10k", 9_984), ("ConntrackEstablished-1M", 999_936)] {
        Benchmark(name) { benchmark, fixture in
            benchmark.startMeasurement()
            fixture.run(frames: benchmark.scaledIterations.count / 64 * 64)
            benchmark.stopMeasurement()
            blackHole(fixture.stage.table.count)
        } setup: {
            ConntrackFixture.established(connections)
        }
    }

    // Each iteration opens 999,936 connections into a fresh table (made before the measurement).
    Benchmark("ConntrackNew") { benchmark, templates in
        let fixture = ConntrackFixture(capacity: 1_000_000)
        fixture.templates = templates
        benchmark.startMeasurement()
        fixture.run(frames: benchmark.scaledIterations.count / 64 * 64)
        benchmark.stopMeasurement()
        blackHole(fixture.stage.table.count)
    } setup: {
        ConntrackFixture.frames((0..<1_000_000).map(ConntrackFixture.key), flags: [.syn])
    }
}
