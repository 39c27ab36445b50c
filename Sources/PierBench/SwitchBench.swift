import Dataplane
import Wire

/// `pier bench switch`: the whole pipeline (classify, bridge, local, route, output) over
/// batches of 64-byte frames between 4,096 stations on one 16-port bridge, each frame copied
/// into a pool frame first as a TAP read would: what a bridge port costs end to end, beside
/// the table-only `bridge` stage.
package enum SwitchBench {
    /// Counts what leaves, so nothing is optimized away.
    struct CountingSink: FrameSink {
        var frames = 0
        mutating func send(_ frame: borrowing Frame, to port: PortID) { frames &+= 1 }
    }

    /// Runs `packets` frames (rounded down to whole batches) through the pipeline.
    package static func run(packets: Int, meter: BenchMeter) -> BenchResult {
        let ports = (0..<16).map { PortID(rawValue: UInt16($0)) }
        let config = PipelineConfig(ports: ports.map { PipelineConfig.Port(name: "p\($0.rawValue)", bridge: 0) },
                                    bridges: [PipelineConfig.Bridge(name: "br0", ports: ports, fdbCapacity: 8_192)])
        let pool = FramePool(limit: 256, preallocated: 128)
        let pipeline = Pipeline(config: config, pool: pool)
        var random = SplitMix64(seed: 4_096)
        let stations = (0..<4_096).map { index in
            MACAddress(rawValue: 0x0242_0000_0000 | UInt64(index) << 8 | UInt64(random.next() & 0xF0))
        }
        // 1,024 distinct frames between random stations, each from the station's own port.
        let frames: [(bytes: [UInt8], port: PortID)] = (0..<1_024).map { _ in
            let source = stations[Int(random.next() % 4_096)], destination = stations[Int(random.next() % 4_096)]
            var bytes = SyntheticFrames.tcp(sourceMAC: source, destinationMAC: destination,
                                            source: IPv4Address(10, 0, 0, 1), destination: IPv4Address(10, 0, 0, 2),
                                            sourcePort: 1_000, destinationPort: 80)
            bytes += [UInt8](repeating: 0, count: max(0, 64 - bytes.count))
            return (bytes, PortID(rawValue: UInt16(source.rawValue >> 8 & 0xF)))
        }
        var sink = CountingSink()
        var batch = Batch(keepsFrames: true)
        var now = Timestamp(seconds: 1_000, nanoseconds: 0)
        // Learn every station once, so the run measures the steady state.
        for station in stations {
            var frame = pool.take()
            let bytes = SyntheticFrames.tcp(sourceMAC: station, destinationMAC: stations[0], source: IPv4Address(10, 0, 0, 1),
                                            destination: IPv4Address(10, 0, 0, 2), sourcePort: 1, destinationPort: 2)
            bytes.withUnsafeBytes { frame.replaceContents(with: $0) }
            frame.inputPort = PortID(rawValue: UInt16(station.rawValue >> 8 & 0xF))
            frame.timestamp = now
            batch.append(frame)
            if batch.isFull { pipeline.process(&batch, into: &sink) }
        }
        pipeline.process(&batch, into: &sink)
        let count = packets / 64 * 64
        let result = meter.measure(stage: "switch-4096", frames: count) {
            var cursor = 0
            for _ in 0..<(count / 64) {
                for _ in 0..<64 {
                    // Copied into a frame the batch keeps, as the live switch reads a TAP device.
                    _ = batch.refill(from: pool) { frame in
                        frames[cursor].bytes.withUnsafeBytes { frame.replaceContents(with: $0) }
                        frame.inputPort = frames[cursor].port
                        frame.timestamp = now
                        return true
                    }
                    cursor = (cursor + 1) & 1_023
                }
                pipeline.process(&batch, into: &sink)
                now.nanoseconds += 2_000
            }
        }
        blackHole(sink.frames)
        return result
    }
}
