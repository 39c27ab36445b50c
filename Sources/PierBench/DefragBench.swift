/// `pier bench defrag`: reassembly of two-fragment datagrams (2,000 bytes of TCP each) through the defrag stage's
/// real path (`DefragWorkload`); reported as datagrams (half the fragments) per second.
package enum DefragBench {
    /// Two-fragment datagrams reassembled per second, over `packets` fragments (at least 64).
    package static func run(packets: Int, meter: BenchMeter) -> BenchResult {
        let workload = DefragWorkload()
        workload.run(frames: 64 * 64)  // warm: the pool and the table's frames
        let frames = max(64, packets / 64 * 64)
        let before = workload.reassembled
        var result = meter.measure(stage: "defrag-2", frames: frames / 2) { workload.run(frames: frames) }
        precondition(workload.reassembled - before == frames / 2, "every datagram should have been reassembled")
        result.memoryBytesPerEntry = nil
        return result
    }
}
