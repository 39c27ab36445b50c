/// A fixed-capacity vector of frames, the unit every stage runs over (STYLE.md, principle 8):
/// each stage finishes the whole batch before the next one starts.
///
/// A batch that `keepsFrames` holds on to its frames when it is recycled, as spares that
/// `refill` reads the next frames into: a replay's input loop then moves no frame in or out of
/// the pool (the moves and resets were 5% of a routed replay's instructions).
public struct Batch: ~Copyable {
    /// The most frames a batch holds.
    public static let capacity = 64

    @usableFromInline let slots: UnsafeMutablePointer<Frame>
    /// The number of frames in the batch.
    public private(set) var count = 0
    /// Slots `0..<initialized` hold frames: the batch's, then spares kept for `refill`.
    @usableFromInline var initialized = 0
    /// True when `recycleAll` keeps the frames as spares instead of returning them.
    public let keepsFrames: Bool

    /// Makes an empty batch; one that `keepsFrames` keeps them as spares when recycled.
    public init(keepsFrames: Bool = false) {
        slots = .allocate(capacity: Self.capacity)
        self.keepsFrames = keepsFrames
    }

    deinit {
        slots.deinitialize(count: initialized)
        slots.deallocate()
    }

    /// True when no frame can be added.
    public var isFull: Bool { count == Self.capacity }
    /// True when the batch holds no frame.
    public var isEmpty: Bool { count == 0 }

    /// Adds `frame` at the end; the batch must not be full.
    public mutating func append(_ frame: consuming Frame) {
        precondition(count < Self.capacity, "batch is full")
        if count < initialized {
            (slots + count).pointee = frame  // the spare there is freed
        } else {
            (slots + count).initialize(to: frame)
            initialized += 1
        }
        count += 1
    }

    /// Reads the next frame in place: `body` gets a reset spare (or a frame from `pool` when
    /// there is none) and fills it; when it returns true the frame joins the batch, otherwise
    /// it stays a spare. The batch must not be full.
    @inlinable
    public mutating func refill<E: Error>(from pool: FramePool, _ body: (inout Frame) throws(E) -> Bool) throws(E) -> Bool {
        precondition(count < Self.capacity, "batch is full")
        let slot = slotPointer(count)
        if count < initialized {
            slot.pointee.reset()
        } else {
            slot.initialize(to: pool.take())
            initialized += 1
        }
        guard try body(&slot.pointee) else { return false }
        markAppended()
        return true
    }

    @usableFromInline
    func slotPointer(_ index: Int) -> UnsafeMutablePointer<Frame> { slots + index }

    @usableFromInline
    mutating func markAppended() { count += 1 }

    /// The frame at `index`, read or changed in place.
    public subscript(index: Int) -> Frame {
        _read {
            precondition(index >= 0 && index < count, "frame index out of range")
            yield slots[index]
        }
        _modify {
            precondition(index >= 0 && index < count, "frame index out of range")
            yield &slots[index]
        }
    }

    /// Removes the last frame and returns it.
    public mutating func removeLast() -> Frame {
        precondition(count > 0, "batch is empty")
        count -= 1
        let frame = (slots + count).move()
        initialized -= 1
        // The last spare fills the hole, so that the initialized slots stay contiguous.
        if initialized > count { (slots + count).moveInitialize(from: slots + initialized, count: 1) }
        return frame
    }

    /// Empties the batch: its frames become spares when it `keepsFrames`, otherwise they
    /// (and any spares) go back to `pool`.
    public mutating func recycleAll(into pool: FramePool) {
        if keepsFrames {
            count = 0
            return
        }
        while count > 0 { pool.recycle(removeLast()) }
        while initialized > 0 {
            initialized -= 1
            pool.recycle((slots + initialized).move())
        }
    }
}
