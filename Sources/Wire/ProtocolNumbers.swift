/// An EtherType (IEEE 802.3, the IANA registry): open, so unknown values survive a round trip.
public struct EtherType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The 16-bit value on the wire.
    public let rawValue: UInt16
    /// Makes an EtherType from its value.
    @inlinable
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    /// IPv4 (RFC 894).
    @inlinable public static var ipv4: EtherType { EtherType(rawValue: 0x0800) }
    /// ARP (RFC 826).
    @inlinable public static var arp: EtherType { EtherType(rawValue: 0x0806) }
    /// A customer VLAN tag (IEEE 802.1Q).
    @inlinable public static var vlan: EtherType { EtherType(rawValue: 0x8100) }
    /// A service VLAN tag (IEEE 802.1ad, "QinQ").
    @inlinable public static var qinq: EtherType { EtherType(rawValue: 0x88A8) }
    /// The pre-standard QinQ tag some switches still send.
    @inlinable public static var qinqLegacy: EtherType { EtherType(rawValue: 0x9100) }
    /// IPv6 (RFC 2464).
    @inlinable public static var ipv6: EtherType { EtherType(rawValue: 0x86DD) }
    /// Transparent Ethernet bridging: an Ethernet frame inside GENEVE or GRE.
    @inlinable public static var transparentEthernet: EtherType { EtherType(rawValue: 0x6558) }

    /// True for the tag types that push a 4-byte VLAN tag in front of the next EtherType.
    @inlinable
    public var isVLANTag: Bool { self == .vlan || self == .qinq || self == .qinqLegacy }

    /// `0x0800`, as Wireshark prints `eth.type`.
    public var description: String { "0x" + hex4(rawValue) }
}

/// An IP protocol number (IPv4 protocol, IPv6 next header; the IANA registry): open.
public struct IPProtocol: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The 8-bit value on the wire.
    public let rawValue: UInt8
    /// Makes a protocol number from its value.
    @inlinable
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// IPv6 hop-by-hop options (RFC 8200 §4.3).
    @inlinable public static var hopByHop: IPProtocol { IPProtocol(rawValue: 0) }
    /// ICMP for IPv4 (RFC 792).
    @inlinable public static var icmp: IPProtocol { IPProtocol(rawValue: 1) }
    /// IPv4 inside IP: IP-in-IP (RFC 2003), as Calico's tunl0 sends it.
    @inlinable public static var ipip: IPProtocol { IPProtocol(rawValue: 4) }
    /// TCP (RFC 9293).
    @inlinable public static var tcp: IPProtocol { IPProtocol(rawValue: 6) }
    /// UDP (RFC 768).
    @inlinable public static var udp: IPProtocol { IPProtocol(rawValue: 17) }
    /// IPv6 inside IP (RFC 4213).
    @inlinable public static var ipv6: IPProtocol { IPProtocol(rawValue: 41) }
    /// IPv6 routing header (RFC 8200 §4.4).
    @inlinable public static var routing: IPProtocol { IPProtocol(rawValue: 43) }
    /// IPv6 fragment header (RFC 8200 §4.5).
    @inlinable public static var fragment: IPProtocol { IPProtocol(rawValue: 44) }
    /// ICMP for IPv6 (RFC 4443).
    @inlinable public static var icmpv6: IPProtocol { IPProtocol(rawValue: 58) }
    /// No next header (RFC 8200 §4.7).
    @inlinable public static var noNextHeader: IPProtocol { IPProtocol(rawValue: 59) }
    /// IPv6 destination options (RFC 8200 §4.6).
    @inlinable public static var destinationOptions: IPProtocol { IPProtocol(rawValue: 60) }

    /// True for the IPv6 extension headers Pier walks: hop-by-hop, routing, fragment,
    /// destination options.
    @inlinable
    public var isIPv6Extension: Bool {
        self == .hopByHop || self == .routing || self == .fragment || self == .destinationOptions
    }

    /// The decimal number, as Wireshark prints `ip.proto`.
    public var description: String { String(rawValue) }
}

/// Four lower-case hex digits.
@usableFromInline
func hex4(_ value: UInt16) -> String {
    hex2(UInt8(value >> 8)) + hex2(UInt8(value & 0xFF))
}
