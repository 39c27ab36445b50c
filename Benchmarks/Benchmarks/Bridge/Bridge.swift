// Throughput of the bridge's MAC learning table (FDB): per frame, learn the source MAC on its
// input port and look up the destination, as Linux's br_handle_frame_finish does. One
// iteration is one frame; frames are (source, destination) pairs drawn at random from N
// stations and handled 64 at a time, the way a bridge stage sees a batch: first the slots of
// all 128 MACs are prefetched, then the 64 frames are learned and looked up.
// Targets (issue: bridge FDB): >= 30 Mpps with 4,096 stations and >= 15 Mpps with 1,048,576
// (a table bigger than the caches, where the prefetching pays), zero allocations per frame.
// The workload is PierBench's BridgeWorkload, the same one `pier bench bridge` runs.
import Benchmark
import BenchmarkDefaults
import PierBench

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .pierStage(drift: 15)

    // 1,000,000 frames a measured iteration (scalingFactor .mega), a multiple of 64.
    for (name, stations) in [("BridgeFDB-4096", 4_096), ("BridgeFDB-1M", 1 << 20)] {
        stageBenchmark(name) { BridgeWorkload(stations: stations) } run: { $0.run(frames: $1) }
    }
}
