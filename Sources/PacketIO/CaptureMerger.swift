import Dataplane
import Wire

/// Merges several captures into one stream ordered by timestamp (ties go to the earlier
/// input), each frame marked with the port its capture enters at: the input side of a
/// multi-port `pier replay`.
///
/// Each input keeps one frame read ahead. A damaged input ends the merge: frames already
/// returned stay returned, and `next` throws that input's error (with its file and record).
public final class CaptureMerger {
    private let readers: [PcapReader]
    private let ports: [PortID]
    private let heads: UnsafeMutablePointer<Frame>
    private var live: [Bool]

    /// Opens the merge over `inputs`, reading each one's first frame.
    public init(inputs: [(port: PortID, reader: PcapReader)]) throws(CaptureError) {
        readers = inputs.map(\.reader)
        ports = inputs.map(\.port)
        heads = .allocate(capacity: max(inputs.count, 1))
        live = Array(repeating: false, count: inputs.count)
        for index in inputs.indices { (heads + index).initialize(to: Frame()) }
        for index in inputs.indices { try refill(index) }
    }

    deinit {
        heads.deinitialize(count: readers.count)
        heads.deallocate()
    }

    /// Reads input `index`'s next frame into its head slot.
    private func refill(_ index: Int) throws(CaptureError) {
        do {
            live[index] = try readers[index].next(into: &heads[index])
        } catch {
            live[index] = false
            throw error
        }
        if live[index] { heads[index].inputPort = ports[index] }
    }

    /// Moves the earliest pending frame into `frame` (the frame's old contents go to that
    /// input's slot, to be overwritten); false when every input is finished.
    public func next(into frame: inout Frame) throws(CaptureError) -> Bool {
        var best = -1
        for index in readers.indices where live[index] {
            if best < 0 || heads[index].timestamp < heads[best].timestamp { best = index }
        }
        guard best >= 0 else { return false }
        swap(&frame, &heads[best])
        try refill(best)
        return true
    }
}
