import Dataplane
import PacketIO
import Testing

/// The merge of several captures: order by timestamp, the port each frame enters at, and
/// damage: every good record read before it is returned, then the damaged input's error.
struct CaptureMergerTests {
    /// A capture of `count` good 60-byte records a millisecond apart from `start`, then (when
    /// `cut`) a record whose bytes stop short.
    static func capture(_ count: Int, start: UInt32, fill: UInt8, cut: Bool, in directory: TemporaryDirectory, name: String) throws -> String {
        var builder = PcapBuilder(snapLength: 65535)
        for index in 0..<count {
            builder.addRecord(capturedLength: 60, seconds: 1_700_000_000, fraction: start + UInt32(index) * 1_000, fill: fill)
        }
        var bytes = builder.bytes
        if cut {
            builder.addRecord(capturedLength: 60, seconds: 1_700_000_000, fraction: start + UInt32(count) * 1_000, fill: fill)
            bytes = Array(builder.bytes.dropLast(50))
        }
        return try directory.write(bytes, to: name)
    }

    /// Reads the merge to its end, a frame at a time or (`batched`) a batch at a time as
    /// replay does; the frames' (port, first byte) and the error, if any.
    static func drain(_ merger: CaptureMerger, batched: Bool = false) -> (frames: [(UInt16, UInt8)], error: CaptureError?) {
        var frames: [(UInt16, UInt8)] = []
        let pool = FramePool(limit: 256)
        var batch = Batch(keepsFrames: true)
        var frame = Frame()
        do {
            if batched {
                while try merger.fill(&batch, pool: pool) {
                    for index in 0..<batch.count {
                        frames.append((batch[index].inputPort.rawValue, batch[index].withUnsafeBytes { $0[0] }))
                    }
                    batch.recycleAll(into: pool)
                }
            } else {
                while try merger.next(into: &frame) {
                    frames.append((frame.inputPort.rawValue, frame.withUnsafeBytes { $0[0] }))
                }
            }
        } catch {
            return (frames, error)
        }
        return (frames, nil)
    }

    @Test(arguments: [1, 2], [false, true])
    func everyGoodRecordBeforeDamageIsReturned(inputs: Int, batched: Bool) throws {
        let directory = try TemporaryDirectory()
        // Input 0: 70 good records (more than a batch) then a cut one. Input 1 (when present):
        // five good records later than all of input 0's, so input 0's damage is met first.
        var readers = [(port: PortID(rawValue: 0), reader: try PcapReader(path: try Self.capture(
            70, start: 0, fill: 0xA0, cut: true, in: directory, name: "a.pcap")))]
        if inputs == 2 {
            readers.append((port: PortID(rawValue: 1), reader: try PcapReader(path: try Self.capture(
                5, start: 500_000, fill: 0xB0, cut: false, in: directory, name: "b.pcap"))))
        }
        let (frames, error) = Self.drain(try CaptureMerger(inputs: readers), batched: batched)
        #expect(frames.count == 70)
        #expect(frames.allSatisfy { $0.0 == 0 && $0.1 == 0xA0 })
        #expect(error?.description.contains("record 71: record cut off") == true, "\(String(describing: error))")
    }

    @Test(arguments: [false, true])
    func aWholeCaptureReadsTheSameByFrameAndByBatch(batched: Bool) throws {
        let directory = try TemporaryDirectory()
        let path = try Self.capture(200, start: 0, fill: 0xC0, cut: false, in: directory, name: "c.pcap")
        let (frames, error) = Self.drain(try CaptureMerger(inputs: [(PortID(rawValue: 3), try PcapReader(path: path))]), batched: batched)
        #expect(error == nil)
        #expect(frames.count == 200)
        #expect(frames.allSatisfy { $0.0 == 3 && $0.1 == 0xC0 })
    }

    @Test(arguments: [false, true])
    func framesComeInTimestampOrderWithTheirPorts(batched: Bool) throws {
        let directory = try TemporaryDirectory()
        let a = try Self.capture(3, start: 0, fill: 0xA0, cut: false, in: directory, name: "a.pcap")     // 0, 1, 2 ms
        let b = try Self.capture(2, start: 1_500, fill: 0xB0, cut: false, in: directory, name: "b.pcap")  // 1.5, 2.5 ms
        let merger = try CaptureMerger(inputs: [(PortID(rawValue: 0), try PcapReader(path: a)),
                                                (PortID(rawValue: 7), try PcapReader(path: b))])
        let (frames, error) = Self.drain(merger, batched: batched)
        #expect(error == nil)
        #expect(frames.map(\.0) == [0, 0, 7, 0, 7])
    }
}
