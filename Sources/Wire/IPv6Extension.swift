/// An IPv6 extension header that Pier walks (RFC 8200 §4): hop-by-hop options (0), routing
/// (43), fragment (44) and destination options (60).
///
/// ```
/// Hop-by-hop, routing, destination options:      Fragment (always 8 bytes):
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |  Next Header  |  Hdr Ext Len  |  ...        |   |  Next Header  |   Reserved    |  Fragment Offset  |Res|M|
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+             |   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |  (Hdr Ext Len + 1) * 8 bytes in all         |   |                 Identification                    |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ```
///
/// The routing header's type and segments-left fields sit at bytes 2 and 3.
public struct IPv6ExtensionHeader: ~Escapable {
    /// Byte offsets of the fields.
    public enum Field {
        public static let nextHeader = 0
        public static let extensionLength = 1
        public static let routingType = 2
        public static let segmentsLeft = 3
        public static let fragmentOffsetAndFlags = 2
        public static let identification = 4
    }

    /// The smallest extension header, and the fragment header's only size.
    public static let minimumLength = 8

    /// Which extension header this is (the previous header's next-header value).
    public let kind: IPProtocol
    /// The bytes, this header first.
    public let bytes: RawSpan

    /// Checks that `bytes` holds the whole extension header of type `kind`.
    @inlinable
    @_lifetime(copy bytes)
    public init(validating bytes: RawSpan, kind: IPProtocol) throws(WireError) {
        precondition(kind.isIPv6Extension, "not an IPv6 extension header type")
        try bytes.require(Self.minimumLength)
        let length = kind == .fragment ? Self.minimumLength : (Int(bytes.u8(at: Field.extensionLength)) + 1) * 8
        try bytes.require(length)
        self.kind = kind
        self.bytes = bytes
    }

    /// The type of the header after this one.
    @inlinable public var nextHeader: IPProtocol { IPProtocol(rawValue: bytes.u8(at: Field.nextHeader)) }
    /// This header's length in bytes.
    @inlinable public var length: Int {
        kind == .fragment ? Self.minimumLength : (Int(bytes.u8(at: Field.extensionLength)) + 1) * 8
    }
    /// The fragment offset in 8-byte units (fragment header only).
    @inlinable public var fragmentOffset: UInt16 { bytes.u16(at: Field.fragmentOffsetAndFlags) >> 3 }
    /// The more-fragments flag (fragment header only).
    @inlinable public var moreFragments: Bool { bytes.u16(at: Field.fragmentOffsetAndFlags) & 1 != 0 }
    /// The identification (fragment header only).
    @inlinable public var identification: UInt32 { bytes.u32(at: Field.identification) }
    /// The routing type (routing header only).
    @inlinable public var routingType: UInt8 { bytes.u8(at: Field.routingType) }
    /// The segments left (routing header only).
    @inlinable public var segmentsLeft: UInt8 { bytes.u8(at: Field.segmentsLeft) }

    /// The bytes after this header.
    public var payload: RawSpan {
        @_lifetime(copy self) get { bytes.slice(from: length) }
    }
}

/// The fields of an IPv6 extension header, to parse and emit: the kind, the next header and
/// the bytes after the first two (options, routing data, or the fragment fields).
public struct IPv6ExtensionRepr: Equatable, Sendable {
    /// Which extension header.
    public var kind: IPProtocol
    /// The type of the header after it.
    public var nextHeader: IPProtocol
    /// The header's bytes after its first two; the whole header is a multiple of 8 bytes,
    /// so this is 6, 14, 22, … bytes long (exactly 6 for a fragment header).
    public var body: [UInt8]

    /// Makes an extension header from its parts.
    public init(kind: IPProtocol, nextHeader: IPProtocol, body: [UInt8]) {
        self.kind = kind
        self.nextHeader = nextHeader
        self.body = body
    }

    /// Makes a fragment header.
    public init(fragmentOffset: UInt16, moreFragments: Bool, identification: UInt32, nextHeader: IPProtocol) {
        let offsetAndFlags = fragmentOffset << 3 | (moreFragments ? 1 : 0)
        self.init(kind: .fragment, nextHeader: nextHeader, body: [
            UInt8(offsetAndFlags >> 8), UInt8(offsetAndFlags & 0xFF),
            UInt8(identification >> 24), UInt8(identification >> 16 & 0xFF),
            UInt8(identification >> 8 & 0xFF), UInt8(identification & 0xFF),
        ])
    }

    /// Reads a validated extension header.
    public init(_ header: borrowing IPv6ExtensionHeader) {
        var body: [UInt8] = []
        header.bytes.slice(from: 2, count: header.length - 2).withUnsafeBytes { body = Array($0) }
        self.init(kind: header.kind, nextHeader: header.nextHeader, body: body)
    }

    /// The header's length in bytes.
    public var length: Int { 2 + body.count }

    /// Writes the header at the start of `bytes`.
    @_lifetime(bytes: copy bytes)
    public func emit(into bytes: inout MutableRawSpan) {
        precondition(length % 8 == 0 && (kind != .fragment || length == 8), "bad extension header length")
        precondition(bytes.byteCount >= length, "no room for the extension header")
        bytes.setU8(nextHeader.rawValue, at: IPv6ExtensionHeader.Field.nextHeader)
        bytes.setU8(kind == .fragment ? 0 : UInt8(length / 8 - 1), at: IPv6ExtensionHeader.Field.extensionLength)
        for (index, byte) in body.enumerated() { bytes.setU8(byte, at: 2 + index) }
    }
}
