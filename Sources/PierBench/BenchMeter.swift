/// Times a stage's run and counts the heap allocations it makes, with the counter the binary
/// provides: `pier` interposes `malloc` (CAllocCounter), which only an executable may link,
/// so this library takes the count as a function.
package struct BenchMeter {
    /// The process's malloc-family calls so far.
    package var allocationCount: () -> UInt64

    /// A meter reading allocations from `allocationCount`.
    package init(allocationCount: @escaping () -> UInt64) {
        self.allocationCount = allocationCount
    }

    /// Measures `body`'s wall time and heap allocations over `frames` frames.
    package func measure(stage: String, frames: Int, _ body: () -> Void) -> BenchResult {
        let allocationsBefore = allocationCount()
        let started = ContinuousClock.now
        body()
        let duration = ContinuousClock.now - started
        return BenchResult(stage: stage, frames: frames, duration: duration,
                           allocations: allocationCount() - allocationsBefore)
    }
}
