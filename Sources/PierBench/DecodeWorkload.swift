import Dataplane
import Wire

/// The decode benchmark workload, shared by `pier bench decode` and the Benchmarks package's
/// Decode suite so that both measure the same thing: a batch of 64 flannel-style VXLAN frames
/// (inner TCP, 64 distinct flows), each decoded in turn in full down to the inner TCP header
/// (Ethernet, IPv4, UDP, VXLAN, Ethernet, IPv4, TCP) into a `DecodedFrame`.
///
/// Not thread-safe: one benchmark thread uses a workload at a time.
public final class DecodeWorkload: @unchecked Sendable {
    /// The frames, one per flow.
    let batch: Batch
    /// The decoder under measurement.
    let decoder = FrameDecoder()
    /// The next frame to decode: each run picks up where the last one stopped.
    var cursor = 0

    /// Builds the frames and checks that the first decodes to the seven expected layers.
    public init() {
        var batch = Batch()
        for flow in 0..<Batch.capacity {
            let inner = SyntheticFrames.tcp(source: IPv4Address(10, 244, 1, UInt8(2 + flow % 200)),
                                            destination: IPv4Address(10, 244, 2, 7),
                                            sourcePort: UInt16(40_000 + flow), destinationPort: 8080)
            batch.append(Frame(bytes: SyntheticFrames.vxlan(inner: inner, sourcePort: UInt16(49_152 + flow))))
        }
        self.batch = batch
        let check = decoder.decode(self.batch[0].bytes)
        precondition(check.layerCount == 7 && check.error == nil && check.layers[6].kind == .tcp,
                     "the synthetic VXLAN frame did not decode to its inner TCP header")
    }

    /// Decodes `count` frames in turn; returns a checksum of their layer counts and inner TCP
    /// offsets, so that nothing is optimized away.
    public func run(frames count: Int) -> Int {
        var sink = 0
        var decoded = DecodedFrame()
        var cursor = self.cursor
        defer { self.cursor = cursor }
        for _ in 0..<count {
            decoder.decode(batch[cursor].bytes, into: &decoded)
            sink &+= decoded.layerCount &+ decoded.layers[6].offset
            cursor = (cursor + 1) & (Batch.capacity - 1)
        }
        return sink
    }
}
