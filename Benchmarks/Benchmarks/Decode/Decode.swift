// Throughput of the decoder: a flannel-style VXLAN frame (Ethernet, IPv4, UDP, VXLAN,
// Ethernet, IPv4, TCP) decoded in full into a DecodedFrame; one iteration is one frame,
// taken in turn from a batch of 64 distinct flows.
// Target (issue: foundation): >= 40 Mpps on one core, zero allocations per frame.
import Benchmark
import BenchmarkDefaults
import Dataplane
import Wire

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .pierStage()

    Benchmark("DecodeVXLANInnerTCP") { benchmark in
        var batch = Batch()
        for flow in 0..<Batch.capacity {
            let inner = SyntheticFrames.tcp(source: IPv4Address(10, 244, 1, UInt8(2 + flow)),
                                            destination: IPv4Address(10, 244, 2, 7),
                                            sourcePort: UInt16(40_000 + flow), destinationPort: 8080)
            batch.append(Frame(bytes: SyntheticFrames.vxlan(inner: inner, sourcePort: UInt16(49_152 + flow))))
        }
        let decoder = FrameDecoder()
        var decoded = DecodedFrame()
        var sink = 0
        benchmark.startMeasurement()
        for iteration in benchmark.scaledIterations {
            decoder.decode(batch[iteration & (Batch.capacity - 1)].bytes, into: &decoded)
            sink &+= decoded.layerCount
        }
        benchmark.stopMeasurement()
        blackHole(sink)
    }
}
