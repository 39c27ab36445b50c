/// One stage's measurement by `pier bench`: the frames run, the wall time and heap
/// allocations they took, and for table stages the table's bytes per entry. `pier bench`
/// prints it as a line or a JSON object.
package struct BenchResult {
    /// The stage's name as printed (`decode`, `bridge-4096`, `conntrack-1M`, …).
    package var stage: String
    /// The frames (or lookups, or connections) measured.
    package var frames: Int
    /// The wall time they took.
    package var duration: Duration
    /// The heap allocations made meanwhile (zero where the binary does not count them).
    package var allocations: UInt64
    /// For table stages: bytes of table per entry (FDB station, route, connection).
    package var memoryBytesPerEntry: Double?

    /// `duration` in seconds.
    package var seconds: Double { Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18 }
    /// Wall time per frame, in nanoseconds.
    package var nanosecondsPerFrame: Double { seconds * 1e9 / Double(frames) }
    /// Millions of frames per second.
    package var mpps: Double { Double(frames) / seconds / 1e6 }
    /// Heap allocations per frame.
    package var allocationsPerFrame: Double { Double(allocations) / Double(frames) }
}
