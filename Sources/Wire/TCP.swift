/// A TCP header (RFC 9293 §3.1):
///
/// ```
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |          Source Port          |       Destination Port        |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                        Sequence Number                        |
/// |                    Acknowledgment Number                      |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |  Data |     |A|C|E|U|A|P|R|S|F|                               |
/// | Offset| Rsv |E|W|C|R|C|S|S|Y|I|            Window             |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |           Checksum            |         Urgent Pointer        |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                    Options (data offset > 5)                  |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ```
///
/// The flags are read as Wireshark's `tcp.flags`: the 12 bits after the data offset (AE,
/// CWR, ECE, URG, ACK, PSH, RST, SYN, FIN and three reserved).
public struct TCPHeader: ~Escapable {
    /// Byte offsets of the fields.
    public enum Field {
        public static let sourcePort = 0
        public static let destinationPort = 2
        public static let sequence = 4
        public static let acknowledgment = 8
        public static let dataOffsetAndFlags = 12
        public static let window = 14
        public static let checksum = 16
        public static let urgentPointer = 18
        public static let options = 20
    }

    /// The fixed header's length in bytes.
    public static let minimumLength = 20

    /// The segment's bytes, header first.
    public let bytes: RawSpan

    /// Checks the data offset and that the whole header is present.
    @inlinable
    @_lifetime(copy bytes)
    public init(validating bytes: RawSpan) throws(WireError) {
        try bytes.require(Self.minimumLength)
        let headerLength = Int(bytes.u8(at: Field.dataOffsetAndFlags) >> 4) * 4
        guard headerLength >= Self.minimumLength else { throw .badHeaderLength(headerLength) }
        try bytes.require(headerLength)
        self.bytes = bytes
    }

    /// The source port.
    @inlinable public var sourcePort: UInt16 { bytes.u16(at: Field.sourcePort) }
    /// The destination port.
    @inlinable public var destinationPort: UInt16 { bytes.u16(at: Field.destinationPort) }
    /// The sequence number.
    @inlinable public var sequence: UInt32 { bytes.u32(at: Field.sequence) }
    /// The acknowledgment number.
    @inlinable public var acknowledgment: UInt32 { bytes.u32(at: Field.acknowledgment) }
    /// The header's length in bytes, options included.
    @inlinable public var headerLength: Int { Int(bytes.u8(at: Field.dataOffsetAndFlags) >> 4) * 4 }
    /// The flags.
    @inlinable public var flags: TCPFlags { TCPFlags(rawValue: bytes.u16(at: Field.dataOffsetAndFlags) & 0x0FFF) }
    /// The receive window.
    @inlinable public var window: UInt16 { bytes.u16(at: Field.window) }
    /// The checksum field.
    @inlinable public var checksum: UInt16 { bytes.u16(at: Field.checksum) }
    /// The urgent pointer.
    @inlinable public var urgentPointer: UInt16 { bytes.u16(at: Field.urgentPointer) }

    /// The options.
    public var options: RawSpan {
        @_lifetime(copy self) get { bytes.slice(from: Field.options, count: headerLength - Field.options) }
    }

    /// The data after the header.
    public var payload: RawSpan {
        @_lifetime(copy self) get { bytes.slice(from: headerLength) }
    }

    /// True when the checksum over pseudo-header and the whole segment verifies.
    public func isChecksumValid(pseudoHeaderSum: UInt16) -> Bool {
        InternetChecksum.verify(bytes, initial: pseudoHeaderSum)
    }
}

/// TCP control bits, as an option set over Wireshark's 12-bit `tcp.flags` value.
public struct TCPFlags: OptionSet, Hashable, Sendable {
    /// The 12 bits.
    public let rawValue: UInt16
    /// Makes flags from their bits.
    @inlinable public init(rawValue: UInt16) { self.rawValue = rawValue & 0x0FFF }
    /// FIN: no more data from the sender.
    public static let fin = TCPFlags(rawValue: 0x001)
    /// SYN: synchronize sequence numbers.
    public static let syn = TCPFlags(rawValue: 0x002)
    /// RST: reset the connection.
    public static let rst = TCPFlags(rawValue: 0x004)
    /// PSH: push.
    public static let psh = TCPFlags(rawValue: 0x008)
    /// ACK: the acknowledgment field is significant.
    public static let ack = TCPFlags(rawValue: 0x010)
    /// URG: the urgent pointer is significant.
    public static let urg = TCPFlags(rawValue: 0x020)
    /// ECE: ECN echo (RFC 3168).
    public static let ece = TCPFlags(rawValue: 0x040)
    /// CWR: congestion window reduced (RFC 3168).
    public static let cwr = TCPFlags(rawValue: 0x080)
    /// AE: accurate ECN (formerly NS, RFC 3540).
    public static let ae = TCPFlags(rawValue: 0x100)

    /// `0x012`: three hex digits, the contract of `inspect --json`'s `tcp.flags`.
    public var hexDescription: String {
        let digits = String(rawValue, radix: 16)
        return "0x" + String(repeating: "0", count: max(0, 3 - digits.count)) + digits
    }
}

/// The fields of a TCP header, to parse and emit.
public struct TCPRepr: Equatable, Sendable {
    /// The source port.
    public var sourcePort: UInt16
    /// The destination port.
    public var destinationPort: UInt16
    /// The sequence number.
    public var sequence: UInt32
    /// The acknowledgment number.
    public var acknowledgment: UInt32
    /// The flags.
    public var flags: TCPFlags
    /// The receive window.
    public var window: UInt16
    /// The urgent pointer.
    public var urgentPointer: UInt16
    /// The options, a multiple of four bytes (at most 40).
    public var options: [UInt8]

    /// Makes a header from its fields.
    public init(sourcePort: UInt16, destinationPort: UInt16, sequence: UInt32, acknowledgment: UInt32 = 0,
                flags: TCPFlags, window: UInt16 = 65_535, urgentPointer: UInt16 = 0, options: [UInt8] = []) {
        self.sourcePort = sourcePort
        self.destinationPort = destinationPort
        self.sequence = sequence
        self.acknowledgment = acknowledgment
        self.flags = flags
        self.window = window
        self.urgentPointer = urgentPointer
        self.options = options
    }

    /// Reads a validated header.
    public init(_ header: borrowing TCPHeader) {
        var options: [UInt8] = []
        header.options.withUnsafeBytes { options = Array($0) }
        self.init(sourcePort: header.sourcePort, destinationPort: header.destinationPort,
                  sequence: header.sequence, acknowledgment: header.acknowledgment, flags: header.flags,
                  window: header.window, urgentPointer: header.urgentPointer, options: options)
    }

    /// The header's length in bytes.
    public var headerLength: Int { TCPHeader.minimumLength + options.count }

    /// Writes the header at the start of `bytes`, whose rest holds the data, with the checksum
    /// over the pseudo-header sum and all of `bytes`.
    @_lifetime(bytes: copy bytes)
    public func emit(into bytes: inout MutableRawSpan, pseudoHeaderSum: UInt16) {
        precondition(options.count % 4 == 0 && options.count <= 40, "TCP options must be 4-byte words, at most 40 bytes")
        precondition(bytes.byteCount >= headerLength, "no room for the TCP header")
        typealias Field = TCPHeader.Field
        bytes.setU16(sourcePort, at: Field.sourcePort)
        bytes.setU16(destinationPort, at: Field.destinationPort)
        bytes.setU32(sequence, at: Field.sequence)
        bytes.setU32(acknowledgment, at: Field.acknowledgment)
        bytes.setU16(UInt16(headerLength / 4) << 12 | flags.rawValue, at: Field.dataOffsetAndFlags)
        bytes.setU16(window, at: Field.window)
        bytes.setU16(0, at: Field.checksum)
        bytes.setU16(urgentPointer, at: Field.urgentPointer)
        for (index, byte) in options.enumerated() { bytes.setU8(byte, at: Field.options + index) }
        bytes.setU16(InternetChecksum.checksum(bytes.bytes, initial: pseudoHeaderSum), at: Field.checksum)
    }
}
