import Testing
@testable import Dataplane

/// A batch holds up to 64 frames, changed in place, and returns them all to the pool.
struct BatchTests {
    @Test func fillsToCapacityAndRecyclesEverything() {
        let pool = FramePool(limit: 128)
        var batch = Batch()
        let startsEmpty = batch.isEmpty
        #expect(startsEmpty)
        for index in 0..<Batch.capacity {
            var frame = pool.take()
            [UInt8(index)].withUnsafeBytes { frame.replaceContents(with: $0) }
            batch.append(frame)
        }
        let full = batch.isFull
        #expect(full)
        #expect(Batch.capacity == 64)
        #expect(batch[63].bytes.u8(at: 0) == 63)
        batch.recycleAll(into: pool)
        let emptied = batch.isEmpty
        #expect(emptied)
        #expect(pool.available == 64)
    }

    @Test func framesChangeInPlaceThroughTheSubscript() {
        var batch = Batch()
        batch.append(Frame(bytes: [1, 2, 3]))
        batch[0].inputPort = PortID(rawValue: 9)
        batch[0].removeFirst(1)
        #expect(batch[0].inputPort == PortID(rawValue: 9))
        #expect(batch[0].count == 2)
        let last = batch.removeLast()
        #expect(last.withUnsafeBytes { Array($0) } == [2, 3])
        let empty = batch.isEmpty
        #expect(empty)
    }
}
