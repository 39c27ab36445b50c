/// A capture's link-layer header type (the tcpdump.org LINKTYPE registry): what the first
/// byte of each record is. Open, so unknown types survive a round trip.
public struct LinkType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The LINKTYPE value stored in the capture file.
    public let rawValue: UInt32
    /// Makes a link type from its value.
    @inlinable public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// LINKTYPE_NULL: BSD loopback, a 4-byte address family in the capturing host's byte
    /// order, then the IP header.
    @inlinable public static var null: LinkType { LinkType(rawValue: 0) }
    /// LINKTYPE_ETHERNET: an Ethernet II header.
    @inlinable public static var ethernet: LinkType { LinkType(rawValue: 1) }
    /// LINKTYPE_RAW: an IPv4 or IPv6 header, told apart by its version nibble.
    @inlinable public static var raw: LinkType { LinkType(rawValue: 101) }
    /// LINKTYPE_LINUX_SLL: the 16-byte Linux "cooked" header of `tcpdump -i any`.
    @inlinable public static var linuxSLL: LinkType { LinkType(rawValue: 113) }
    /// LINKTYPE_LINUX_SLL2: the 20-byte second version of the cooked header.
    @inlinable public static var linuxSLL2: LinkType { LinkType(rawValue: 276) }
    /// LINKTYPE_IPV4: a bare IPv4 header.
    @inlinable public static var ipv4: LinkType { LinkType(rawValue: 228) }
    /// LINKTYPE_IPV6: a bare IPv6 header.
    @inlinable public static var ipv6: LinkType { LinkType(rawValue: 229) }

    /// The registry name (`EN10MB`, `RAW`, `LINUX_SLL`, …) or the number.
    public var description: String {
        switch self {
        case .null: "NULL"
        case .ethernet: "EN10MB"
        case .raw: "RAW"
        case .linuxSLL: "LINUX_SLL"
        case .linuxSLL2: "LINUX_SLL2"
        case .ipv4: "IPV4"
        case .ipv6: "IPV6"
        default: "LINKTYPE_\(rawValue)"
        }
    }
}
