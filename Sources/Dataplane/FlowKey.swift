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
public struct FlowKey: Hashable, Sendable, CustomStringConvertible {
    /// Source address (high 32 bits) and destination address (low 32 bits).
    public var addresses: UInt64
    /// Source port (bits 32–47), destination port (bits 16–31), protocol (bits 0–7).
    public var ports: UInt64

    /// Makes a key from its fields.
    @inlinable
    public init(source: IPv4Address, destination: IPv4Address, sourcePort: UInt16, destinationPort: UInt16, protocol proto: IPProtocol) {
        addresses = UInt64(source.rawValue) << 32 | UInt64(destination.rawValue)
        ports = UInt64(sourcePort) << 32 | UInt64(destinationPort) << 16 | UInt64(proto.rawValue)
    }

    /// Makes a key from its two packed words.
    @inlinable
    public init(addresses: UInt64, ports: UInt64) {
        self.addresses = addresses
        self.ports = ports
    }

    /// The source address.
    @inlinable public var source: IPv4Address { IPv4Address(rawValue: UInt32(truncatingIfNeeded: addresses >> 32)) }
    /// The destination address.
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
                ports: (ports >> 16 & 0xFFFF) << 32 | (ports >> 32 & 0xFFFF) << 16 | ports & 0xFF)
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

    /// `src=A dst=B sport=P dport=Q`, or `src=A dst=B id=I` for ICMP, as `conntrack -L` prints a tuple.
    public var description: String {
        if self.protocol == .icmp { return "src=\(source) dst=\(destination) id=\(sourcePort)" }
        return "src=\(source) dst=\(destination) sport=\(sourcePort) dport=\(destinationPort)"
    }
}
