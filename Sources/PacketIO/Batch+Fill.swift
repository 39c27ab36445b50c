import Dataplane

/// What reading one frame from a live port gave.
public enum LiveRead {
    /// A frame, which joins the batch.
    case frame
    /// Something that is not a frame (a runt): its frame stays a spare, reading goes on.
    case skipped
    /// Nothing more to read for now.
    case drained
    /// A read that failed with this errno: reading stops.
    case failed(Int32)
}

extension Batch {
    /// Reads frames in place until the batch is full or `read` says the device is drained or
    /// failed: `read` fills a frame the batch keeps (no allocation once warm) and says what it
    /// got. Returns 0, or the errno of the read that failed.
    public mutating func fill(from pool: FramePool, reading read: (inout Frame) -> LiveRead) -> Int32 {
        var failure: Int32 = 0
        var drained = false
        while !isFull && !drained {
            _ = refill(from: pool) { frame in
                switch read(&frame) {
                case .frame: return true
                case .skipped: return false
                case .drained: drained = true
                case .failed(let code): failure = code; drained = true
                }
                return false
            }
        }
        return failure
    }
}
