import Dataplane
import Wire

/// The decode benchmark: a batch of 64 flannel-style VXLAN frames (inner TCP, 64 distinct
/// flows), each decoded in full down to the inner TCP header, again and again.
enum DecodeBench {
    static func run(packets: Int) -> BenchResult {
        var batch = Batch()
        for flow in 0..<Batch.capacity {
            let inner = SyntheticFrames.tcp(source: IPv4Address(10, 244, 1, UInt8(2 + flow % 200)),
                                            destination: IPv4Address(10, 244, 2, 7),
                                            sourcePort: UInt16(40_000 + flow), destinationPort: 8080)
            let outer = SyntheticFrames.vxlan(inner: inner, sourcePort: UInt16(49_152 + flow))
            batch.append(Frame(bytes: outer))
        }
        let decoder = FrameDecoder()
        // Sanity: the frame decodes to the seven expected layers with no error.
        let check = decoder.decode(batch[0].bytes)
        precondition(check.layerCount == 7 && check.error == nil && check.layers[6].kind == .tcp,
                     "the synthetic VXLAN frame did not decode to its inner TCP header")
        var sink = 0
        var decoded = DecodedFrame()
        let result = measure(stage: "decode", frames: packets) {
            var remaining = packets
            while remaining > 0 {
                let count = min(remaining, batch.count)
                for index in 0..<count {
                    decoder.decode(batch[index].bytes, into: &decoded)
                    sink &+= decoded.layerCount &+ decoded.layers[6].offset
                }
                remaining -= count
            }
        }
        blackHole(sink)
        return result
    }
}

/// Keeps `value` alive so the optimizer cannot drop the work that produced it.
@inline(never)
func blackHole(_ value: Int) {
    if value == Int.min { standardOutput("") }
}
