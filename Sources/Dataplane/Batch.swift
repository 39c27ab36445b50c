/// A fixed-capacity vector of frames, the unit every stage runs over (STYLE.md, principle 8):
/// each stage finishes the whole batch before the next one starts.
public struct Batch: ~Copyable {
    /// The most frames a batch holds.
    public static let capacity = 64

    private let slots: UnsafeMutablePointer<Frame>
    /// The number of frames in the batch.
    public private(set) var count = 0

    /// Makes an empty batch.
    public init() { slots = .allocate(capacity: Self.capacity) }

    deinit {
        slots.deinitialize(count: count)
        slots.deallocate()
    }

    /// True when no frame can be added.
    public var isFull: Bool { count == Self.capacity }
    /// True when the batch holds no frame.
    public var isEmpty: Bool { count == 0 }

    /// Adds `frame` at the end; the batch must not be full.
    public mutating func append(_ frame: consuming Frame) {
        precondition(count < Self.capacity, "batch is full")
        (slots + count).initialize(to: frame)
        count += 1
    }

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
        return (slots + count).move()
    }

    /// Returns every frame to `pool`, leaving the batch empty.
    public mutating func recycleAll(into pool: FramePool) {
        while count > 0 { pool.recycle(removeLast()) }
    }
}
