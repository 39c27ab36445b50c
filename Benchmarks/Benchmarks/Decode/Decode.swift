// Throughput of the decoder: a flannel-style VXLAN frame (Ethernet, IPv4, UDP, VXLAN,
// Ethernet, IPv4, TCP) decoded in full into a DecodedFrame; one iteration is one frame,
// taken in turn from a batch of 64 distinct flows.
// Target (issue: foundation): >= 40 Mpps on one core, zero allocations per frame.
// The workload is PierBench's DecodeWorkload, the same one `pier bench decode` runs.
import Benchmark
import BenchmarkDefaults
import PierBench

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .pierStage()

    stageBenchmark("DecodeVXLANInnerTCP") { DecodeWorkload() } run: { $0.run(frames: $1) }
}
