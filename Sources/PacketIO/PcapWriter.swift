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
        static let bufferSize = 1 << 20
    }

    private var descriptor: Int32
    private let buffer: UnsafeMutableRawPointer
    private var used = 0
    private var failure: CaptureError?

    /// Creates the file at `path` (replacing a regular file there) and writes the global header.
    ///
    /// An existing regular file that this process may write is unlinked and created anew with
    /// its mode (and, as root, its owner) rather than truncated, as GNU ld treats its output:
    /// ext4 frees a truncated file's blocks inside `open(2)` and flushes the rewritten file at
    /// `close(2)` (`auto_da_alloc`), which cost a 1-million-frame replay 50 ms of its 180
    /// whenever the output already existed. It also keeps a capture that is being read intact
    /// when the same path is the output. The new file is made exclusively (`O_EXCL`,
    /// `O_NOFOLLOW`): anything planted at the path in between is an error, never followed.
    /// Other hard links keep the old contents; ACLs and extended attributes are not copied. A
    /// file this process may not write, a symbolic link, a FIFO or a device is opened as it
    /// is (and a read-only file fails as it always did).
    public init(
        path: String, linkType: LinkType, precision: TimestampPrecision, snapLength: Int = 262_144
    ) throws(CaptureError) {
        guard (1...PcapReader.maximumCapturedLength).contains(snapLength) else {
            throw CaptureError(file: path, problem: "snap length \(snapLength) is outside 1...\(PcapReader.maximumCapturedLength)")
        }
        let descriptor = Self.create(path)
        guard descriptor >= 0 else { throw CaptureError(file: path, problem: systemMessage(errno)) }
        self.path = path
        self.linkType = linkType
        self.precision = precision
        self.snapLength = snapLength
        self.descriptor = descriptor
        buffer = .allocate(byteCount: Layout.bufferSize, alignment: 16)
        // pcap-savefile(5): magic, version 2.4, thiszone, sigfigs, snaplen, link type.
        let magic: UInt32 = precision == .nanoseconds ? 0xA1B2_3C4D : 0xA1B2_C3D4
        buffer.storeBytes(of: magic, toByteOffset: 0, as: UInt32.self)
        buffer.storeBytes(of: 2, toByteOffset: 4, as: UInt16.self)
        buffer.storeBytes(of: 4, toByteOffset: 6, as: UInt16.self)
        buffer.storeBytes(of: 0, toByteOffset: 8, as: Int32.self)
        buffer.storeBytes(of: 0, toByteOffset: 12, as: UInt32.self)
        buffer.storeBytes(of: UInt32(snapLength), toByteOffset: 16, as: UInt32.self)
        buffer.storeBytes(of: linkType.rawValue, toByteOffset: 20, as: UInt32.self)
        used = Layout.globalHeaderSize
    }

    /// Opens `path` for writing from its start: a writable regular file is replaced by a new
    /// one with its mode and owner, anything else opened (and created) as usual. -1 and errno
    /// on failure.
    private static func create(_ path: String) -> Int32 {
        var status = stat()
        guard lstat(path, &status) == 0, status.st_mode & S_IFMT == S_IFREG, access(path, W_OK) == 0,
              unlink(path) == 0 else {
            return open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        }
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { return -1 }
        if getuid() == 0 { _ = fchown(descriptor, status.st_uid, status.st_gid) }
        _ = fchmod(descriptor, status.st_mode & 0o7777)
        return descriptor
    }

    deinit {
        if descriptor >= 0 {
            _ = flush()
            Glibc.close(descriptor)
        }
        buffer.deallocate()
    }

    /// Appends `frame` as one record: its bytes, its timestamp (cut to microseconds for a
    /// microsecond file) and its original length (at least its byte count).
    public func write(_ frame: borrowing Frame) throws(CaptureError) {
        try write(frame, at: frame.timestamp)
    }

    /// Appends `frame` as one record stamped `timestamp` instead of the frame's own (the live
    /// switch stamps frames with the monotonic clock and captures them with the wall clock).
    public func write(_ frame: borrowing Frame, at timestamp: Timestamp) throws(CaptureError) {
        let record = recordsWritten + 1
        guard descriptor >= 0 else { throw CaptureError(file: path, record: record, problem: "write after close") }
        if let failure { throw failure }
        let count = frame.count
        guard count <= snapLength else {
            throw CaptureError(file: path, record: record, problem: "frame of \(count) bytes exceeds the snap length \(snapLength)")
        }
        if used + Layout.recordHeaderSize + count > Layout.bufferSize {
            if let error = flush() { throw error }
        }
        let subsecond = timestamp.subsecondNanoseconds
        let header = buffer + used
        header.storeBytes(of: UInt32(truncatingIfNeeded: timestamp.seconds), toByteOffset: 0, as: UInt32.self)
        header.storeBytes(of: UInt32(precision == .nanoseconds ? subsecond : subsecond / 1_000), toByteOffset: 4, as: UInt32.self)
        header.storeBytes(of: UInt32(count), toByteOffset: 8, as: UInt32.self)
        header.storeBytes(of: UInt32(clamping: max(frame.originalLength, count)), toByteOffset: 12, as: UInt32.self)
        used += Layout.recordHeaderSize
        // After a flush a record always fits: the snap length is at most 256 KiB.
        frame.withUnsafeBytes { bytes in
            guard let base = bytes.baseAddress else { return }
            (buffer + used).copyMemory(from: base, byteCount: bytes.count)
        }
        used += count
        recordsWritten = record
    }

    /// Flushes and closes the file; throws if any write failed. Calling it again does nothing.
    public func close() throws(CaptureError) {
        guard descriptor >= 0 else { return }
        let error = flush()
        let closed = Glibc.close(descriptor) == 0
        let closeProblem = closed ? "" : "close failed: \(systemMessage(errno))"
        descriptor = -1
        if let error { throw error }
        if !closed { throw CaptureError(file: path, problem: closeProblem) }
    }

    /// Writes the buffered bytes out; returns (and remembers) the error if the write fails.
    private func flush() -> CaptureError? {
        if let failure { return failure }
        var offset = 0
        while offset < used {
            let written = Glibc.write(descriptor, buffer + offset, used - offset)
            if written < 0 {
                if errno == EINTR { continue }
                let error = CaptureError(file: path, problem: "write failed: \(systemMessage(errno))")
                failure = error
                return error
            }
            offset += written
        }
        used = 0
        return nil
    }
}
