import Dataplane
import Wire

/// The conntrack + NAT benchmark workload, shared by `pier bench conntrack nat` and the
/// Benchmarks package's Conntrack suite so that both measure the same thing: a conntrack stage
/// on a node with one uplink (192.168.1.25/24) and MASQUERADE of 10.0.0.0/8, fed 54-byte
/// Ethernet/IPv4/TCP frames that are copied 64 at a time into pool frames the batch keeps (as
/// the live switch reads its TAP devices) and run through the stage's real per-packet path,
/// `prepare` over the batch then `process(_:at:)` on each frame, as the pipeline does.
///
/// Not thread-safe: one benchmark thread uses a workload at a time.
public final class ConntrackWorkload: @unchecked Sendable {
    /// The node's uplink address, the MASQUERADE source of every outgoing connection.
    package static let node = IPv4Address(192, 168, 1, 25)
    /// The bytes of one template frame (Ethernet, IPv4 and TCP headers, no payload).
    package static let frameLength = 54

    /// The stage under measurement.
    package let stage: ConntrackStage
    /// The pool the frames are taken from and recycled into.
    package let pool = FramePool(limit: 256, preallocated: 128)
    /// The frames to replay, `frameLength` bytes each, back to back.
    public var templates: [UInt8] = []
    /// The next template to replay: each run picks up where the last one stopped.
    package var cursor = 0
    /// The timestamp every frame carries (the clock does not move: nothing ages).
    package let now = Timestamp(seconds: 1_000, nanoseconds: 0)

    /// The connections in the stage's table.
    public var connectionCount: Int { stage.table.count }
    /// The stage's table in bytes (records, free list, index).
    package var tableMemoryBytes: Int { stage.table.memoryBytes }

    /// An empty table of `capacity` connections.
    public init(capacity: Int) {
        let uplink = PortID(rawValue: 0)
        var config = PipelineConfig(
            ports: [PipelineConfig.Port(name: "eth0", interface: 0)],
            interfaces: [PipelineConfig.Interface(name: "eth0", mac: MACAddress(rawValue: 0x0200_C0A8_0119),
                                                  ipv4: [IPv4Prefix(address: Self.node, length: 24)], attachment: .port(uplink))],
            routes4: [PipelineConfig.Route4(prefix: IPv4Prefix(address: .any, length: 0), interface: 0,
                                            gateway: IPv4Address(rawValue: Self.node.rawValue & 0xFFFF_FF00 | 1))])
        config.nat = NATRules(masquerade: [NATRules.Masquerade(source: IPv4Prefix(address: IPv4Address(10, 0, 0, 0), length: 8), out: uplink)])
        config.conntrack = ConntrackSettings(capacity: capacity)
        stage = ConntrackStage(context: PipelineContext(config: config, pool: pool), routes: RoutingTable(config: config))
    }

    /// Connection `index`: container 10.x.y.z port 20000–20255 to its own outside address, port 443.
    package static func key(_ index: Int) -> FlowKey {
        FlowKey(source: IPv4Address(rawValue: 0x0A00_0000 | UInt32(index >> 8)),
                destination: IPv4Address(rawValue: 0xCB00_0000 | UInt32(index)),
                sourcePort: UInt16(20_000 + index & 0xFF), destinationPort: 443, protocol: .tcp)
    }

    /// The frames of `keys` back to back, `frameLength` bytes each.
    package static func frames(_ keys: [FlowKey], flags: TCPFlags) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(keys.count * frameLength)
        for key in keys {
            bytes += SyntheticFrames.tcp(source: key.source, destination: key.destination,
                                         sourcePort: key.sourcePort, destinationPort: key.destinationPort, flags: flags)
        }
        return bytes
    }

    /// The SYNs opening connections `0..<count`, in order.
    public static func syns(_ count: Int) -> [UInt8] { frames((0..<count).map(key), flags: [.syn]) }

    /// `count` masqueraded connections opened (a multiple of 64) in a table of `capacity`
    /// (default `count`), and as templates the replies from the outside to the node, one per
    /// connection in a random order fixed by `count` (a Fisher–Yates shuffle drawn from
    /// `SplitMix64`, the same on every run and platform).
    public static func established(_ count: Int, capacity: Int? = nil) -> ConntrackWorkload {
        let workload = ConntrackWorkload(capacity: capacity ?? count)
        workload.templates = syns(count)
        workload.run(frames: count)
        var random = SplitMix64(seed: UInt64(count))
        var order = Array(0..<count)
        for index in stride(from: count - 1, to: 0, by: -1) { order.swapAt(index, Int(random.next() % UInt64(index + 1))) }
        workload.templates = frames(order.map { key($0).withSource(node, port: key($0).sourcePort).reversed }, flags: [.ack])
        workload.cursor = 0
        return workload
    }

    /// Runs `count` frames (a multiple of 64; cycling through `templates`) through the stage
    /// in batches of 64.
    public func run(frames count: Int) {
        var batch = Batch(keepsFrames: true)
        let length = Self.frameLength
        let frames = templates.count / length
        var cursor = self.cursor
        defer { self.cursor = cursor }
        templates.withUnsafeBytes { all in
            for _ in 0..<(count / 64) {
                for _ in 0..<64 {
                    // Filled in its batch slot (refill is inlinable): from this module a pool
                    // take, a move and an append per frame cost a fifth more time.
                    _ = batch.refill(from: pool) { frame in
                        frame.replaceContents(with: UnsafeRawBufferPointer(rebasing: all[(cursor * length)..<(cursor * length + length)]))
                        var layers = LayerOffsets()
                        (layers.network, layers.transport, layers.networkType, layers.transportProtocol) = (14, 34, .ipv4, .tcp)
                        frame.layers = layers
                        frame.verdict = .toInterface(0)
                        frame.timestamp = now
                        return true
                    }
                    cursor += 1
                    if cursor == frames { cursor = 0 }
                }
                stage.prepare(&batch)
                for index in 0..<batch.count { stage.process(&batch[index], at: index) }
                batch.recycleAll(into: pool)
            }
        }
    }
}
