#if canImport(Glibc)
import Glibc
#endif
import CTap
import Dataplane

/// Where the live switch's pipeline sends frames for TAP ports: each port's TAP device, and
/// its capture file if it has one. A write that would block drops the frame and counts it
/// (the other ports never wait for a slow one); a port that is down, or whose device is down
/// (EIO), counts the frame too; a device that is gone (EBADFD, ENXIO, ENODEV) fails the port.
/// With the switch's io_uring (`batchIO()`), a frame to a port without offloads or capture
/// is queued and leaves with the batch's others in one system call (`flush()`); any other
/// write (a super-frame GRO joined among them) flushes the queue first, so frames leave in the
/// order the pipeline sent them.
/// To a port that `coalesces`, consecutive TCP segments of one flow join one super-frame
/// (`SegmentCoalescer`, GRO). Up to four flows' super-frames are open at once (Linux's GRO
/// keeps eight a device); one is written when a frame for its port cannot be joined to any
/// (so order holds), when a later segment of its flow cannot join it, when a new flow needs
/// its room (the oldest goes), and at the batch's end (`flush()`).
public struct TapOutput: LiveOutput {
    /// The TAP port of each pipeline port, nil for a port without a device.
    var ports: [TapPort?] = []
    /// The capture files.
    public var captures: LiveCaptures
    /// Ports that failed or whose link changed during the batch.
    public var events = LiveOutputEvents()
    /// Where `SoftwareSegmenter` builds each segment of a super-frame a port cannot take
    /// whole: headers plus one segment, made once.
    private let scratch = SegmentScratch()
    /// The io_uring writes are queued in, with `--io uring`.
    private var ring: TapRing?
    /// The super-frames being joined from TCP segments (GRO), each one flow's for one port.
    private let coalescers = (0..<4).map { _ in SegmentCoalescer() }
    /// Counts super-frames opened, to write the open ones oldest first.
    private var opened: UInt64 = 0

    /// An output to no port yet, capturing to `captures`.
    public init(captures: LiveCaptures) {
        self.captures = captures
    }

    /// Sends what leaves `tap.port` to `tap`.
    public mutating func attach(_ tap: TapPort) {
        let index = Int(tap.port.rawValue)
        if index >= ports.count { ports += [TapPort?](repeating: nil, count: index + 1 - ports.count) }
        ports[index] = tap
        tap.ring = ring
    }

    /// Makes the io_uring that batches reads and writes; nil when on, else why the kernel
    /// refused one (the switch stays on epoll).
    public mutating func batchIO() -> String? {
        var refusal: Int32 = 0
        guard let ring = TapRing(refusal: &refusal) else { return "io_uring_queue_init: \(systemMessage(refusal))" }
        self.ring = ring
        for tap in ports { tap?.ring = ring }
        return nil
    }

    /// Writes the open super-frames, then the queued frames in one system call, and counts
    /// each one's outcome.
    public mutating func flush() {
        writeOpen { _ in true }
        flushRing()
    }

    /// Writes the frames queued in the io_uring in one system call and counts each one's outcome.
    private mutating func flushRing() {
        guard let ring, ring.queued > 0 else { return }
        ring.flush { port, written in
            guard Int(port) < ports.count, let tap = ports[Int(port)] else { return }
            account(written, tap: tap, port: PortID(rawValue: port))
        }
    }

    /// Drops what leaves `port`, silently.
    public mutating func detach(_ port: PortID) {
        let index = Int(port.rawValue)
        if index < ports.count { ports[index] = nil }
        for coalescer in coalescers where coalescer.isOpen && coalescer.port == port { coalescer.reset() }
    }

    /// Writes `frame` to `port`'s device (after its virtio-net header with offloads).
    public mutating func send(_ frame: borrowing Frame, to port: PortID) {
        let index = Int(port.rawValue)
        guard index < ports.count, let tap = ports[index] else { return }
        guard tap.isUp else {
            tap.counters.sendWhileDown += 1
            return
        }
        if tap.coalesces && coalesce(frame, port: port) { return }
        if let ring {
            let header = tap.coalesces ? tap.headerSize : 0
            if !tap.offloads && header + frame.count <= ring.slotSize && !captures.records(port: index) {
                if ring.isFull { flushRing() }
                frame.withUnsafeBytes { bytes in ring.queueWrite(bytes, header: header, to: tap.descriptor, port: port.rawValue) }
                return
            }
            flushRing()
        }
        let written: Int
        if tap.hasHeader {
            let offload = frame.offload
            if offload.isSegmented {
                if offload.frameLength != frame.count {
                    // A stage changed the frame's length without moving its offsets.
                    tap.counters.offloadRefused += 1
                    return
                }
                if !Self.takesWhole(offload, tap: tap) {
                    segment(frame, to: tap, port: port)
                    return
                }
            }
            guard let result = Self.writeWithHeader(frame, to: tap) else {
                tap.counters.offloadRefused += 1
                return
            }
            if result >= 0 && offload.isSegmented { tap.counters.superFramesSent += 1 }
            written = result
        } else {
            written = frame.withUnsafeBytes { bytes in pier_write(tap.descriptor, bytes.baseAddress, bytes.count) }
        }
        account(written, tap: tap, port: port)
        if written >= 0 { captures.capture(frame, port: index) }
    }

    /// True when `tap`'s device can take the super-frame `offload` whole: TSO for a plain
    /// one, UDP-tunnel GSO for a VXLAN one; never an IP-in-IP or flannel-UDP one (no virtio-net
    /// type exists for them).
    private static func takesWhole(_ offload: SegmentOffload, tap: TapPort) -> Bool {
        guard tap.offloads, tap.segmentation else { return false }
        if offload.segmentationType & SegmentOffload.Kind.tunnelBits != 0 { return tap.tunnelSegmentation }
        return offload.innerNetworkOffset == 0 && offload.innerKind != SegmentOffload.Kind.udpL4
    }

    /// Writes a super-frame `tap` cannot take whole as the segments Linux's software GSO
    /// would make, each behind a zero virtio-net header; the capture records the super-frame
    /// whole, as tcpdump on Linux records a GSO packet before the device segments it.
    private mutating func segment(_ frame: borrowing Frame, to tap: TapPort, port: PortID) {
        var last = 0
        let descriptor = tap.descriptor, headerSize = tap.headerSize
        var zero: (UInt64, UInt64, UInt64) = (0, 0, 0)
        let outcome = withUnsafeBytes(of: &zero) { header in
            frame.withUnsafeBytes { bytes in
                SoftwareSegmenter.segment(bytes, offload: frame.offload, scratch: scratch.buffer) { piece in
                    last = pier_write_two(descriptor, header.baseAddress, headerSize, piece.baseAddress, piece.count)
                    if last >= 0 { tap.counters.sent += 1 }
                    return last >= 0
                }
            }
        }
        guard case .success = outcome else {
            tap.counters.offloadRefused += 1
            return
        }
        tap.counters.superFramesSegmented += 1
        if last >= 0 { tap.counters.sent -= 1 }  // `account` counts the last one
        account(last, tap: tap, port: port)
        captures.capture(frame, port: Int(port.rawValue))
    }

    /// Joins `frame` to an open super-frame of its port, or opens one with it, when it is a
    /// TCP segment that can be coalesced (true: it leaves later). Otherwise writes out first
    /// what must go before it (every super-frame open for its port; for a segment, only its
    /// own flow's) and returns false for it to be written as it is. A segment with PSH that
    /// could only start a super-frame is written as it is too.
    private mutating func coalesce(_ frame: borrowing Frame, port: PortID) -> Bool {
        let offload = frame.offload
        let verified = offload.flags == 2 && offload.segmentationType == 0
        let segment: SegmentCoalescer.Segment? = offload.isNone || verified
            ? frame.withUnsafeBytes { SegmentCoalescer.segment(in: $0, checksumsVerified: verified) } : nil
        guard let segment else {
            writeOpen { $0.port == port }
            return false
        }
        let joined = frame.withUnsafeBytes { bytes in
            coalescers.contains { $0.isOpen && $0.port == port && $0.join(bytes, segment, port: port) }
        }
        if !joined {
            frame.withUnsafeBytes { bytes in writeOpen { $0.port == port && $0.holdsFlow(of: bytes, segment) } }
            if SegmentCoalescer.endsAtOnce(segment) { return false }
            let room = coalescers.first { !$0.isOpen } ?? oldestOpen()
            if room.isOpen { writeCoalesced(room) }
            opened += 1
            room.stamp = opened
            frame.withUnsafeBytes { room.start($0, segment, port: port) }
        }
        captures.capture(frame, port: Int(port.rawValue))
        return true
    }

    /// The super-frame opened first of those open (all are).
    private func oldestOpen() -> SegmentCoalescer {
        oldest { _ in true } ?? coalescers[0]
    }

    /// Of the open super-frames `chosen` picks, the one opened first.
    private func oldest(_ chosen: (SegmentCoalescer) -> Bool) -> SegmentCoalescer? {
        var found: SegmentCoalescer?
        for coalescer in coalescers where coalescer.isOpen && chosen(coalescer) {
            if found.map({ coalescer.stamp < $0.stamp }) ?? true { found = coalescer }
        }
        return found
    }

    /// Writes every open super-frame `chosen` picks, oldest first.
    private mutating func writeOpen(_ chosen: (SegmentCoalescer) -> Bool) {
        while let next = oldest(chosen) { writeCoalesced(next) }
    }

    /// Writes `coalescer`'s super-frame to its port (a single segment as it came, with a zero
    /// header) and closes it; its segments count as sent, or as what failed them.
    private mutating func writeCoalesced(_ coalescer: SegmentCoalescer) {
        defer { coalescer.reset() }
        flushRing()  // frames queued before it leave first
        let port = coalescer.port, index = Int(port.rawValue)
        guard index < ports.count, let tap = ports[index] else { return }
        guard tap.isUp else {
            tap.counters.sendWhileDown += coalescer.segments
            return
        }
        coalescer.seal()
        var room: (UInt64, UInt64, UInt64) = (0, 0, 0)
        let size = tap.headerSize, offload = coalescer.offload, bytes = coalescer.frame
        let written = withUnsafeMutableBytes(of: &room) { header in
            _ = VirtioNetHeader.write(offload, frameLength: bytes.count, to: header.baseAddress!, size: size)
            return pier_write_two(tap.descriptor, header.baseAddress, size, bytes.baseAddress, bytes.count)
        }
        if written >= 0 && coalescer.segments > 1 { tap.counters.coalescedSent += 1 }
        account(written, tap: tap, port: port, frames: coalescer.segments)
    }

    /// Counts a write of `frames` frames' outcome (bytes written, or -errno) and notes a port
    /// to fail or a link change.
    private mutating func account(_ written: Int, tap: TapPort, port: PortID, frames: Int = 1) {
        if written >= 0 {
            tap.counters.sent += frames
            if tap.linkDown {
                tap.linkDown = false
                events.linkChanges.append(port)
            }
        } else if written == -Int(EAGAIN) {
            tap.counters.sendBlocked += frames
        } else if written == -Int(EIO) {
            // tun refuses writes to a device that is not up (`ip link set eth0 down`): the
            // link is down, the device is fine. Reopening it would not help.
            tap.counters.sendWhileDown += frames
            if !tap.linkDown {
                tap.linkDown = true
                events.linkChanges.append(port)
            }
        } else {
            tap.counters.errors += frames
            if written == -Int(EBADFD) || written == -Int(ENXIO) || written == -Int(ENODEV) {
                events.failedPorts.append(port)
            }
        }
    }

    /// Writes `frame` to `tap` behind its virtio-net header (made on the stack: no
    /// allocation); the bytes written or -errno, nil when the offload cannot be passed on.
    private static func writeWithHeader(_ frame: borrowing Frame, to tap: TapPort) -> Int? {
        var room: (UInt64, UInt64, UInt64) = (0, 0, 0)
        let size = tap.headerSize
        return withUnsafeMutableBytes(of: &room) { header in
            guard VirtioNetHeader.write(frame.offload, frameLength: frame.count, to: header.baseAddress!, size: size) else { return nil }
            return frame.withUnsafeBytes { bytes in
                pier_write_two(tap.descriptor, header.baseAddress, size, bytes.baseAddress, bytes.count)
            }
        }
    }
}

/// The buffer `TapOutput` builds segments in: a 64 KB segment (a device whose MTU allows
/// it) and its headers, allocated once with the output and freed with it.
final class SegmentScratch {
    /// The bytes.
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 65_536 + 512, alignment: 64)

    deinit { buffer.deallocate() }
}
