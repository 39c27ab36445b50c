/// `pier bench decode`: Wire's `FrameDecoder` over flannel-style VXLAN frames, down to their
/// inner TCP header. The workload is `DecodeWorkload`, the one Benchmarks/Decode runs.
package enum DecodeBench {
    /// Decodes `packets` frames.
    package static func run(packets: Int, meter: BenchMeter) -> BenchResult {
        let workload = DecodeWorkload()
        var sink = 0
        let result = meter.measure(stage: "decode", frames: packets) { sink = workload.run(frames: packets) }
        blackHole(sink)
        return result
    }
}
