#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import CPcap
import Dataplane
import Wire

/// Writes frames to a classic pcap file through libpcap, keeping each frame's timestamp (to
/// the file's precision) and original length.
///
/// The file holds `thiszone` 0 and `sigfigs` 0, in this machine's byte order, as libpcap
/// writes it. A frame longer than the snap length is an error, not silently cut. `close()`
/// reports write errors (a full disk shows only when the buffer is flushed); `deinit` closes
/// a writer left open, dropping any error.
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

    private let handle: OpaquePointer
    private var dumper: OpaquePointer?

    /// Creates (or truncates) the file at `path` and writes the global header.
    public init(
        path: String, linkType: LinkType, precision: TimestampPrecision, snapLength: Int = 262_144
    ) throws(CaptureError) {
        guard (1...PcapReader.maximumCapturedLength).contains(snapLength) else {
            throw CaptureError(file: path, problem: "snap length \(snapLength) is outside 1...\(PcapReader.maximumCapturedLength)")
        }
        guard let handle = pcap_open_dead_with_tstamp_precision(linkType.dlt, Int32(snapLength), precision.pcapValue) else {
            throw CaptureError(file: path, problem: "libpcap could not make a handle for link type \(linkType)")
        }
        guard let file = fopen(path, "wb") else {
            let problem = systemMessage(errno)
            pcap_close(handle)
            throw CaptureError(file: path, problem: problem)
        }
        setvbuf(file, nil, _IOFBF, PcapReader.bufferSize)
        guard let dumper = pcap_dump_fopen(handle, file) else {
            let problem = pcapMessage(handle)
            fclose(file)
            pcap_close(handle)
            throw CaptureError(file: path, problem: problem)
        }
        self.path = path
        self.linkType = linkType
        self.precision = precision
        self.snapLength = snapLength
        self.handle = handle
        self.dumper = dumper
    }

    deinit {
        if let dumper { pcap_dump_close(dumper) }
        pcap_close(handle)
    }

    /// Appends `frame` as one record: its bytes, its timestamp (cut to microseconds for a
    /// microsecond file) and its original length (at least its byte count).
    public func write(_ frame: borrowing Frame) throws(CaptureError) {
        let record = recordsWritten + 1
        guard let dumper else { throw CaptureError(file: path, record: record, problem: "write after close") }
        guard frame.count <= snapLength else {
            throw CaptureError(file: path, record: record, problem: "frame of \(frame.count) bytes exceeds the snap length \(snapLength)")
        }
        let subsecond = frame.timestamp.subsecondNanoseconds
        var header = pcap_pkthdr()
        header.ts.tv_sec = Int(frame.timestamp.seconds)
        header.ts.tv_usec = Int(precision == .nanoseconds ? subsecond : subsecond / 1_000)
        header.caplen = UInt32(frame.count)
        header.len = UInt32(clamping: max(frame.originalLength, frame.count))
        frame.withUnsafeBytes { bytes in
            pcap_dump(UnsafeMutablePointer(dumper), &header, bytes.baseAddress?.assumingMemoryBound(to: UInt8.self))
        }
        if ferror(pcap_dump_file(dumper)) != 0 {
            throw CaptureError(file: path, record: record, problem: "write failed: \(systemMessage(errno))")
        }
        recordsWritten = record
    }

    /// Flushes and closes the file; throws if any write failed. Calling it again does nothing.
    public func close() throws(CaptureError) {
        guard let dumper else { return }
        self.dumper = nil
        let flushed = pcap_dump_flush(dumper) == 0 && ferror(pcap_dump_file(dumper)) == 0
        let problem = flushed ? "" : "write failed: \(systemMessage(errno))"
        pcap_dump_close(dumper)
        if !flushed { throw CaptureError(file: path, problem: problem) }
    }
}
