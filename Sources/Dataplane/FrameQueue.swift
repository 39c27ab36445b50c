/// A bounded first-in first-out queue of frames: the frames Pier makes itself during a
/// pipeline run (ARP replies and requests, ICMP errors, released held frames), and the frames
/// held while their next hop is resolved.
struct FrameQueue: ~Copyable {
    private let slots: UnsafeMutablePointer<Frame>
    /// The most frames the queue holds.
    let capacity: Int
    private var head = 0
    /// The number of frames queued.
    private(set) var count = 0

    /// Makes an empty queue of `capacity` frames.
    init(capacity: Int) {
        precondition(capacity > 0, "a queue needs room for a frame")
        self.capacity = capacity
        slots = .allocate(capacity: capacity)
    }

    deinit {
        for index in 0..<count { (slots + (head + index) % capacity).deinitialize(count: 1) }
        slots.deallocate()
    }

    /// True when no frame is queued.
    var isEmpty: Bool { count == 0 }
    /// True when no frame can be added.
    var isFull: Bool { count == capacity }

    /// Adds `frame` at the back; the queue must not be full.
    mutating func append(_ frame: consuming Frame) {
        precondition(count < capacity, "frame queue is full")
        (slots + (head + count) % capacity).initialize(to: frame)
        count += 1
    }

    /// Removes and returns the frame at the front; the queue must not be empty.
    mutating func removeFirst() -> Frame {
        precondition(count > 0, "frame queue is empty")
        let frame = (slots + head).move()
        head = (head + 1) % capacity
        count -= 1
        return frame
    }

    /// The frame at `index` from the front, read or changed in place.
    subscript(index: Int) -> Frame {
        _read {
            precondition(index >= 0 && index < count, "frame index out of range")
            yield slots[(head + index) % capacity]
        }
        _modify {
            precondition(index >= 0 && index < count, "frame index out of range")
            yield &slots[(head + index) % capacity]
        }
    }
}
