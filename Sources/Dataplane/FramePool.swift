/// A stack of spare frames, so that a warm pipeline allocates nothing per packet: `take()`
/// hands out a reset frame (a new one only when the pool is empty), `recycle(_:)` gives one
/// back. One pool per pipeline thread; it is not shared.
public final class FramePool {
    private let slots: UnsafeMutablePointer<Frame>
    /// The most frames the pool keeps; frames recycled beyond it are freed.
    public let limit: Int
    /// Frames waiting for reuse.
    public private(set) var available = 0
    /// Frames allocated because the pool was empty: zero per packet once warm.
    public private(set) var allocations = 0

    /// Makes a pool that keeps up to `limit` frames, `preallocated` of them made now.
    public init(limit: Int = 4_096, preallocated: Int = 0) {
        precondition(limit > 0 && preallocated <= limit, "bad pool size")
        self.limit = limit
        slots = .allocate(capacity: limit)
        for _ in 0..<preallocated { recycle(Frame()) }
    }

    deinit {
        slots.deinitialize(count: available)
        slots.deallocate()
    }

    /// A frame ready for use: a recycled one, or a new one if none is left.
    public func take() -> Frame {
        guard available > 0 else {
            allocations += 1
            return Frame()
        }
        available -= 1
        return (slots + available).move()
    }

    /// Gives `frame` back for reuse.
    public func recycle(_ frame: consuming Frame) {
        guard available < limit else { return }
        frame.reset()
        (slots + available).initialize(to: frame)
        available += 1
    }
}
