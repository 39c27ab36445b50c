import Dataplane
import Wire

/// The reassembly benchmark workload (`pier bench defrag`): a defrag stage on a node with one
/// uplink, fed two-fragment TCP segments (2,000 bytes of TCP: fragments of 1,500 and 548
/// bytes of IPv4, each datagram its own identification) copied 64 frames at a time into pool
/// frames the batch keeps, as the live switch reads its TAP devices, through the stage's
/// real path: each first fragment waits in a pool frame, each second one completes its
/// datagram, which is classified again.
///
/// Not thread-safe: one benchmark thread uses a workload at a time.
public final class DefragWorkload: @unchecked Sendable {
    /// The stage under measurement.
    package let stage: DefragStage
    /// The counters, to check that every datagram was reassembled.
    package let counters: PipelineCounters
    /// The pool the frames come from.
    package let pool = FramePool(limit: 512, preallocated: 256)
    /// The fragments to replay, in order, each `frameLength` bytes apart (shorter ones padded).
    private var templates: [UInt8] = []
    private var lengths: [Int] = []
    private var cursor = 0
    /// Bytes between the starts of two templates.
    static let stride = 1_514
    /// The datagrams in the templates (the identifications cycle through them).
    static let datagrams = 4_096

    /// Makes the stage and the fragments of `datagrams` datagrams.
    public init() {
        let uplink = PortID(rawValue: 0)
        let config = PipelineConfig(
            ports: [PipelineConfig.Port(name: "eth0", interface: 0)],
            interfaces: [PipelineConfig.Interface(name: "eth0", mac: MACAddress(rawValue: 0x0200_C0A8_0119),
                                                  ipv4: [IPv4Prefix(address: IPv4Address(192, 168, 1, 25), length: 24)], attachment: .port(uplink))])
        let context = PipelineContext(config: config, pool: pool)
        counters = context.counters
        stage = DefragStage(context: context)
        for id in 0..<Self.datagrams {
            var whole = SyntheticFrames.tcp(source: IPv4Address(198, 51, 100, 7), destination: IPv4Address(192, 168, 1, 25),
                                            sourcePort: 443, destinationPort: 40_000, payloadLength: 2_000 - 20)
            whole[18] = UInt8(id >> 8)
            whole[19] = UInt8(id & 0xFF)
            for (offset, count, more) in [(0, 1_480, true), (1_480, 2_000 - 1_480, false)] {
                var piece = Array(whole[0..<34]) + whole[(34 + offset)..<(34 + offset + count)]
                let total = 20 + count
                piece[16] = UInt8(total >> 8)
                piece[17] = UInt8(total & 0xFF)
                let word = UInt16(offset / 8) | (more ? 0x2000 : 0)
                piece[20] = UInt8(word >> 8)
                piece[21] = UInt8(word & 0xFF)
                piece[24] = 0
                piece[25] = 0
                let checksum = piece.withUnsafeBytes { InternetChecksum.checksum(RawSpan(_unsafeBytes: UnsafeRawBufferPointer(rebasing: $0[14..<34]))) }
                piece[24] = UInt8(checksum >> 8)
                piece[25] = UInt8(checksum & 0xFF)
                lengths.append(piece.count)
                templates += piece + [UInt8](repeating: 0, count: Self.stride - piece.count)
            }
        }
    }

    /// Datagrams reassembled so far.
    public var reassembled: Int { counters.value(.reassembled) }

    /// Runs `count` fragments (a multiple of 64) through the stage in batches of 64.
    public func run(frames count: Int) {
        var batch = Batch(keepsFrames: true)
        let frames = lengths.count
        var cursor = self.cursor
        defer { self.cursor = cursor }
        let now = Timestamp(seconds: 1_000, nanoseconds: 0)
        templates.withUnsafeBytes { all in
            for _ in 0..<(count / 64) {
                for _ in 0..<64 {
                    let start = cursor * Self.stride, length = lengths[cursor]
                    let isFirst = cursor % 2 == 0
                    _ = batch.refill(from: pool) { frame in
                        frame.replaceContents(with: UnsafeRawBufferPointer(rebasing: all[start..<(start + length)]))
                        frame.originalLength = length
                        frame.layers = isFirst ? LayerOffsets(untagged: .ipv4, transport: .tcp, at: 20) : LayerOffsets(untagged: .ipv4)
                        frame.verdict = .toInterface(0)
                        frame.timestamp = now
                        return true
                    }
                    cursor += 1
                    if cursor == frames { cursor = 0 }
                }
                stage.expectFragments()  // classify's note: its general decoder took these frames
                stage.run(&batch)
                batch.recycleAll(into: pool)
            }
        }
    }
}
