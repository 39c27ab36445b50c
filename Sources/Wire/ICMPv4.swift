/// An ICMP message for IPv4 (RFC 792):
///
/// ```
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |     Type      |     Code      |          Checksum             |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |  Rest of header: identifier + sequence (echo), unused + next- |
/// |  hop MTU (fragmentation needed, RFC 1191), pointer, gateway   |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |  Data: echo payload, or the quoted IP header + 8 bytes        |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ```
///
/// The checksum covers the whole message.
public struct ICMPv4Message: ~Escapable {
    /// Byte offsets of the fields.
    public enum Field {
        public static let type = 0
        public static let code = 1
        public static let checksum = 2
        public static let identifier = 4
        public static let sequence = 6
        public static let nextHopMTU = 6
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
    @inlinable public var type: ICMPv4Type { ICMPv4Type(rawValue: bytes.u8(at: Field.type)) }
    /// The code within the type.
    @inlinable public var code: UInt8 { bytes.u8(at: Field.code) }
    /// The checksum field.
    @inlinable public var checksum: UInt16 { bytes.u16(at: Field.checksum) }
    /// The four bytes after the checksum.
    @inlinable public var restOfHeader: UInt32 { bytes.u32(at: Field.identifier) }
    /// The echo identifier (echo request and reply).
    @inlinable public var identifier: UInt16 { bytes.u16(at: Field.identifier) }
    /// The echo sequence number (echo request and reply).
    @inlinable public var sequence: UInt16 { bytes.u16(at: Field.sequence) }
    /// The next-hop MTU of a fragmentation-needed message (RFC 1191).
    @inlinable public var nextHopMTU: UInt16 { bytes.u16(at: Field.nextHopMTU) }

    /// True when the checksum over the whole message verifies.
    public var isChecksumValid: Bool { InternetChecksum.verify(bytes) }

    /// The data after the header: the echo payload, or an error's quoted datagram.
    public var data: RawSpan {
        @_lifetime(copy self) get { bytes.slice(from: Self.headerLength) }
    }
}

/// An ICMPv4 message type: open, so unknown types survive.
public struct ICMPv4Type: RawRepresentable, Hashable, Sendable {
    /// The type number.
    public let rawValue: UInt8
    /// Makes a type from its number.
    @inlinable public init(rawValue: UInt8) { self.rawValue = rawValue }
    /// Echo reply (0).
    @inlinable public static var echoReply: ICMPv4Type { ICMPv4Type(rawValue: 0) }
    /// Destination unreachable (3).
    @inlinable public static var destinationUnreachable: ICMPv4Type { ICMPv4Type(rawValue: 3) }
    /// Source quench (4, deprecated by RFC 6633).
    @inlinable public static var sourceQuench: ICMPv4Type { ICMPv4Type(rawValue: 4) }
    /// Redirect (5).
    @inlinable public static var redirect: ICMPv4Type { ICMPv4Type(rawValue: 5) }
    /// Echo request (8).
    @inlinable public static var echoRequest: ICMPv4Type { ICMPv4Type(rawValue: 8) }
    /// Time exceeded (11).
    @inlinable public static var timeExceeded: ICMPv4Type { ICMPv4Type(rawValue: 11) }
    /// Parameter problem (12).
    @inlinable public static var parameterProblem: ICMPv4Type { ICMPv4Type(rawValue: 12) }

    /// The codes of destination unreachable (RFC 792; 4 carries the next-hop MTU, RFC 1191).
    public enum UnreachableCode {
        /// Net unreachable (0): no route.
        public static let net: UInt8 = 0
        /// Port unreachable (3): also what kube-proxy's REJECT sends.
        public static let port: UInt8 = 3
        /// Fragmentation needed and DF set (4).
        public static let fragmentationNeeded: UInt8 = 4
    }

    /// True for the error messages that quote the offending datagram.
    @inlinable public var isError: Bool {
        self == .destinationUnreachable || self == .sourceQuench || self == .redirect
            || self == .timeExceeded || self == .parameterProblem
    }
}

/// The fields of an ICMPv4 header, to parse and emit. The data after the header is the
/// caller's: `emit` computes the checksum over everything in the span it is given.
public struct ICMPv4Repr: Equatable, Sendable {
    /// The message type.
    public var type: ICMPv4Type
    /// The code within the type.
    public var code: UInt8
    /// The four bytes after the checksum (identifier and sequence for echo).
    public var restOfHeader: UInt32

    /// Makes a header from its fields.
    public init(type: ICMPv4Type, code: UInt8, restOfHeader: UInt32 = 0) {
        self.type = type
        self.code = code
        self.restOfHeader = restOfHeader
    }

    /// Makes an echo request or reply header.
    public static func echo(reply: Bool, identifier: UInt16, sequence: UInt16) -> ICMPv4Repr {
        ICMPv4Repr(type: reply ? .echoReply : .echoRequest, code: 0,
                   restOfHeader: UInt32(identifier) << 16 | UInt32(sequence))
    }

    /// Reads a validated message's header.
    public init(_ message: borrowing ICMPv4Message) {
        self.init(type: message.type, code: message.code, restOfHeader: message.restOfHeader)
    }

    /// Writes the header at the start of `bytes`, whose rest already holds the data, and the
    /// checksum over all of `bytes`.
    @_lifetime(bytes: copy bytes)
    public func emit(into bytes: inout MutableRawSpan) {
        precondition(bytes.byteCount >= ICMPv4Message.headerLength, "no room for the ICMP header")
        bytes.setU8(type.rawValue, at: ICMPv4Message.Field.type)
        bytes.setU8(code, at: ICMPv4Message.Field.code)
        bytes.setU16(0, at: ICMPv4Message.Field.checksum)
        bytes.setU32(restOfHeader, at: ICMPv4Message.Field.identifier)
        bytes.setU16(InternetChecksum.checksum(bytes.bytes), at: ICMPv4Message.Field.checksum)
    }
}
