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

    /// Writes `byte` as a one-byte frame.
    static func write(_ byte: UInt8, into frame: inout Frame) -> Bool {
        [byte].withUnsafeBytes { frame.replaceContents(with: $0) }
        return true
    }

    @Test func aBatchThatKeepsFramesRefillsFromItsSparesWithoutThePool() {
        let pool = FramePool(limit: 128, preallocated: 64)
        var batch = Batch(keepsFrames: true)
        for index in 0..<10 { #expect(batch.refill(from: pool) { Self.write(UInt8(index), into: &$0) }) }
        #expect(pool.available == 54)
        batch[3].verdict = .drop(.noRoute)
        batch[3].inputPort = PortID(rawValue: 5)
        batch.recycleAll(into: pool)
        let empty = batch.isEmpty
        #expect(empty)
        #expect(pool.available == 54, "the frames stay with the batch as spares")
        for index in 0..<10 { #expect(batch.refill(from: pool) { Self.write(UInt8(100 + index), into: &$0) }) }
        #expect(pool.available == 54, "ten spares reused, none taken")
        // A spare comes back reset: no verdict, port or metadata from its last use.
        #expect(batch[3].verdict == .pending)
        #expect(batch[3].inputPort == .none)
        #expect(batch[9].bytes.u8(at: 0) == 109)
        // A refused read leaves the frame a spare, not in the batch.
        #expect(!batch.refill(from: pool) { _ in false })
        #expect(batch.count == 10)
        #expect(pool.available == 53)
    }

    @Test func spareFramesStayContiguousThroughAppendAndRemoveLast() {
        let pool = FramePool(limit: 128, preallocated: 8)
        var batch = Batch(keepsFrames: true)
        for index in 0..<6 { _ = batch.refill(from: pool) { Self.write(UInt8(index), into: &$0) } }
        batch.recycleAll(into: pool)  // six spares
        _ = batch.refill(from: pool) { Self.write(7, into: &$0) }
        _ = batch.refill(from: pool) { Self.write(8, into: &$0) }
        batch.append(Frame(bytes: [9]))  // over a spare
        let last = batch.removeLast()
        #expect(last.withUnsafeBytes { Array($0) } == [9])
        #expect(batch.count == 2)
        #expect(batch[1].bytes.u8(at: 0) == 8)
        // Six spares, less the one the append replaced (freed): three more refills take
        // nothing from the pool, the fourth takes a frame.
        let available = pool.available
        for index in 0..<3 { _ = batch.refill(from: pool) { Self.write(UInt8(20 + index), into: &$0) } }
        #expect(pool.available == available)
        _ = batch.refill(from: pool) { Self.write(23, into: &$0) }
        #expect(pool.available == available - 1)
        #expect((0..<6).map { batch[$0].bytes.u8(at: 0) } == [7, 8, 20, 21, 22, 23])
    }

    @Test func aBatchThatDoesNotKeepFramesReturnsItsSparesToo() {
        let pool = FramePool(limit: 128, preallocated: 4)
        var batch = Batch()
        for index in 0..<4 { _ = batch.refill(from: pool) { Self.write(UInt8(index), into: &$0) } }
        _ = batch.refill(from: pool) { _ in false }  // a fifth frame, left a spare
        #expect(pool.available == 0)
        batch.recycleAll(into: pool)
        #expect(pool.available == 5, "four frames and the spare")
        #expect(pool.allocations == 1)
    }
}
