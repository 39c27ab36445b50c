/// The part of an IEEE 802.1Q (customer, TPID 0x8100) or 802.1ad (service, TPID 0x88A8) tag
/// that follows its TPID: the tag control information and the next EtherType.
///
/// ```
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// | PCP |D|        VLAN ID        |       Next EtherType          |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ```
///
/// The TPID itself is the `etherType` of the header before (Ethernet or an outer tag), so
/// tags stack: an 802.1ad tag then an 802.1Q tag is QinQ.
public struct VLANTag: ~Escapable {
    /// Byte offsets of the fields.
    public enum Field {
        public static let tci = 0
        public static let etherType = 2
    }

    /// The tag's length in bytes (after the TPID).
    public static let length = 4

    /// The bytes, tag first.
    public let bytes: RawSpan

    /// Checks that `bytes` holds a whole tag.
    @inlinable
    @_lifetime(copy bytes)
    public init(validating bytes: RawSpan) throws(WireError) {
        try bytes.require(Self.length)
        self.bytes = bytes
    }

    /// The priority code point (3 bits).
    @inlinable public var priority: UInt8 { UInt8(bytes.u16(at: Field.tci) >> 13) }
    /// The drop eligible indicator.
    @inlinable public var dropEligible: Bool { bytes.u16(at: Field.tci) & 0x1000 != 0 }
    /// The VLAN identifier (12 bits).
    @inlinable public var vlanID: UInt16 { bytes.u16(at: Field.tci) & 0x0FFF }
    /// The EtherType of what follows the tag.
    @inlinable public var etherType: EtherType { EtherType(rawValue: bytes.u16(at: Field.etherType)) }

    /// The bytes after the tag.
    public var payload: RawSpan {
        @_lifetime(copy self) get { bytes.slice(from: Self.length) }
    }
}

/// The fields of a VLAN tag, to parse and emit.
public struct VLANTagRepr: Equatable, Sendable {
    /// The priority code point (0–7).
    public var priority: UInt8
    /// The drop eligible indicator.
    public var dropEligible: Bool
    /// The VLAN identifier (0–4095).
    public var vlanID: UInt16
    /// The EtherType of what follows.
    public var etherType: EtherType

    /// Makes a tag from its fields.
    public init(priority: UInt8 = 0, dropEligible: Bool = false, vlanID: UInt16, etherType: EtherType) {
        self.priority = priority
        self.dropEligible = dropEligible
        self.vlanID = vlanID
        self.etherType = etherType
    }

    /// Reads the fields of a validated tag.
    public init(_ tag: borrowing VLANTag) {
        self.init(priority: tag.priority, dropEligible: tag.dropEligible, vlanID: tag.vlanID, etherType: tag.etherType)
    }

    /// Writes the tag at the start of `bytes`.
    @_lifetime(bytes: copy bytes)
    public func emit(into bytes: inout MutableRawSpan) {
        precondition(bytes.byteCount >= VLANTag.length, "no room for a VLAN tag")
        let tci = UInt16(priority & 0x7) << 13 | (dropEligible ? 0x1000 : 0) | (vlanID & 0x0FFF)
        bytes.setU16(tci, at: VLANTag.Field.tci)
        bytes.setU16(etherType.rawValue, at: VLANTag.Field.etherType)
    }
}
