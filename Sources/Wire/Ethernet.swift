/// An Ethernet II header (IEEE 802.3, RFC 894):
///
/// ```
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                    Destination MAC (6 bytes)                  |
/// +                               +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                               |                               |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+                               +
/// |                       Source MAC (6 bytes)                    |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |           EtherType           |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ```
///
/// A zero-copy view over the frame's first bytes; the payload begins with the 802.1Q/802.1ad
/// tag when `etherType` says so (see `VLANTag`).
public struct EthernetHeader: ~Escapable {
    /// Byte offsets of the fields.
    public enum Field {
        public static let destination = 0
        public static let source = 6
        public static let etherType = 12
    }

    /// The header's length in bytes.
    public static let length = 14

    /// The frame's bytes, header first.
    public let bytes: RawSpan

    /// Checks that `bytes` holds a whole header.
    @inlinable
    @_lifetime(copy bytes)
    public init(validating bytes: RawSpan) throws(WireError) {
        try bytes.require(Self.length)
        self.bytes = bytes
    }

    /// The destination address.
    @inlinable public var destination: MACAddress { bytes.mac(at: Field.destination) }
    /// The source address.
    @inlinable public var source: MACAddress { bytes.mac(at: Field.source) }
    /// The EtherType (or TPID of a VLAN tag) after the addresses.
    @inlinable public var etherType: EtherType { EtherType(rawValue: bytes.u16(at: Field.etherType)) }

    /// The bytes after the header.
    public var payload: RawSpan {
        @_lifetime(copy self) get { bytes.slice(from: Self.length) }
    }
}

/// The fields of an Ethernet II header, to parse and emit.
public struct EthernetRepr: Equatable, Sendable {
    /// The destination address.
    public var destination: MACAddress
    /// The source address.
    public var source: MACAddress
    /// The EtherType.
    public var etherType: EtherType

    /// Makes a header from its fields.
    public init(destination: MACAddress, source: MACAddress, etherType: EtherType) {
        self.destination = destination
        self.source = source
        self.etherType = etherType
    }

    /// Reads the fields of a validated header.
    public init(_ header: borrowing EthernetHeader) {
        self.init(destination: header.destination, source: header.source, etherType: header.etherType)
    }

    /// Writes the header at the start of `bytes`, which must hold `EthernetHeader.length` bytes.
    @_lifetime(bytes: copy bytes)
    public func emit(into bytes: inout MutableRawSpan) {
        precondition(bytes.byteCount >= EthernetHeader.length, "no room for an Ethernet header")
        bytes.setMAC(destination, at: EthernetHeader.Field.destination)
        bytes.setMAC(source, at: EthernetHeader.Field.source)
        bytes.setU16(etherType.rawValue, at: EthernetHeader.Field.etherType)
    }
}
