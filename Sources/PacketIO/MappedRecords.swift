#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Dataplane

/// The records of a classic pcap file read straight from the file mapped into memory: a
/// record header of 16 bytes (seconds, microseconds or nanoseconds, captured length, original
/// length, in the file's byte order) then the captured bytes (the pcap format's
/// "Packet Record", draft-ietf-opsawg-pcap §5).
///
/// libpcap's `pcap_next_ex` reads each record with two `fread` calls and `PcapReader` then
/// asked `ftell` where it ended (to catch libpcap's silent cut of a record longer than the
/// snap length): 650 instructions a record (callgrind), more than half of a pass-through
/// replay. Here a record is a bounds check and one copy. The checks and their messages are
/// the ones `PcapReader` gives on libpcap's path, in the same order, so damage reads the same.
struct MappedRecords {
    /// The mapped file.
    let bytes: UnsafeRawBufferPointer
    /// The records' byte order.
    let isBigEndian: Bool
    /// True when the timestamps' second field counts nanoseconds.
    let nanoseconds: Bool
    /// The largest captured length the file allows (libpcap's view of its snap length).
    let snapLength: Int
    /// The offset of the next record header.
    private var offset: Int

    /// Maps the file open as `descriptor` when it is a regular, non-empty file; nil otherwise
    /// (a pipe, say), and the caller reads through libpcap.
    init?(descriptor: Int32, isBigEndian: Bool, nanoseconds: Bool, snapLength: Int, firstRecord: Int) {
        guard let bytes = Self.map(descriptor) else { return nil }
        self.bytes = bytes
        self.isBigEndian = isBigEndian
        self.nanoseconds = nanoseconds
        self.snapLength = snapLength
        offset = firstRecord
    }

    /// Unmaps the file.
    func close() {
        Self.unmap(bytes)
    }

    /// The file open as `descriptor`, mapped read-only for a sequential read, when it is a
    /// regular, non-empty file; nil otherwise (a pipe, say).
    static func map(_ descriptor: Int32) -> UnsafeRawBufferPointer? {
        var status = stat()
        guard fstat(descriptor, &status) == 0, status.st_mode & S_IFMT == S_IFREG, status.st_size > 0 else { return nil }
        let size = Int(status.st_size)
        guard let base = mmap(nil, size, PROT_READ, MAP_PRIVATE, descriptor, 0), base != MAP_FAILED else { return nil }
        _ = madvise(base, size, MADV_SEQUENTIAL)
        return UnsafeRawBufferPointer(start: base, count: size)
    }

    /// Unmaps what `map` mapped.
    static func unmap(_ bytes: UnsafeRawBufferPointer) {
        munmap(UnsafeMutableRawPointer(mutating: bytes.baseAddress), bytes.count)
    }

    /// What reading the next record gave.
    enum Outcome {
        case record
        case end
        case damaged(String)
    }

    /// Copies the next record into `frame` (bytes, timestamp, original length).
    mutating func next(into frame: inout Frame) -> Outcome {
        let present = bytes.count - offset
        guard present > 0 else { return .end }
        let headerSize = CaptureFileHeader.pcapRecordHeaderSize
        if let problem = CaptureFileHeader.headerProblem(present: present) { return .damaged(problem) }
        let seconds = u32(at: offset), fraction = u32(at: offset + 4)
        let captured = Int(u32(at: offset + CaptureFileHeader.RecordField.capturedLength))
        let original = Int(u32(at: offset + CaptureFileHeader.RecordField.originalLength))
        if let problem = CaptureFileHeader.lengthProblem(present: present, captured: captured) { return .damaged(problem) }
        if captured > snapLength {
            return .damaged("captured length \(captured) exceeds the snap length \(snapLength)")
        }
        frame.replaceContents(with: UnsafeRawBufferPointer(rebasing: bytes[(offset + headerSize)..<(offset + headerSize + captured)]))
        frame.timestamp = Timestamp(seconds: Int64(seconds), nanoseconds: Int64(fraction) * (nanoseconds ? 1 : 1_000))
        frame.originalLength = original
        offset += headerSize + captured
        return .record
    }

    /// The 32-bit field at `offset` in the file's byte order.
    @inline(__always)
    private func u32(at offset: Int) -> UInt32 {
        let raw = bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self)
        return isBigEndian ? UInt32(bigEndian: raw) : UInt32(littleEndian: raw)
    }
}
