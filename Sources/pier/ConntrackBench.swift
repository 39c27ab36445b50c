import Dataplane
import Wire

/// `pier bench conntrack nat`: the conntrack stage's own per-packet work, through its real
/// code path (`ConntrackStage.process`), on 54-byte TCP frames copied into pool frames first
/// as a TAP read would, in batches of 64.
///
/// - `conntrack-10k`, `conntrack-1M`: established, masqueraded connections; every frame is a
///   reply from the outside to a random one of them: key read, table lookup, timer and state
///   update, NAT rewrite with the precomputed checksum deltas.
/// - `nat-new`: new connections, each a SYN from a container to a new destination: DNAT
///   check, egress, MASQUERADE with the unique-port check, insertion under both keys, rewrite.
///   Reported as frames (= connections) per second.
enum ConntrackBench {
    static let node = IPv4Address(192, 168, 1, 25)

    /// The stage on a node with one uplink (the node IP) and MASQUERADE of 10.0.0.0/8.
    static func stage(capacity: Int) -> (ConntrackStage, FramePool) {
        let uplink = PortID(rawValue: 0)
        var config = PipelineConfig(
            ports: [PipelineConfig.Port(name: "eth0", interface: 0)],
            interfaces: [PipelineConfig.Interface(name: "eth0", mac: MACAddress(rawValue: 0x0200_C0A8_0119),
                                                  ipv4: [IPv4Prefix(address: node, length: 24)], attachment: .port(uplink))])
        config.nat = NATRules(masquerade: [NATRules.Masquerade(source: IPv4Prefix(address: IPv4Address(10, 0, 0, 0), length: 8), out: uplink)])
        config.conntrack = ConntrackSettings(capacity: capacity)
        let pool = FramePool(limit: 256, preallocated: 128)
        return (ConntrackStage(context: PipelineContext(config: config, pool: pool)) { _ in 0 }, pool)
    }

    /// Connection `i`: container 10.x.y.z port 20000–20255 to its own outside address, port 443.
    static func key(_ index: Int) -> FlowKey {
        FlowKey(source: IPv4Address(rawValue: 0x0A00_0000 | UInt32(index >> 8)),
                destination: IPv4Address(rawValue: 0xCB00_0000 | UInt32(index)),
                sourcePort: UInt16(20_000 + index & 0xFF), destinationPort: 443, protocol: .tcp)
    }

    /// The frames of `keys` back to back, 54 bytes each.
    static func frames(_ keys: [FlowKey], flags: TCPFlags) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(keys.count * 54)
        for key in keys {
            bytes += SyntheticFrames.tcp(source: key.source, destination: key.destination,
                                         sourcePort: key.sourcePort, destinationPort: key.destinationPort, flags: flags)
        }
        return bytes
    }

    /// Runs `count` frames (cycling through `templates`) through `stage` in batches of 64.
    static func drive(_ stage: ConntrackStage, pool: FramePool, templates: [UInt8], count: Int, now: Timestamp) {
        var batch = Batch()
        let frames = templates.count / 54
        templates.withUnsafeBytes { all in
            var cursor = 0
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

    /// New connections per second: `min(packets, 1M)` SYNs into an empty table.
    static func newConnections(packets: Int) -> BenchResult {
        let count = max(64, min(packets, 1_000_000) / 64 * 64)
        let (stage, pool) = stage(capacity: count)
        let syns = frames((0..<count).map(key), flags: [.syn])
        var result = measure(stage: "nat-new", frames: count) {
            drive(stage, pool: pool, templates: syns, count: count, now: Timestamp(seconds: 1_000, nanoseconds: 0))
        }
        precondition(stage.table.count == count, "every SYN should have opened a connection")
        result.memoryBytesPerEntry = Double(stage.table.memoryBytes) / Double(count)
        return result
    }

    /// Established lookup + rewrite over `connections` masqueraded connections.
    static func established(connections: Int, packets: Int, label: String) -> BenchResult {
        let (stage, pool) = stage(capacity: connections)
        let count = connections / 64 * 64
        let now = Timestamp(seconds: 1_000, nanoseconds: 0)
        drive(stage, pool: pool, templates: frames((0..<count).map(key), flags: [.syn]), count: count, now: now)
        // Replies from the outside to the node, in a random order of connections.
        var random = SplitMix64(seed: UInt64(connections))
        var order = Array(0..<count)
        for index in stride(from: count - 1, to: 0, by: -1) { order.swapAt(index, Int(random.next() % UInt64(index + 1))) }
        let replies = frames(order.map { key($0).withSource(node, port: key($0).sourcePort).reversed }, flags: [.ack])
        let frames = packets / 64 * 64
        var result = measure(stage: "conntrack-\(label)", frames: frames) {
            drive(stage, pool: pool, templates: replies, count: frames, now: now)
        }
        result.memoryBytesPerEntry = Double(stage.table.memoryBytes) / Double(connections)
        return result
    }
}
