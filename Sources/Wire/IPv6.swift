/// An IPv6 header (RFC 8200 §3):
///
/// ```
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |Version| Traffic Class |           Flow Label                  |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |         Payload Length        |  Next Header  |   Hop Limit   |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                Source Address (16 bytes)                      |
/// |             Destination Address (16 bytes)                    |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ```
///
/// As with IPv4, a payload length beyond the bytes present is not rejected (`isTruncated`);
/// the payload stops at the bytes present. Extension headers are walked by
/// `IPv6ExtensionHeader`.
public struct IPv6Header: ~Escapable {
    /// Byte offsets of the fields.
    public enum Field {
        public static let versionClassFlow = 0
        public static let payloadLength = 4
        public static let nextHeader = 6
        public static let hopLimit = 7
        public static let source = 8
        public static let destination = 24
    }

    /// The header's length in bytes.
    public static let length = 40

    /// The packet's bytes, header first.
    public let bytes: RawSpan

    /// Checks the length and the version.
    @inlinable
    @_lifetime(copy bytes)
    public init(validating bytes: RawSpan) throws(WireError) {
        try bytes.require(Self.length)
        let version = bytes.u8(at: Field.versionClassFlow) >> 4
        guard version == 6 else { throw .badVersion(version) }
        self.bytes = bytes
    }

    /// The traffic class.
    @inlinable public var trafficClass: UInt8 { UInt8(truncatingIfNeeded: bytes.u32(at: Field.versionClassFlow) >> 20) }
    /// The flow label (20 bits).
    @inlinable public var flowLabel: UInt32 { bytes.u32(at: Field.versionClassFlow) & 0xF_FFFF }
    /// The payload length field: everything after this header.
    @inlinable public var payloadLength: Int { Int(bytes.u16(at: Field.payloadLength)) }
    /// The type of the next header.
    @inlinable public var nextHeader: IPProtocol { IPProtocol(rawValue: bytes.u8(at: Field.nextHeader)) }
    /// The hop limit.
    @inlinable public var hopLimit: UInt8 { bytes.u8(at: Field.hopLimit) }
    /// The source address.
    @inlinable public var source: IPv6Address { bytes.ipv6(at: Field.source) }
    /// The destination address.
    @inlinable public var destination: IPv6Address { bytes.ipv6(at: Field.destination) }
    /// True when the payload length runs past the bytes present.
    @inlinable public var isTruncated: Bool { Self.length + payloadLength > bytes.byteCount }

    /// The payload: from the end of the header to the payload length or the last byte present.
    public var payload: RawSpan {
        @_lifetime(copy self) get {
            bytes.slice(from: Self.length, count: min(payloadLength, bytes.byteCount - Self.length))
        }
    }
}

/// The fields of an IPv6 header, to parse and emit.
public struct IPv6Repr: Equatable, Sendable {
    /// The source address.
    public var source: IPv6Address
    /// The destination address.
    public var destination: IPv6Address
    /// The next header's type.
    public var nextHeader: IPProtocol
    /// The payload's length in bytes.
    public var payloadLength: Int
    /// The hop limit.
    public var hopLimit: UInt8
    /// The traffic class.
    public var trafficClass: UInt8
    /// The flow label (20 bits).
    public var flowLabel: UInt32

    /// Makes a header from its fields.
    public init(source: IPv6Address, destination: IPv6Address, nextHeader: IPProtocol,
                payloadLength: Int, hopLimit: UInt8 = 64, trafficClass: UInt8 = 0, flowLabel: UInt32 = 0) {
        self.source = source
        self.destination = destination
        self.nextHeader = nextHeader
        self.payloadLength = payloadLength
        self.hopLimit = hopLimit
        self.trafficClass = trafficClass
        self.flowLabel = flowLabel
    }

    /// Reads a validated header.
    public init(_ header: borrowing IPv6Header) {
        self.init(source: header.source, destination: header.destination, nextHeader: header.nextHeader,
                  payloadLength: header.payloadLength, hopLimit: header.hopLimit,
                  trafficClass: header.trafficClass, flowLabel: header.flowLabel)
    }

    /// Writes the 40-byte header at the start of `bytes`.
    @_lifetime(bytes: copy bytes)
    public func emit(into bytes: inout MutableRawSpan) {
        precondition(bytes.byteCount >= IPv6Header.length, "no room for the IPv6 header")
        typealias Field = IPv6Header.Field
        bytes.setU32(6 << 28 | UInt32(trafficClass) << 20 | (flowLabel & 0xF_FFFF), at: Field.versionClassFlow)
        bytes.setU16(UInt16(payloadLength), at: Field.payloadLength)
        bytes.setU8(nextHeader.rawValue, at: Field.nextHeader)
        bytes.setU8(hopLimit, at: Field.hopLimit)
        bytes.setIPv6(source, at: Field.source)
        bytes.setIPv6(destination, at: Field.destination)
    }
}
