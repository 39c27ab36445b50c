#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Dataplane
import Wire

/// Writes frames to a classic pcap file (the format of tcpdump.org's `pcap-savefile(5)`),
/// keeping each frame's timestamp (to the file's precision) and original length.
///
/// The global header holds `thiszone` 0 and `sigfigs` 0, in this machine's byte order, as
/// libpcap writes it. Records gather in a 1 MiB buffer and leave in one `write(2)` each time
/// it fills: one copy per frame and no per-record library call, which is what lets a
/// pass-through replay keep pace with `tcpdump -r -w` (libpcap's `pcap_dump` makes two
/// locked `fwrite` calls per record). A frame longer than the snap length is an error, not
/// silently cut. `close()` reports write errors; `deinit` closes a writer left open,
/// dropping any error.
public final class PcapWriter {
    /// The file's path, as given.
    public let path: String
    /// The link-layer type written in the global header.
    public let linkType: LinkType
    /// The timestamp resolution the file stores.
    public let precision: TimestampPrecision
    /// The snap length written in the global header: the longest frame this writer accepts.
    public let snapLength: Int
    /// The number of records written so far.
    public private(set) var recordsWritten = 0

    /// Byte offsets in the 24-byte global header and the 16-byte record header.
    enum Layout {
        static let globalHeaderSize = 24
        static let recordHeaderSize = 16
    }

    private var output: BufferedOutput

    /// Creates the file at `path` (as `BufferedOutput` does: a regular file there is
    /// replaced, not truncated) and writes the global header.
    public init(
        path: String, linkType: LinkType, precision: TimestampPrecision, snapLength: Int = 262_144
    ) throws(CaptureError) {
        guard (1...PcapReader.maximumCapturedLength).contains(snapLength) else {
            throw CaptureError(file: path, problem: "snap length \(snapLength) is outside 1...\(PcapReader.maximumCapturedLength)")
        }
        output = try BufferedOutput(path: path)
        self.path = path
        self.linkType = linkType
        self.precision = precision
        self.snapLength = snapLength
        let buffer = output.buffer
        // pcap-savefile(5): magic, version 2.4, thiszone, sigfigs, snaplen, link type.
        let magic: UInt32 = precision == .nanoseconds ? 0xA1B2_3C4D : 0xA1B2_C3D4
        buffer.storeBytes(of: magic, toByteOffset: 0, as: UInt32.self)
        buffer.storeBytes(of: 2, toByteOffset: 4, as: UInt16.self)
        buffer.storeBytes(of: 4, toByteOffset: 6, as: UInt16.self)
        buffer.storeBytes(of: 0, toByteOffset: 8, as: Int32.self)
        buffer.storeBytes(of: 0, toByteOffset: 12, as: UInt32.self)
        buffer.storeBytes(of: UInt32(snapLength), toByteOffset: 16, as: UInt32.self)
        buffer.storeBytes(of: linkType.rawValue, toByteOffset: 20, as: UInt32.self)
        output.used = Layout.globalHeaderSize
    }

    deinit { output.closeDroppingErrors() }

    /// Appends `frame` as one record: its bytes, its timestamp (cut to microseconds for a
    /// microsecond file) and its original length (at least its byte count).
    public func write(_ frame: borrowing Frame) throws(CaptureError) {
        try write(frame, at: frame.timestamp)
    }

    /// Appends `frame` as one record stamped `timestamp` instead of the frame's own (the live
    /// switch stamps frames with the monotonic clock and captures them with the wall clock).
    public func write(_ frame: borrowing Frame, at timestamp: Timestamp) throws(CaptureError) {
        let record = recordsWritten + 1
        guard output.isOpen else { throw CaptureError(file: path, record: record, problem: "write after close") }
        if let failure = output.failure { throw failure }
        let count = frame.count
        guard count <= snapLength else {
            throw CaptureError(file: path, record: record, problem: "frame of \(count) bytes exceeds the snap length \(snapLength)")
        }
        let header = try output.reserve(Layout.recordHeaderSize + count)
        let subsecond = timestamp.subsecondNanoseconds
        header.storeBytes(of: UInt32(truncatingIfNeeded: timestamp.seconds), toByteOffset: 0, as: UInt32.self)
        header.storeBytes(of: UInt32(precision == .nanoseconds ? subsecond : subsecond / 1_000), toByteOffset: 4, as: UInt32.self)
        header.storeBytes(of: UInt32(count), toByteOffset: 8, as: UInt32.self)
        header.storeBytes(of: UInt32(clamping: max(frame.originalLength, count)), toByteOffset: 12, as: UInt32.self)
        frame.withUnsafeBytes { bytes in
            guard let base = bytes.baseAddress else { return }
            (header + Layout.recordHeaderSize).copyMemory(from: base, byteCount: bytes.count)
        }
        output.used += Layout.recordHeaderSize + count
        recordsWritten = record
    }

    /// Flushes and closes the file; throws if any write failed. Calling it again does nothing.
    public func close() throws(CaptureError) { try output.close() }
}
