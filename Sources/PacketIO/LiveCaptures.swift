import CTap
import Dataplane

/// The live switch's capture files, one per pipeline port at most: frames read from a port
/// and frames written to it, stamped with the wall clock. The first write that fails is kept
/// (`failure`) and nothing more is written; the switch stops on it after the batch.
public struct LiveCaptures {
    /// The capture of each pipeline port, if any.
    var writers: [PcapWriter?]
    /// Wall clock minus monotonic clock, to stamp captures with real times.
    var wallClockOffset: Int64
    /// The first capture write that failed.
    var failure: CaptureError?

    /// Captures for `portCount` pipeline ports, writing each port in `writers` to its file.
    public init(_ writers: [PortID: PcapWriter], portCount: Int) {
        var byPort = [PcapWriter?](repeating: nil, count: portCount)
        for (port, writer) in writers { byPort[Int(port.rawValue)] = writer }
        self.writers = byPort
        wallClockOffset = pier_realtime_ns() - pier_monotonic_ns()
    }

    /// Writes `frame` to port `index`'s capture, if it has one, stamped with the wall clock.
    public mutating func capture(_ frame: borrowing Frame, port index: Int) {
        guard failure == nil, index < writers.count, let writer = writers[index] else { return }
        let stamp = Timestamp(nanoseconds: frame.timestamp.nanoseconds + wallClockOffset)
        do { try writer.write(frame, at: stamp) } catch { failure = error }
    }

    /// True when port `index` has a capture file.
    func records(port index: Int) -> Bool { index < writers.count && writers[index] != nil }

    /// Closes every capture (flushing it).
    func close() throws(LiveFailure) {
        for writer in writers.compactMap({ $0 }) {
            do { try writer.close() } catch { throw LiveFailure(description: error.description) }
        }
    }
}
