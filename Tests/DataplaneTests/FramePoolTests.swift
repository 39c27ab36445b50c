import Testing
@testable import Dataplane

/// The pool hands frames back out, so a warm pipeline allocates none per packet.
struct FramePoolTests {
    @Test func recycledFramesAreReusedNotReallocated() {
        let pool = FramePool(limit: 8, preallocated: 2)
        var first = pool.take()
        let address = first.withUnsafeBytes { $0.baseAddress }
        [UInt8](repeating: 1, count: 100).withUnsafeBytes { first.replaceContents(with: $0) }
        first.inputPort = PortID(rawValue: 1)
        pool.recycle(first)
        let again = pool.take()
        let reusedAddress = again.withUnsafeBytes { $0.baseAddress }
        #expect(reusedAddress == address)
        #expect(again.count == 0)  // reset on recycle
        #expect(again.inputPort == .none)
        #expect(pool.allocations == 0)
    }

    @Test func anEmptyPoolAllocatesAndCountsIt() {
        let pool = FramePool(limit: 4)
        let a = pool.take()
        let b = pool.take()
        #expect(pool.allocations == 2)
        pool.recycle(a)
        pool.recycle(b)
        #expect(pool.available == 2)
        for _ in 0..<1000 {
            let frame = pool.take()
            pool.recycle(frame)
        }
        #expect(pool.allocations == 2)
    }

    @Test func framesBeyondTheLimitAreFreed() {
        let pool = FramePool(limit: 2)
        for _ in 0..<5 { pool.recycle(Frame()) }
        #expect(pool.available == 2)
    }
}
