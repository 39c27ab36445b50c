import Dataplane
import Wire

/// Writes frames to a pcapng file (draft-ietf-opsawg-pcapng) with several interfaces: one
/// section header, an interface description per interface (its `if_name`, and `if_tsresol`
/// 9: nanosecond timestamps), then an enhanced packet block per frame with its interface,
/// timestamp, original length and, when known, its direction in `epb_flags`. This machine's
/// byte order, as dumpcap writes.
///
/// `pier replay --out-all` writes one interface per port, each holding what the port sent,
/// so the output can be compared interface by interface with a node's own capture.
public final class PcapNGWriter {
    /// The file's path, as given.
    public let path: String
    /// The interfaces, in the order of their index.
    public let interfaces: [(name: String, linkType: LinkType)]
    /// The number of packets written so far.
    public private(set) var recordsWritten = 0

    private var output: BufferedOutput

    /// Creates the file at `path` (as `PcapWriter` does) and writes the section header and
    /// the interface descriptions.
    public init(path: String, interfaces: [(name: String, linkType: LinkType)]) throws(CaptureError) {
        output = try BufferedOutput(path: path)
        self.path = path
        self.interfaces = interfaces
        var header: [UInt8] = []
        // Section header: byte-order magic, version 1.0, section length unknown (-1).
        Self.appendBlock(PcapNG.BlockType.sectionHeader, to: &header) { body in
            body += Self.bytes(PcapNG.byteOrderMagic) + Self.bytes(UInt16(1)) + Self.bytes(UInt16(0)) + Self.bytes(UInt64.max)
        }
        for interface in interfaces {
            Self.appendBlock(PcapNG.BlockType.interfaceDescription, to: &header) { body in
                body += Self.bytes(UInt16(truncatingIfNeeded: interface.linkType.rawValue)) + Self.bytes(UInt16(0))
                    + Self.bytes(UInt32(0))
                Self.appendOption(PcapNG.Option.ifName, Array(interface.name.utf8), to: &body)
                Self.appendOption(PcapNG.Option.ifTimestampResolution, [9], to: &body)
                body += Self.bytes(PcapNG.Option.end) + Self.bytes(UInt16(0))
            }
        }
        header.withUnsafeBytes { bytes in
            output.buffer.copyMemory(from: bytes.baseAddress!, byteCount: bytes.count)
        }
        output.used = header.count
    }

    deinit { output.closeDroppingErrors() }

    /// The size of the `epb_flags` option and the end of options.
    private static let flagsSize = 12

    /// Appends `frame` as an enhanced packet block of interface `interface` (an index in
    /// `interfaces`), flagged with `direction` unless it is unknown.
    public func write(_ frame: borrowing Frame, interface: Int, direction: CaptureDirection = .unknown) throws(CaptureError) {
        let record = recordsWritten + 1
        guard output.isOpen else { throw CaptureError(file: path, record: record, problem: "write after close") }
        guard interfaces.indices.contains(interface) else {
            throw CaptureError(file: path, record: record, problem: "no interface \(interface) (the file has \(interfaces.count))")
        }
        let count = frame.count
        guard count <= PcapReader.maximumCapturedLength else {
            throw CaptureError(file: path, record: record, problem: "frame of \(count) bytes exceeds \(PcapReader.maximumCapturedLength)")
        }
        let flags = direction == .unknown ? 0 : Self.flagsSize
        let length = PcapNG.Field.packetData + PcapNG.padded(count) + flags + 4
        let block = try output.reserve(length)
        let units = UInt64(bitPattern: frame.timestamp.nanoseconds)
        block.storeBytes(of: PcapNG.BlockType.enhancedPacket, toByteOffset: PcapNG.Field.type, as: UInt32.self)
        block.storeBytes(of: UInt32(length), toByteOffset: PcapNG.Field.length, as: UInt32.self)
        block.storeBytes(of: UInt32(interface), toByteOffset: PcapNG.Field.interface, as: UInt32.self)
        block.storeBytes(of: UInt32(truncatingIfNeeded: units >> 32), toByteOffset: PcapNG.Field.timestampHigh, as: UInt32.self)
        block.storeBytes(of: UInt32(truncatingIfNeeded: units), toByteOffset: PcapNG.Field.timestampLow, as: UInt32.self)
        block.storeBytes(of: UInt32(count), toByteOffset: PcapNG.Field.capturedLength, as: UInt32.self)
        block.storeBytes(of: UInt32(clamping: max(frame.originalLength, count)), toByteOffset: PcapNG.Field.originalLength, as: UInt32.self)
        let data = block + PcapNG.Field.packetData
        frame.withUnsafeBytes { bytes in
            guard let base = bytes.baseAddress else { return }
            data.copyMemory(from: base, byteCount: bytes.count)
        }
        (data + count).initializeMemory(as: UInt8.self, repeating: 0, count: PcapNG.padded(count) - count)
        if flags > 0 {
            let options = data + PcapNG.padded(count)
            options.storeBytes(of: PcapNG.Option.packetFlags, toByteOffset: 0, as: UInt16.self)
            options.storeBytes(of: 4, toByteOffset: 2, as: UInt16.self)
            options.storeBytes(of: UInt32(direction.rawValue), toByteOffset: 4, as: UInt32.self)
            options.storeBytes(of: 0, toByteOffset: 8, as: UInt32.self)  // opt_endofopt
        }
        block.storeBytes(of: UInt32(length), toByteOffset: length - 4, as: UInt32.self)
        output.used += length
        recordsWritten = record
    }

    /// Flushes and closes the file; throws if any write failed. Calling it again does nothing.
    public func close() throws(CaptureError) { try output.close() }

    /// Appends a block of `type` whose body `body` appends, with both its lengths.
    private static func appendBlock(_ type: UInt32, to bytes: inout [UInt8], _ body: (inout [UInt8]) -> Void) {
        var contents: [UInt8] = []
        body(&contents)
        let length = UInt32(12 + contents.count)
        bytes += Self.bytes(type) + Self.bytes(length) + contents + Self.bytes(length)
    }

    /// Appends an option, its value padded to 32 bits.
    private static func appendOption(_ code: UInt16, _ value: [UInt8], to body: inout [UInt8]) {
        body += bytes(code) + bytes(UInt16(value.count)) + value
        body += [UInt8](repeating: 0, count: PcapNG.padded(value.count) - value.count)
    }

    /// `value`'s bytes in this machine's order.
    private static func bytes<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
        withUnsafeBytes(of: value) { Array($0) }
    }
}
