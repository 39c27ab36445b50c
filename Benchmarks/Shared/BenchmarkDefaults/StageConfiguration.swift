import Benchmark

extension Benchmark.Configuration {
    /// The configuration every Pier stage benchmark starts from: throughput, wall clock and
    /// mallocs per run, in nanoseconds, a million iterations (frames or lookups) per measured
    /// run, at most 3 s a benchmark, and a threshold of zero mallocs at the 90th percentile
    /// (no heap allocation per packet on the hot path). `drift`, when given, also fails a
    /// comparison whose median of each of `metrics` moved by more than that many percent.
    public static func pierStage(drift: Double? = nil, of metrics: [BenchmarkMetric] = [.throughput, .wallClock]) -> Self {
        var thresholds: [BenchmarkMetric: BenchmarkThresholds] = [.mallocCountTotal: .init(absolute: [.p90: 0])]
        if let drift {
            for metric in metrics { thresholds[metric] = .init(relative: [.p50: drift]) }
        }
        return .init(metrics: [.throughput, .wallClock, .mallocCountTotal],
                     timeUnits: .nanoseconds,
                     scalingFactor: .mega,
                     maxDuration: .seconds(3),
                     thresholds: thresholds)
    }
}

/// Registers the benchmark `name` over a workload: `setup` builds the workload once, before
/// the measured runs; each run measures `run` on it with the run's iteration count (frames or
/// lookups, a million under `pierStage`), and passes its result to `blackHole` so that the
/// work is not optimized away.
public func stageBenchmark<Workload, Result>(_ name: String, setup: @escaping () -> Workload,
                                             run: @escaping (Workload, Int) -> Result) {
    Benchmark(name) { benchmark, workload in
        benchmark.startMeasurement()
        let result = run(workload, benchmark.scaledIterations.count)
        benchmark.stopMeasurement()
        blackHole(result)
    } setup: {
        setup()
    }
}
