import Dataplane
import Wire

/// Merges several captures into one stream ordered by timestamp (ties go to the earlier
/// input), each frame marked with the port its capture enters at: the input side of a
/// multi-port `pier replay`.
///
/// Each input keeps one frame read ahead. A damaged input ends the merge: frames already
/// returned stay returned, and `next` throws that input's error (with its file and record).
public final class CaptureMerger {
    /// The inputs' readers, kept alive here; read through `unretained` (a retain and release
    /// per frame cost more than the read).
    private let readers: [PcapReader]
    private let unretained: [Unmanaged<PcapReader>]
    private let ports: [PortID]
    /// Each input's read-ahead frame, and whether it has one (buffers, not arrays: an array
    /// written inside a class pays a uniqueness check per frame).
    private let heads: UnsafeMutablePointer<Frame>
    private let live: UnsafeMutablePointer<Bool>
    /// With one input: whether its read-ahead frame is still in the slot.
    private var headPending = true
    /// Damage found while reading ahead, thrown at the next call so that the good frame
    /// swapped out before it is still returned.
    private var damage: CaptureError?

    /// Opens the merge over `inputs`, reading each one's first frame.
    public init(inputs: [(port: PortID, reader: PcapReader)]) throws(CaptureError) {
        readers = inputs.map(\.reader)
        unretained = readers.map { Unmanaged.passUnretained($0) }
        ports = inputs.map(\.port)
        heads = .allocate(capacity: max(inputs.count, 1))
        live = .allocate(capacity: max(inputs.count, 1))
        live.initialize(repeating: false, count: max(inputs.count, 1))
        for index in inputs.indices { (heads + index).initialize(to: Frame()) }
        for index in inputs.indices { try refill(index) }
    }

    deinit {
        heads.deinitialize(count: readers.count)
        heads.deallocate()
        live.deallocate()
    }

    /// Calls `body` with input `index`'s reader, without retaining it.
    @inline(__always)
    private func withReader<T>(_ index: Int, _ body: (PcapReader) throws(CaptureError) -> T) throws(CaptureError) -> T {
        try unretained[index]._withUnsafeGuaranteedRef { reader in Result { () throws(CaptureError) in try body(reader) } }.get()
    }

    /// Reads input `index`'s next record into `frame` (marked with its port); false, and the
    /// input finished, at its end or (thrown) at damage.
    private func read(_ index: Int, into frame: inout Frame) throws(CaptureError) -> Bool {
        do {
            live[index] = try withReader(index) { reader throws(CaptureError) in try reader.next(into: &frame) }
        } catch {
            live[index] = false
            throw error
        }
        if live[index] { frame.inputPort = ports[index] }
        return live[index]
    }

    /// Reads input `index`'s next frame into its head slot.
    private func refill(_ index: Int) throws(CaptureError) {
        _ = try read(index, into: &heads[index])
    }

    /// Moves the earliest pending frame into `frame` (the frame's old contents go to that
    /// input's slot, to be overwritten); false when every input is finished.
    public func next(into frame: inout Frame) throws(CaptureError) -> Bool {
        if let damage { throw damage }
        if readers.count == 1 { return try nextOfOne(into: &frame) }
        var best = -1
        for index in readers.indices where live[index] {
            if best < 0 || heads[index].timestamp < heads[best].timestamp { best = index }
        }
        guard best >= 0 else { return false }
        swap(&frame, &heads[best])
        do { try refill(best) } catch { damage = error }
        return true
    }

    /// Appends the next frames in timestamp order to `batch` (in its spare frames, or frames
    /// from `pool`) until it is full or every input is finished; returns false when nothing
    /// was added because the inputs had ended. Damage found after some frames were added is
    /// thrown by the next call, so those frames are still returned. The batch must have room.
    public func fill(_ batch: inout Batch, pool: FramePool) throws(CaptureError) -> Bool {
        precondition(!batch.isFull, "fill needs room in the batch")
        if let damage { throw damage }
        if readers.count == 1 && !headPending {
            guard live[0] else { return false }
            // One input past its read-ahead frame: its records go straight into the batch.
            let port = ports[0]
            do {
                let added = try withReader(0) { reader throws(CaptureError) in try reader.fill(&batch, pool: pool, port: port) }
                if !added { live[0] = false }
                return added
            } catch {
                live[0] = false
                throw error
            }
        }
        let before = batch.count
        do {
            while !batch.isFull {
                let added = try batch.refill(from: pool) { frame throws(CaptureError) in try next(into: &frame) }
                if !added { break }
            }
        } catch {
            if batch.count == before { throw error }
            damage = error
        }
        return batch.count > before
    }

    /// One input: nothing to order, so after the read-ahead frame the records are read
    /// straight into `frame` (no scan of the inputs, no swap through the slot).
    private func nextOfOne(into frame: inout Frame) throws(CaptureError) -> Bool {
        guard live[0] else { return false }
        if headPending {
            headPending = false
            swap(&frame, &heads[0])
            return true
        }
        return try read(0, into: &frame)
    }
}
