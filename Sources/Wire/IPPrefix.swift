/// An IPv4 network prefix: an address and a prefix length (RFC 4632), as in
/// `172.17.0.0/16`. The address keeps its host bits (`172.17.0.1/16` is a valid interface
/// address); `network` clears them.
public struct IPv4Prefix: Hashable, Sendable, CustomStringConvertible {
    /// The address as written, host bits included.
    public let address: IPv4Address
    /// The prefix length, 0 to 32.
    public let length: Int

    /// Makes a prefix; `length` must be 0...32.
    public init(address: IPv4Address, length: Int) {
        precondition((0...32).contains(length), "IPv4 prefix length outside 0...32")
        self.address = address
        self.length = length
    }

    /// Parses `a.b.c.d/n`; nil for anything else.
    public init?(_ text: some StringProtocol) {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2, let address = IPv4Address(parts[0]),
              (1...2).contains(parts[1].count), parts[1].allSatisfy({ $0.isASCII && $0.isWholeNumber }),
              let length = Int(parts[1]), (0...32).contains(length) else { return nil }
        self.init(address: address, length: length)
    }

    /// The netmask as an integer: /16 is 0xFFFF_0000.
    @inlinable public var mask: UInt32 { length == 0 ? 0 : UInt32.max << (32 - UInt32(length)) }
    /// The network address: host bits cleared.
    public var network: IPv4Address { IPv4Address(rawValue: address.rawValue & mask) }
    /// The prefix with host bits cleared.
    public var canonical: IPv4Prefix { IPv4Prefix(address: network, length: length) }

    /// True when `candidate` lies inside this prefix.
    @inlinable
    public func contains(_ candidate: IPv4Address) -> Bool {
        candidate.rawValue & mask == address.rawValue & mask
    }

    /// True when the two prefixes share any address (one contains the other's network).
    public func overlaps(_ other: IPv4Prefix) -> Bool {
        let shorter = min(length, other.length)
        let mask = shorter == 0 ? 0 : UInt32.max << (32 - UInt32(shorter))
        return address.rawValue & mask == other.address.rawValue & mask
    }

    /// `a.b.c.d/n`, with the address as written.
    public var description: String { "\(address)/\(length)" }
}

/// An IPv6 network prefix (RFC 4291 §2.3), as in `fd00::/64`; the address keeps its host bits.
public struct IPv6Prefix: Hashable, Sendable, CustomStringConvertible {
    /// The address as written, host bits included.
    public let address: IPv6Address
    /// The prefix length, 0 to 128.
    public let length: Int

    /// Makes a prefix; `length` must be 0...128.
    public init(address: IPv6Address, length: Int) {
        precondition((0...128).contains(length), "IPv6 prefix length outside 0...128")
        self.address = address
        self.length = length
    }

    /// Parses `addr/n`; nil for anything else.
    public init?(_ text: some StringProtocol) {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2, let address = IPv6Address(parts[0]),
              (1...3).contains(parts[1].count), parts[1].allSatisfy({ $0.isASCII && $0.isWholeNumber }),
              let length = Int(parts[1]), (0...128).contains(length) else { return nil }
        self.init(address: address, length: length)
    }

    /// The masks of the high and low halves.
    @inlinable public var masks: (high: UInt64, low: UInt64) {
        let highBits = min(length, 64), lowBits = max(length - 64, 0)
        return (highBits == 0 ? 0 : UInt64.max << (64 - UInt64(highBits)),
                lowBits == 0 ? 0 : UInt64.max << (64 - UInt64(lowBits)))
    }

    /// The network address: host bits cleared.
    public var network: IPv6Address {
        let (high, low) = masks
        return IPv6Address(high: address.high & high, low: address.low & low)
    }

    /// True when `candidate` lies inside this prefix.
    @inlinable
    public func contains(_ candidate: IPv6Address) -> Bool {
        let (high, low) = masks
        return candidate.high & high == address.high & high && candidate.low & low == address.low & low
    }

    /// True when the two prefixes share any address.
    public func overlaps(_ other: IPv6Prefix) -> Bool {
        let shorter = length <= other.length ? self : other
        let longer = length <= other.length ? other : self
        return shorter.contains(longer.address)
    }

    /// `addr/n` in RFC 5952 form.
    public var description: String { "\(address)/\(length)" }
}
