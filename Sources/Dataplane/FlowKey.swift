import Wire

/// One direction of a connection as conntrack keys it: source and destination address,
/// source and destination port (the identifier twice for ICMP echo), and the IP protocol.
///
/// Packed into two words with no padding (STYLE.md, principle 6): `addresses` holds the source
/// in the high 32 bits and the destination in the low 32; `ports` holds the source port in
/// bits 32–47, the destination port in bits 16–31 and the protocol in bits 0–7. `reversed`
/// is the other direction's key of the same packet flow, the way Open vSwitch and netfilter
/// find a reply by its own tuple.
///
/// An ICMP echo request and its reply share the identifier and nothing else, so ICMP keys
/// carry the identifier in both port fields and a request's key reversed is its reply's key
/// (netfilter keys the type too; Pier tracks echo only, so the type adds nothing).
///
/// Both families share the two words, so IPv4 keys cost nothing more than they did: an IPv6
/// key sets `ipv6Bit` (bit 8 of `ports`) and holds, in place of each address, a 32-bit hash
/// of it (`addressHash`). The table keeps the full addresses of an IPv6 connection beside its
/// record, and conntrack compares them on every hit (ConntrackStage+IPv6.swift), so two IPv6
/// flows whose addresses hash alike are never confused: the second is refused instead.
public struct FlowKey: Hashable, Sendable, CustomStringConvertible {
    /// Source address (high 32 bits) and destination address (low 32 bits).
    public var addresses: UInt64
    /// Source port (bits 32–47), destination port (bits 16–31), protocol (bits 0–7), and
    /// `ipv6Bit` for an IPv6 key.
    public var ports: UInt64

    /// The bit of `ports` that marks an IPv6 key.
    @inlinable public static var ipv6Bit: UInt64 { 0x100 }

    /// Makes a key from its fields.
    @inlinable
    public init(source: IPv4Address, destination: IPv4Address, sourcePort: UInt16, destinationPort: UInt16, protocol proto: IPProtocol) {
        addresses = UInt64(source.rawValue) << 32 | UInt64(destination.rawValue)
        ports = UInt64(sourcePort) << 32 | UInt64(destinationPort) << 16 | UInt64(proto.rawValue)
    }

    /// Makes an IPv6 key: each address stands as its `addressHash`, and `ipv6Bit` is set.
    @inlinable
    public init(source: IPv6Address, destination: IPv6Address, sourcePort: UInt16, destinationPort: UInt16, protocol proto: IPProtocol) {
        addresses = UInt64(Self.addressHash(source)) << 32 | UInt64(Self.addressHash(destination))
        ports = UInt64(sourcePort) << 32 | UInt64(destinationPort) << 16 | Self.ipv6Bit | UInt64(proto.rawValue)
    }

    /// The 32 bits an IPv6 address stands as in a key (a multiply-xor hash of its halves).
    @inlinable @inline(__always)
    public static func addressHash(_ address: IPv6Address) -> UInt32 {
        var value = (address.high ^ 0x243F_6A88_85A3_08D3) &* 0x9E37_79B9_7F4A_7C15
        value ^= address.low &* 0xC2B2_AE3D_27D4_EB4F
        value ^= value >> 31
        value &*= 0xBF58_476D_1CE4_E5B9
        return UInt32(truncatingIfNeeded: value >> 32)
    }

    /// True for an IPv6 key.
    @inlinable public var isIPv6: Bool { ports & Self.ipv6Bit != 0 }

    /// Makes a key from its two packed words.
    @inlinable
    public init(addresses: UInt64, ports: UInt64) {
        self.addresses = addresses
        self.ports = ports
    }

    /// The source address (of an IPv4 key).
    @inlinable public var source: IPv4Address { IPv4Address(rawValue: UInt32(truncatingIfNeeded: addresses >> 32)) }
    /// The destination address (of an IPv4 key).
    @inlinable public var destination: IPv4Address { IPv4Address(rawValue: UInt32(truncatingIfNeeded: addresses)) }
    /// The source port (or ICMP identifier).
    @inlinable public var sourcePort: UInt16 { UInt16(truncatingIfNeeded: ports >> 32) }
    /// The destination port (or ICMP identifier).
    @inlinable public var destinationPort: UInt16 { UInt16(truncatingIfNeeded: ports >> 16) }
    /// The IP protocol.
    @inlinable public var `protocol`: IPProtocol { IPProtocol(rawValue: UInt8(truncatingIfNeeded: ports)) }

    /// The key of the packets flowing the other way: addresses and ports swapped.
    @inlinable
    public var reversed: FlowKey {
        FlowKey(addresses: addresses << 32 | addresses >> 32,
                ports: (ports >> 16 & 0xFFFF) << 32 | (ports >> 32 & 0xFFFF) << 16 | ports & 0x1FF)
    }

    /// This key with another source address and port.
    @inlinable
    public func withSource(_ address: IPv4Address, port: UInt16) -> FlowKey {
        FlowKey(source: address, destination: destination, sourcePort: port, destinationPort: destinationPort, protocol: self.protocol)
    }

    /// This key with another destination address and port.
    @inlinable
    public func withDestination(_ address: IPv4Address, port: UInt16) -> FlowKey {
        FlowKey(source: source, destination: address, sourcePort: sourcePort, destinationPort: port, protocol: self.protocol)
    }

    /// A 64-bit hash of the key mixed with `seed` (two multiplies and a final avalanche).
    @inlinable @inline(__always)
    func hash(seed: UInt64) -> UInt64 {
        var value = (addresses ^ seed) &* 0x9E37_79B9_7F4A_7C15
        value ^= (ports &+ seed) &* 0xC2B2_AE3D_27D4_EB4F
        value ^= value >> 29
        value &*= 0xBF58_476D_1CE4_E5B9
        return value ^ (value >> 32)
    }

    /// `src=A dst=B sport=P dport=Q`, or `src=A dst=B id=I` for ICMP, as `conntrack -L` prints a
    /// tuple (an IPv6 key's addresses are hashes: `ConntrackTable.addresses6` has them).
    public var description: String {
        if isIPv6 { return "ipv6 proto=\(self.protocol.rawValue) sport=\(sourcePort) dport=\(destinationPort)" }
        if self.protocol == .icmp { return "src=\(source) dst=\(destination) id=\(sourcePort)" }
        return "src=\(source) dst=\(destination) sport=\(sourcePort) dport=\(destinationPort)"
    }
}
