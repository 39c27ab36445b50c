#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// What the first bytes of a capture file say before libpcap opens it: the format, the byte
/// order of a classic file's record headers and the timestamp resolution the file stores.
///
/// libpcap reads all of this too but keeps it to itself, and for a file it cannot read it only
/// says "unknown file format"; reading the magic here gives a better message and the file's own
/// precision. The file position is back at 0 afterwards.
struct CaptureFileHeader {
    /// The two file formats libpcap reads.
    enum Format { case pcap, pcapNG }

    /// The classic global header's size in bytes.
    static let pcapHeaderSize = 24
    /// A classic record header's size: seconds, fraction, captured length, original length.
    static let pcapRecordHeaderSize = 16
    /// A classic record header's fields, as byte offsets.
    enum RecordField {
        static let capturedLength = 8
        static let originalLength = 12
    }

    /// pcap or pcapng.
    var format: Format
    /// The resolution of the timestamps as stored.
    var precision: TimestampPrecision
    /// True when a classic file's headers are big-endian.
    var isBigEndian: Bool

    /// Reads the header of the open file `file` (named `path` in errors) and rewinds it.
    init(reading file: UnsafeMutablePointer<FILE>, path: String) throws(CaptureError) {
        let start = try Self.read(Self.pcapHeaderSize, from: file, path: path)
        guard start.count >= 4 else {
            throw CaptureError(file: path, problem: start.isEmpty ? "empty file" : "not a capture file (only \(start.count) bytes)")
        }
        switch Self.u32(start, at: 0, bigEndian: true) {
        case 0xd4c3_b2a1: (format, precision, isBigEndian) = (.pcap, .microseconds, false)
        case 0xa1b2_c3d4: (format, precision, isBigEndian) = (.pcap, .microseconds, true)
        case 0x4d3c_b2a1: (format, precision, isBigEndian) = (.pcap, .nanoseconds, false)
        case 0xa1b2_3c4d: (format, precision, isBigEndian) = (.pcap, .nanoseconds, true)
        case 0x0a0d_0d0a:
            (format, isBigEndian) = (.pcapNG, false)
            precision = Self.pcapNGPrecision(sectionStart: start, file: file)
        case let magic where (1...6).contains(magic.byteSwapped) || (1...6).contains(magic):
            // A pcapng block that is no section header: the file lost its first block.
            let type = min(magic, magic.byteSwapped)
            throw CaptureError(file: path, block: 1, offset: 0,
                               problem: "missing section header: the file starts with a block of type \(type), not a section header block")
        case let magic:
            let hex = String(magic, radix: 16)
            throw CaptureError(file: path, problem: "not a capture file (unknown magic 0x\(String(repeating: "0", count: 8 - hex.count) + hex))")
        }
        if format == .pcap && start.count < Self.pcapHeaderSize {
            throw CaptureError(file: path, problem: "truncated global header: \(start.count) of \(Self.pcapHeaderSize) bytes")
        }
        clearerr(file)
        if fseek(file, 0, SEEK_SET) != 0 {
            throw CaptureError(file: path, problem: "cannot rewind: \(systemMessage(errno))")
        }
    }

    /// The resolution named by the first interface description block's `if_tsresol` option
    /// (microseconds when absent, as pcapng specifies). Only the first interface is read: a
    /// file mixing resolutions is rare, and libpcap converts each to nanoseconds anyway.
    /// Anything unreadable here is left for libpcap to report.
    private static func pcapNGPrecision(sectionStart: [UInt8], file: UnsafeMutablePointer<FILE>) -> TimestampPrecision {
        enum Block {
            static let interfaceDescription: UInt32 = 1
            static let byteOrderMagic: UInt32 = 0x1a2b_3c4d
            static let optionsOffset = 8           // link type (2), reserved (2), snap length (4)
        }
        enum Option {
            static let end: UInt16 = 0
            static let timestampResolution: UInt16 = 9
        }
        guard sectionStart.count >= 12 else { return .microseconds }
        let bigEndian: Bool
        switch u32(sectionStart, at: 8, bigEndian: true) {
        case Block.byteOrderMagic: bigEndian = true
        case Block.byteOrderMagic.byteSwapped: bigEndian = false
        default: return .microseconds
        }
        let sectionLength = u32(sectionStart, at: 4, bigEndian: bigEndian)
        guard sectionLength >= 28, sectionLength <= 1 << 20, fseek(file, Int(sectionLength), SEEK_SET) == 0,
              let blockHeader = try? read(8, from: file, path: ""), blockHeader.count == 8,
              u32(blockHeader, at: 0, bigEndian: bigEndian) == Block.interfaceDescription
        else { return .microseconds }
        let blockLength = Int(u32(blockHeader, at: 4, bigEndian: bigEndian))
        guard blockLength >= 20, blockLength <= 1 << 16,
              let body = try? read(blockLength - 8, from: file, path: ""), body.count == blockLength - 8
        else { return .microseconds }
        var offset = Block.optionsOffset
        let end = body.count - 4                    // the block's trailing length
        while offset + 4 <= end {
            let code = u16(body, at: offset, bigEndian: bigEndian)
            let length = Int(u16(body, at: offset + 2, bigEndian: bigEndian))
            if code == Option.end || offset + 4 + length > end { break }
            if code == Option.timestampResolution && length == 1 {
                let value = body[offset + 4]
                let finerThanMicroseconds = value & 0x80 == 0 ? value > 6 : value & 0x7f > 19
                return finerThanMicroseconds ? .nanoseconds : .microseconds
            }
            offset += 4 + ((length + 3) & ~3)   // values are padded to 32 bits
        }
        return .microseconds
    }

    /// Up to `count` bytes from the current position; fewer only at the end of the file.
    static func read(_ count: Int, from file: UnsafeMutablePointer<FILE>, path: String) throws(CaptureError) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        let got = bytes.withUnsafeMutableBytes { fread($0.baseAddress, 1, count, file) }
        if got < count && ferror(file) != 0 {
            throw CaptureError(file: path, problem: "cannot read: \(systemMessage(errno))")
        }
        bytes.removeLast(count - got)
        return bytes
    }

    /// The 32-bit value at `offset` in the given byte order.
    /// What is wrong with a classic record that has `present` bytes left in the file from its
    /// header on, when too few for the 16-byte header; nil otherwise.
    @inline(__always)
    static func headerProblem(present: Int) -> String? {
        present < pcapRecordHeaderSize ? "record header cut off: \(present) of \(pcapRecordHeaderSize) bytes present" : nil
    }

    /// What is wrong with a classic record whose header says `captured` bytes, with `present`
    /// bytes left from its header on: longer than any record may be, or cut off; nil when
    /// whole. The memory-mapped reader and the diagnosis of libpcap's failures both ask, so a
    /// damaged record reads the same either way.
    @inline(__always)
    static func lengthProblem(present: Int, captured: Int) -> String? {
        if captured > PcapReader.maximumCapturedLength {
            return "captured length \(captured) exceeds \(PcapReader.maximumCapturedLength) (256 KiB)"
        }
        if present - pcapRecordHeaderSize < captured {
            return "record cut off: \(present - pcapRecordHeaderSize) of \(captured) captured bytes present"
        }
        return nil
    }

    static func u32(_ bytes: [UInt8], at offset: Int, bigEndian: Bool) -> UInt32 {
        let value = bytes[offset..<offset + 4].reduce(0) { $0 << 8 | UInt32($1) }
        return bigEndian ? value : value.byteSwapped
    }

    /// The 16-bit value at `offset` in the given byte order.
    static func u16(_ bytes: [UInt8], at offset: Int, bigEndian: Bool) -> UInt16 {
        let value = UInt16(bytes[offset]) << 8 | UInt16(bytes[offset + 1])
        return bigEndian ? value : value.byteSwapped
    }
}
