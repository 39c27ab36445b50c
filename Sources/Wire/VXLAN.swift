/// A VXLAN header (RFC 7348 §5), carried in UDP (IANA port 4789; Linux and flannel use 8472):
///
/// ```
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |R|R|R|R|I|R|R|R|            Reserved                           |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                VXLAN Network Identifier (VNI) |   Reserved    |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ```
///
/// An inner Ethernet frame follows. Reserved bits are ignored on receipt, as the RFC says;
/// whether a missing I flag makes the frame unacceptable is the decapsulation stage's call.
public struct VXLANHeader: ~Escapable {
    /// Byte offsets of the fields.
    public enum Field {
        public static let flags = 0
        public static let vni = 4
    }

    /// The header's length in bytes.
    public static let length = 8
    /// The UDP port IANA assigned to VXLAN (Linux's and flannel's default is 8472).
    public static let ianaPort: UInt16 = 4789
    /// The I flag: the VNI is valid.
    public static let vniValidFlag: UInt8 = 0x08

    /// The bytes, header first.
    public let bytes: RawSpan

    /// Checks that `bytes` holds the header.
    @inlinable
    @_lifetime(copy bytes)
    public init(validating bytes: RawSpan) throws(WireError) {
        try bytes.require(Self.length)
        self.bytes = bytes
    }

    /// The flags byte.
    @inlinable public var flags: UInt8 { bytes.u8(at: Field.flags) }
    /// True when the I flag is set.
    @inlinable public var hasVNI: Bool { flags & Self.vniValidFlag != 0 }
    /// The 24-bit VXLAN network identifier.
    @inlinable public var vni: UInt32 { bytes.u32(at: Field.vni) >> 8 }

    /// The inner Ethernet frame.
    public var payload: RawSpan {
        @_lifetime(copy self) get { bytes.slice(from: Self.length) }
    }
}

/// The fields of a VXLAN header, to parse and emit.
public struct VXLANRepr: Equatable, Sendable {
    /// The 24-bit network identifier.
    public var vni: UInt32

    /// Makes a header for `vni`.
    public init(vni: UInt32) { self.vni = vni & 0xFF_FFFF }

    /// Reads a validated header.
    public init(_ header: borrowing VXLANHeader) { self.init(vni: header.vni) }

    /// Writes the header, I flag set and reserved bits zero, at the start of `bytes`.
    @_lifetime(bytes: copy bytes)
    public func emit(into bytes: inout MutableRawSpan) {
        precondition(bytes.byteCount >= VXLANHeader.length, "no room for the VXLAN header")
        bytes.setU32(UInt32(VXLANHeader.vniValidFlag) << 24, at: VXLANHeader.Field.flags)
        bytes.setU32(vni << 8, at: VXLANHeader.Field.vni)
    }
}
