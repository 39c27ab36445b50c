/// An IPv4 address, packed in a `UInt32` with the first octet most significant (RFC 791).
public struct IPv4Address: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The address as a host-order integer: 192.168.1.1 is 0xC0A8_0101.
    public let rawValue: UInt32

    /// Makes an address from its 32-bit value.
    @inlinable
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// Makes an address from its four octets.
    public init(_ a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8) {
        rawValue = UInt32(a) << 24 | UInt32(b) << 16 | UInt32(c) << 8 | UInt32(d)
    }

    /// Parses dotted-quad text (`10.244.1.5`); nil for anything else, leading zeros included.
    public init?(_ text: some StringProtocol) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var value: UInt32 = 0
        for part in parts {
            guard (1...3).contains(part.count), part.allSatisfy({ $0.isASCII && $0.isWholeNumber }),
                  part.count == 1 || part.first != "0",
                  let octet = UInt8(part) else { return nil }
            value = value << 8 | UInt32(octet)
        }
        rawValue = value
    }

    /// 0.0.0.0.
    @inlinable public static var any: IPv4Address { IPv4Address(rawValue: 0) }
    /// 255.255.255.255.
    @inlinable public static var broadcast: IPv4Address { IPv4Address(rawValue: 0xFFFF_FFFF) }

    /// True for 224.0.0.0/4.
    public var isMulticast: Bool { rawValue >> 28 == 0xE }

    /// The dotted-quad form.
    public var description: String {
        "\(rawValue >> 24).\(rawValue >> 16 & 0xFF).\(rawValue >> 8 & 0xFF).\(rawValue & 0xFF)"
    }

    public static func < (lhs: IPv4Address, rhs: IPv4Address) -> Bool { lhs.rawValue < rhs.rawValue }
}
