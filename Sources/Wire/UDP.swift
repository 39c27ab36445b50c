/// A UDP header (RFC 768):
///
/// ```
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |          Source Port          |       Destination Port        |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |            Length             |           Checksum            |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ```
///
/// A zero checksum over IPv4 means "none" (RFC 768); the length field covers header and data.
public struct UDPHeader: ~Escapable {
    /// Byte offsets of the fields.
    public enum Field {
        public static let sourcePort = 0
        public static let destinationPort = 2
        public static let length = 4
        public static let checksum = 6
    }

    /// The header's length in bytes.
    public static let length = 8

    /// The datagram's bytes, header first.
    public let bytes: RawSpan

    /// Checks the header's bytes and that the length field covers the header.
    @inlinable
    @_lifetime(copy bytes)
    public init(validating bytes: RawSpan) throws(WireError) {
        try bytes.require(Self.length)
        let length = Int(bytes.u16(at: Field.length))
        guard length >= Self.length else { throw .badTotalLength(length) }
        self.bytes = bytes
    }

    /// The source port.
    @inlinable public var sourcePort: UInt16 { bytes.u16(at: Field.sourcePort) }
    /// The destination port.
    @inlinable public var destinationPort: UInt16 { bytes.u16(at: Field.destinationPort) }
    /// The length field: header plus data.
    @inlinable public var length: Int { Int(bytes.u16(at: Field.length)) }
    /// The checksum field (0: none).
    @inlinable public var checksum: UInt16 { bytes.u16(at: Field.checksum) }
    /// True when the length field runs past the bytes present.
    @inlinable public var isTruncated: Bool { length > bytes.byteCount }

    /// The data: from the header's end to the length field or the last byte present.
    public var payload: RawSpan {
        @_lifetime(copy self) get {
            bytes.slice(from: Self.length, count: min(length, bytes.byteCount) - Self.length)
        }
    }

    /// True when the checksum over pseudo-header, header and data verifies. A zero checksum
    /// (none sent) is not checked here: look at `checksum` first.
    public func isChecksumValid(pseudoHeaderSum: UInt16) -> Bool {
        InternetChecksum.verify(bytes.slice(from: 0, count: min(length, bytes.byteCount)), initial: pseudoHeaderSum)
    }
}

/// The fields of a UDP header, to parse and emit.
public struct UDPRepr: Equatable, Sendable {
    /// The source port.
    public var sourcePort: UInt16
    /// The destination port.
    public var destinationPort: UInt16

    /// Makes a header from its ports.
    public init(sourcePort: UInt16, destinationPort: UInt16) {
        self.sourcePort = sourcePort
        self.destinationPort = destinationPort
    }

    /// Reads a validated header.
    public init(_ header: borrowing UDPHeader) {
        self.init(sourcePort: header.sourcePort, destinationPort: header.destinationPort)
    }

    /// Writes the header at the start of `bytes`, whose rest holds the data: the length is
    /// `bytes.byteCount`; the checksum covers the pseudo-header sum and all of `bytes`, or is
    /// zero (none) when `pseudoHeaderSum` is nil. A computed zero is sent as 0xFFFF (RFC 768).
    @_lifetime(bytes: copy bytes)
    public func emit(into bytes: inout MutableRawSpan, pseudoHeaderSum: UInt16?) {
        precondition(bytes.byteCount >= UDPHeader.length && bytes.byteCount <= 0xFFFF, "bad UDP datagram size")
        bytes.setU16(sourcePort, at: UDPHeader.Field.sourcePort)
        bytes.setU16(destinationPort, at: UDPHeader.Field.destinationPort)
        bytes.setU16(UInt16(bytes.byteCount), at: UDPHeader.Field.length)
        bytes.setU16(0, at: UDPHeader.Field.checksum)
        guard let pseudoHeaderSum else { return }
        let checksum = InternetChecksum.checksum(bytes.bytes, initial: pseudoHeaderSum)
        bytes.setU16(checksum == 0 ? 0xFFFF : checksum, at: UDPHeader.Field.checksum)
    }
}
