/// The Linux "cooked" capture headers of `tcpdump -i any`: SLL (LINKTYPE_LINUX_SLL, 16 bytes)
/// and SLL2 (LINKTYPE_LINUX_SLL2, 20 bytes). Only the protocol (an EtherType) and the
/// header's length matter to the decoder.
///
/// ```
/// SLL:  packet type (2) | ARPHRD type (2) | address length (2) | address (8) | protocol (2)
/// SLL2: protocol (2) | reserved (2) | interface index (4) | ARPHRD type (2) | packet type (1)
///       | address length (1) | address (8)
/// ```
public struct LinuxCookedHeader: ~Escapable {
    /// The SLL header's length.
    public static let sllLength = 16
    /// The SLL2 header's length.
    public static let sll2Length = 20

    /// The bytes, header first.
    public let bytes: RawSpan
    /// True for SLL2.
    public let isVersion2: Bool

    /// Checks that `bytes` holds the header of the given version.
    @inlinable
    @_lifetime(copy bytes)
    public init(validating bytes: RawSpan, version2: Bool) throws(WireError) {
        try bytes.require(version2 ? Self.sll2Length : Self.sllLength)
        self.bytes = bytes
        isVersion2 = version2
    }

    /// The header's length in bytes.
    @inlinable public var headerLength: Int { isVersion2 ? Self.sll2Length : Self.sllLength }
    /// The protocol of what follows, an EtherType.
    @inlinable public var protocolType: EtherType { EtherType(rawValue: bytes.u16(at: isVersion2 ? 0 : 14)) }
}
