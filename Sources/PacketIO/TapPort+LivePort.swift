import CTap
import Dataplane

#if canImport(Glibc)
import Glibc
#endif

/// A TAP device as a port of the live switch: read with `read(2)`, one frame a read, the
/// virtio-net header in front of each with offloads; a deleted namespace is its home gone.
extension TapPort: LivePort {
    /// `TapOutput` writes its frames.
    public typealias Output = TapOutput

    /// "namespace deleted" when the port's namespace was deleted (`namespaceIsGone`).
    public var goneReason: String? { namespaceIsGone ? "namespace deleted" : nil }

    /// With offloads, what the device passes (`offloadDescription`).
    public var offloadSummary: String? { offloads ? offloadDescription : nil }

    /// Reads up to a batch of frames, each into a frame the batch keeps from run to run (a
    /// read cut shorter than a virtio-net header leaves its frame a spare). A frame read
    /// while the link was down brings it back up. With the switch's io_uring and no offloads
    /// the reads leave together (`receiveBatched`).
    public func receive(into batch: inout Batch, from pool: FramePool, now: Timestamp, captures: inout LiveCaptures) -> Int32 {
        if let ring, !offloads { return receiveBatched(into: &batch, from: pool, ring: ring, now: now, captures: &captures) }
        return batch.fill(from: pool) { frame in
            let count = frame.receive { buffer in pier_read(descriptor, buffer.baseAddress, buffer.count) }
            guard count > 0 else {
                return count < 0 && count != -Int(EAGAIN) && count != -Int(EINTR) ? .failed(Int32(-count)) : .drained
            }
            guard !hasHeader || Self.takeOffload(&frame, count: count, headerSize: headerSize) else { return .skipped }
            accept(&frame, now: now, captures: &captures)
            return .frame
        }
    }

    /// Posts `readAhead` reads (at most the batch's room) in one io_uring submission and
    /// takes the frames they found in order; an empty read (EAGAIN) between two frames is
    /// passed over, so nothing read is lost.
    private func receiveBatched(into batch: inout Batch, from pool: FramePool, ring: TapRing, now: Timestamp,
                                captures: inout LiveCaptures) -> Int32 {
        let posted = min(readAhead, Batch.capacity - batch.count)
        guard posted > 0 else { return 0 }
        let status = ring.read(descriptor, count: posted)
        guard status == 0 else { return -status }
        var slot = 0, found = 0
        let failure = batch.fill(from: pool) { frame in
            guard slot < posted else { return .drained }
            let count = ring.results[slot]
            let source = ring.readSlot(slot)
            slot += 1
            guard count > 0 else {
                return count < 0 && count != -Int(EAGAIN) && count != -Int(EINTR) ? .failed(Int32(-count)) : .skipped
            }
            _ = frame.receive { buffer in
                let length = min(count, buffer.count)
                buffer.baseAddress!.copyMemory(from: source, byteCount: length)
                return length
            }
            found += 1
            guard !hasHeader || Self.takeOffload(&frame, count: count, headerSize: headerSize) else { return .skipped }
            accept(&frame, now: now, captures: &captures)
            return .frame
        }
        readAhead = found == posted ? min(posted * 2, Batch.capacity) : max(found + 1, 2)
        return failure
    }

    /// Counts, stamps and captures a frame read from the device.
    private func accept(_ frame: inout Frame, now: Timestamp, captures: inout LiveCaptures) {
        if frame.offload.isSegmented { counters.superFramesReceived += 1 }
        linkDown = false
        frame.inputPort = port
        frame.timestamp = now
        frame.originalLength = frame.count
        counters.received += 1
        captures.capture(frame, port: Int(port.rawValue))
    }

    /// Moves a received frame's virtio-net header into `frame.offload`; false when the read
    /// was shorter than the header.
    private static func takeOffload(_ frame: inout Frame, count: Int, headerSize: Int) -> Bool {
        guard count > headerSize else { return false }
        frame.offload = frame.withUnsafeBytes { bytes in
            VirtioNetHeader.read(bytes.baseAddress!, frameLength: count - headerSize, size: headerSize)
        }
        frame.removeFirst(headerSize)
        return true
    }
}
