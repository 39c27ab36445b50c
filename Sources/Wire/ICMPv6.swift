/// An ICMPv6 message (RFC 4443 §2.1):
///
/// ```
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |     Type      |     Code      |          Checksum             |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |  Message body: identifier + sequence (echo), MTU (packet too  |
/// |  big), pointer (parameter problem), reserved (NDP), ...       |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ```
///
/// Every message RFC 4443 and RFC 4861 define has at least these 8 bytes. The checksum
/// covers the IPv6 pseudo-header and the whole message.
public struct ICMPv6Message: ~Escapable {
    /// Byte offsets of the fields.
    public enum Field {
        public static let type = 0
        public static let code = 1
        public static let checksum = 2
        public static let identifier = 4
        public static let sequence = 6
        public static let data = 8
    }

    /// The header's length in bytes.
    public static let headerLength = 8

    /// The message's bytes.
    public let bytes: RawSpan

    /// Checks that `bytes` holds the 8-byte header.
    @inlinable
    @_lifetime(copy bytes)
    public init(validating bytes: RawSpan) throws(WireError) {
        try bytes.require(Self.headerLength)
        self.bytes = bytes
    }

    /// The message type.
    @inlinable public var type: UInt8 { bytes.u8(at: Field.type) }
    /// The code within the type.
    @inlinable public var code: UInt8 { bytes.u8(at: Field.code) }
    /// The checksum field.
    @inlinable public var checksum: UInt16 { bytes.u16(at: Field.checksum) }
    /// The four bytes after the checksum.
    @inlinable public var restOfHeader: UInt32 { bytes.u32(at: Field.identifier) }
    /// The echo identifier (types 128 and 129).
    @inlinable public var identifier: UInt16 { bytes.u16(at: Field.identifier) }
    /// The echo sequence number (types 128 and 129).
    @inlinable public var sequence: UInt16 { bytes.u16(at: Field.sequence) }
    /// True for the error messages (types below 128) that quote the offending packet.
    @inlinable public var isError: Bool { ICMPv6Repr.isError(type) }

    /// True when the checksum verifies against the given pseudo-header sum.
    public func isChecksumValid(pseudoHeaderSum: UInt16) -> Bool {
        InternetChecksum.verify(bytes, initial: pseudoHeaderSum)
    }

    /// The data after the 8-byte header.
    public var data: RawSpan {
        @_lifetime(copy self) get { bytes.slice(from: Self.headerLength) }
    }
}

/// The fields of an ICMPv6 header, to parse and emit; `emit` checksums the whole span.
public struct ICMPv6Repr: Equatable, Sendable {
    /// True for the error message types (below 128, RFC 4443 §2.1), which quote the
    /// offending packet; 128 and above are informational.
    @inlinable public static func isError(_ type: UInt8) -> Bool { type < 128 }
    /// Echo request.
    public static let echoRequest: UInt8 = 128
    /// Echo reply.
    public static let echoReply: UInt8 = 129
    /// Destination unreachable (RFC 4443 §3.1; code 0: no route to destination).
    public static let destinationUnreachable: UInt8 = 1
    /// Packet too big (RFC 4443 §3.2).
    public static let packetTooBig: UInt8 = 2
    /// Time exceeded (RFC 4443 §3.3; code 0: hop limit exceeded in transit).
    public static let timeExceeded: UInt8 = 3
    /// Parameter problem (RFC 4443 §3.4).
    public static let parameterProblem: UInt8 = 4

    /// The message type.
    public var type: UInt8
    /// The code within the type.
    public var code: UInt8
    /// The four bytes after the checksum.
    public var restOfHeader: UInt32

    /// Makes a header from its fields.
    public init(type: UInt8, code: UInt8, restOfHeader: UInt32 = 0) {
        self.type = type
        self.code = code
        self.restOfHeader = restOfHeader
    }

    /// Reads a validated message's header.
    public init(_ message: borrowing ICMPv6Message) {
        self.init(type: message.type, code: message.code, restOfHeader: message.restOfHeader)
    }

    /// Writes the header at the start of `bytes`, whose rest already holds the data, with the
    /// checksum over the pseudo-header sum and all of `bytes`.
    @_lifetime(bytes: copy bytes)
    public func emit(into bytes: inout MutableRawSpan, pseudoHeaderSum: UInt16) {
        precondition(bytes.byteCount >= ICMPv6Message.headerLength, "no room for the ICMPv6 header")
        bytes.setU8(type, at: ICMPv6Message.Field.type)
        bytes.setU8(code, at: ICMPv6Message.Field.code)
        bytes.setU16(0, at: ICMPv6Message.Field.checksum)
        bytes.setU32(restOfHeader, at: ICMPv6Message.Field.identifier)
        let checksum = InternetChecksum.checksum(bytes.bytes, initial: pseudoHeaderSum)
        bytes.setU16(checksum, at: ICMPv6Message.Field.checksum)
    }
}
