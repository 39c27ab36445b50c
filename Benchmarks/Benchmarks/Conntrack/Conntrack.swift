// Throughput of conntrack + NAT (issue 4), through the stage's real per-packet path
// (`ConntrackStage.process`, after its batch prefetch): 54-byte TCP frames copied into pool
// frames 64 at a time, as a TAP read would.
// - ConntrackEstablished-10k / -1M: replies from the outside to random ones of N masqueraded
//   connections: lookup by either key, state and timer update, rewrite with precomputed
//   checksum deltas. Targets: >= 10 Mpps with 10,000 connections, >= 3 Mpps with 1,000,000.
// - ConntrackNew: SYNs from containers, each a new masqueraded connection (egress, unique
//   port check, insertion under both keys, rewrite). Target: >= 1,000,000 per second.
// Zero allocations per frame. The workload is PierBench's ConntrackWorkload, the same one
// `pier bench conntrack nat` runs.
import Benchmark
import BenchmarkDefaults
import PierBench

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .pierStage(drift: 15)

    for (name, connections) in [("ConntrackEstablished-10k", 9_984), ("ConntrackEstablished-1M", 999_936)] {
        stageBenchmark(name) { ConntrackWorkload.established(connections) } run: { workload, count in
            workload.run(frames: count / 64 * 64)
            return workload.connectionCount
        }
    }

    // Each iteration opens 999,936 connections into a fresh table (made before the measurement).
    Benchmark("ConntrackNew") { benchmark, templates in
        let fixture = ConntrackWorkload(capacity: 1_000_000)
        fixture.templates = templates
        benchmark.startMeasurement()
        fixture.run(frames: benchmark.scaledIterations.count / 64 * 64)
        benchmark.stopMeasurement()
        blackHole(fixture.connectionCount)
    } setup: {
        ConntrackWorkload.syns(1_000_000)
    }
}
