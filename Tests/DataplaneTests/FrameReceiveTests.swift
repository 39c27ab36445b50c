import Dataplane
import Testing

/// `Frame.receive`, the live switch's read into a frame, and `Frame.offload`.
struct FrameReceiveTests {
    @Test func receiveTakesTheLengthTheReadReturns() {
        var frame = Frame()
        let room = Frame.defaultCapacity - Frame.headroom
        let count = frame.receive { buffer in
            #expect(buffer.count == room)
            for index in 0..<60 { buffer[index] = UInt8(index) }
            return 60
        }
        #expect(count == 60)
        #expect(frame.count == 60)
        #expect(frame.availableHeadroom == Frame.headroom)
        let last = frame.withUnsafeBytes { $0[59] }
        #expect(last == 59)
    }

    /// A failed read (-EAGAIN, -11) leaves the frame empty and is handed back as is.
    @Test func aFailedReadLeavesTheFrameEmpty() {
        var frame = Frame(bytes: [1, 2, 3])
        let count = frame.receive { _ in -11 }
        #expect(count == -11)
        #expect(frame.count == 0)
    }

    @Test func offloadIsClearedOnReset() {
        var frame = Frame(bytes: [UInt8](repeating: 0, count: 100))
        var offload = SegmentOffload()
        offload.flags = 1
        offload.segmentationType = 1
        offload.segmentSize = 1_448
        frame.offload = offload
        #expect(frame.offload == offload)
        frame.reset()
        #expect(frame.offload == .none)
        #expect(frame.offload.isNone)
    }
}
