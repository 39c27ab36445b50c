import Dataplane
import Wire

/// `ConntrackWorkload` for IPv6 (`pier bench conntrack`'s `conntrack6-10k`): a node with one
/// uplink (2001:db8:1::19/64) masquerading fd00::/16, fed 74-byte Ethernet/IPv6/TCP frames the
/// same way, 64 at a time through `prepare` then `process(_:at:)`: the established IPv6 path
/// (two address hashes, the lookup, the address check, the rewrite), to compare with IPv4's.
public final class ConntrackWorkload6: @unchecked Sendable {
    /// The node's uplink address, the MASQUERADE source of every connection.
    package static let node = IPv6Address(high: 0x2001_0DB8_0001_0000, low: 0x19)
    /// The bytes of one template frame (Ethernet, IPv6 and TCP headers, no payload).
    package static let frameLength = 74

    /// The stage under measurement.
    package let stage: ConntrackStage
    /// The pool the frames are taken from and recycled into.
    package let pool = FramePool(limit: 256, preallocated: 128)
    /// The frames to replay, back to back.
    package var templates: [UInt8] = []
    private var cursor = 0
    private let now = Timestamp(seconds: 1_000, nanoseconds: 0)

    /// The connections in the stage's table.
    package var connectionCount: Int { stage.table.count }
    /// The stage's table in bytes (records, free list, index, IPv6 addresses).
    package var tableMemoryBytes: Int { stage.table.memoryBytes }

    /// An empty table of `capacity` connections.
    package init(capacity: Int) {
        let uplink = PortID(rawValue: 0)
        var config = PipelineConfig(
            ports: [PipelineConfig.Port(name: "eth0", interface: 0)],
            interfaces: [PipelineConfig.Interface(name: "eth0", mac: MACAddress(rawValue: 0x0200_C0A8_0119),
                                                  ipv6: [IPv6Prefix(address: Self.node, length: 64)], attachment: .port(uplink))],
            routes6: [PipelineConfig.Route6(prefix: IPv6Prefix(address: .any, length: 0), interface: 0,
                                            gateway: IPv6Address(high: Self.node.high, low: 1))])
        config.nat.masquerade6 = [NATRules.Masquerade6(source: IPv6Prefix(address: IPv6Address(high: 0xFD00 << 48, low: 0), length: 16),
                                                       out: uplink)]
        config.conntrack = ConntrackSettings(capacity: capacity)
        stage = ConntrackStage(context: PipelineContext(config: config, pool: pool), routes: RoutingTable(config: config))
    }

    /// Connection `index`: container fd00::x port 20000–20255 to its own outside address
    /// 2001:db8:ff::index, port 443; as (source, destination, source port, destination port).
    static func flow(_ index: Int) -> (IPv6Address, IPv6Address, UInt16, UInt16) {
        (IPv6Address(high: 0xFD00 << 48, low: UInt64(index >> 8)), IPv6Address(high: 0x2001_0DB8_00FF_0000, low: UInt64(index)),
         UInt16(20_000 + index & 0xFF), 443)
    }

    /// An Ethernet/IPv6/TCP frame with no payload.
    package static func frame(_ source: IPv6Address, _ destination: IPv6Address, _ sourcePort: UInt16, _ destinationPort: UInt16,
                      flags: TCPFlags) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: frameLength)
        bytes.withMutableRawSpan { span in
            EthernetRepr(destination: MACAddress(0x02, 0, 0, 0, 0, 0x02), source: MACAddress(0x02, 0, 0, 0, 0, 0x01), etherType: .ipv6)
                .emit(into: &span)
            var ip = span.mutableSlice(from: EthernetHeader.length)
            IPv6Repr(source: source, destination: destination, nextHeader: .tcp, payloadLength: TCPHeader.minimumLength).emit(into: &ip)
            var l4 = ip.mutableSlice(from: IPv6Header.length)
            let sum = InternetChecksum.pseudoHeaderSum(source: source, destination: destination, protocol: .tcp, length: TCPHeader.minimumLength)
            TCPRepr(sourcePort: sourcePort, destinationPort: destinationPort, sequence: 1, acknowledgment: 1, flags: flags)
                .emit(into: &l4, pseudoHeaderSum: sum)
        }
        return bytes
    }

    /// `count` masqueraded connections opened (a multiple of 64), and as templates the replies
    /// from the outside to the node in the order `ConntrackWorkload.established` uses.
    package static func established(_ count: Int) -> ConntrackWorkload6 {
        let workload = ConntrackWorkload6(capacity: count)
        workload.templates = (0..<count).flatMap { index in
            let (source, destination, sourcePort, destinationPort) = flow(index)
            return frame(source, destination, sourcePort, destinationPort, flags: [.syn])
        }
        workload.run(frames: count)
        var random = SplitMix64(seed: UInt64(count))
        var order = Array(0..<count)
        for index in stride(from: count - 1, to: 0, by: -1) { order.swapAt(index, Int(random.next() % UInt64(index + 1))) }
        workload.templates = order.flatMap { index in
            let (_, destination, sourcePort, destinationPort) = flow(index)
            return frame(destination, node, destinationPort, sourcePort, flags: [.ack])
        }
        workload.cursor = 0
        return workload
    }

    /// Runs `count` frames (a multiple of 64; cycling through `templates`) through the stage.
    package func run(frames count: Int) {
        var batch = Batch(keepsFrames: true)
        let length = Self.frameLength
        let frames = templates.count / length
        var cursor = self.cursor
        defer { self.cursor = cursor }
        templates.withUnsafeBytes { all in
            for _ in 0..<(count / 64) {
                for _ in 0..<64 {
                    _ = batch.refill(from: pool) { frame in
                        frame.replaceContents(with: UnsafeRawBufferPointer(rebasing: all[(cursor * length)..<(cursor * length + length)]))
                        var layers = LayerOffsets()
                        (layers.network, layers.transport, layers.networkType, layers.transportProtocol) = (14, 54, .ipv6, .tcp)
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
