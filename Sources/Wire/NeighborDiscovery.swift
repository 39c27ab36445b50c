/// An IPv6 Neighbor Solicitation or Advertisement: the IPv6 counterpart of an ARP request
/// and reply (RFC 4861 §4.3, §4.4), carried in ICMPv6 (types 135 and 136).
///
/// ```
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |     Type      |     Code      |          Checksum             |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |R|S|O|                     Reserved                            |  (NS: all reserved)
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                                                               |
/// +                       Target Address (128 bits)               +
/// |                                                               |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |   Options: type 1 (source) or 2 (target) link-layer address,  |
/// |   length in units of 8 bytes (RFC 4861 §4.6.1)                |
/// ```
///
/// Only the link-layer address options are read; other options are skipped by their length.
public struct NeighborDiscoveryRepr: Equatable, Sendable {
    /// The byte offsets within the ICMPv6 message.
    public enum Field {
        /// The R, S and O flags of an advertisement.
        public static let flags = 4
        /// The target address.
        public static let target = 8
        /// The first option.
        public static let options = 24
    }

    /// The two messages: who has the target address, and the answer.
    public enum Kind: UInt8, Sendable {
        /// Neighbor Solicitation (type 135).
        case solicitation = 135
        /// Neighbor Advertisement (type 136).
        case advertisement = 136
    }

    /// Router flag: the sender is a router (RFC 4861 §4.4).
    public static let routerFlag: UInt8 = 0x80
    /// Solicited flag: this answers a solicitation.
    public static let solicitedFlag: UInt8 = 0x40
    /// Override flag: the receiver should replace a cached address.
    public static let overrideFlag: UInt8 = 0x20

    /// Solicitation or advertisement.
    public var kind: Kind
    /// The R, S and O flags (advertisements only).
    public var flags: UInt8
    /// The address asked about, or advertised.
    public var target: IPv6Address
    /// The sender's link-layer address (source option in a solicitation, target option in an
    /// advertisement), when present.
    public var linkLayerAddress: MACAddress?

    /// Makes a message from its fields.
    public init(kind: Kind, flags: UInt8 = 0, target: IPv6Address, linkLayerAddress: MACAddress?) {
        self.kind = kind
        self.flags = flags
        self.target = target
        self.linkLayerAddress = linkLayerAddress
    }

    /// Reads a solicitation or advertisement from a validated ICMPv6 message; throws when the
    /// type is another, the message is shorter than 24 bytes, or an option has length zero or
    /// overruns the message (RFC 4861 §7.1.1 says to discard such packets).
    public init(_ message: borrowing ICMPv6Message) throws(WireError) {
        guard let kind = Kind(rawValue: message.type) else { throw .malformed(.notNeighborDiscovery) }
        let bytes = message.bytes
        try bytes.require(Field.options)
        self.kind = kind
        flags = kind == .advertisement ? bytes.u8(at: Field.flags) & 0xE0 : 0
        target = bytes.ipv6(at: Field.target)
        linkLayerAddress = nil
        let wanted: UInt8 = kind == .solicitation ? 1 : 2
        var offset = Field.options
        while offset + 2 <= bytes.byteCount {
            let length = Int(bytes.u8(at: offset + 1)) * 8
            guard length > 0, offset + length <= bytes.byteCount else { throw .malformed(.badNeighborDiscoveryOption) }
            if bytes.u8(at: offset) == wanted && length == 8 { linkLayerAddress = bytes.mac(at: offset + 2) }
            offset += length
        }
    }

    /// The message's length: 24 bytes, and 8 more with a link-layer address option.
    public var length: Int { Field.options + (linkLayerAddress == nil ? 0 : 8) }

    /// Writes the message into `bytes` (exactly `length` long), checksummed over
    /// `pseudoHeaderSum` (RFC 8200 §8.1) and the message.
    @_lifetime(bytes: copy bytes)
    public func emit(into bytes: inout MutableRawSpan, pseudoHeaderSum: UInt16) {
        precondition(bytes.byteCount == length, "the span must be the message's length")
        for offset in ICMPv6Message.headerLength..<length { bytes.setU8(0, at: offset) }
        bytes.setIPv6(target, at: Field.target)
        if let linkLayerAddress {
            bytes.setU8(kind == .solicitation ? 1 : 2, at: Field.options)
            bytes.setU8(1, at: Field.options + 1)
            bytes.setMAC(linkLayerAddress, at: Field.options + 2)
        }
        ICMPv6Repr(type: kind.rawValue, code: 0, restOfHeader: UInt32(flags) << 24)
            .emit(into: &bytes, pseudoHeaderSum: pseudoHeaderSum)
    }
}

extension IPv6Address {
    /// The solicited-node multicast address a solicitation for this address goes to:
    /// ff02::1:ffXX:XXXX with the address's low 24 bits (RFC 4291 §2.7.1).
    public var solicitedNode: IPv6Address {
        IPv6Address(high: 0xFF02_0000_0000_0000, low: 0x0000_0001_FF00_0000 | (low & 0xFF_FFFF))
    }

    /// The all-nodes multicast address, ff02::1.
    @inlinable public static var allNodes: IPv6Address { IPv6Address(high: 0xFF02_0000_0000_0000, low: 1) }
}

extension MACAddress {
    /// The Ethernet multicast address of an IPv6 multicast group: 33:33 and the group's low
    /// 32 bits (RFC 2464 §7).
    public init(ipv6Multicast group: IPv6Address) {
        self.init(rawValue: 0x3333_0000_0000 | (group.low & 0xFFFF_FFFF))
    }
}
