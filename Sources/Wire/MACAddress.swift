/// A 48-bit IEEE 802 MAC address, packed in the low bits of a `UInt64`.
///
/// Printed and parsed as six colon-separated hex pairs (`02:42:ac:11:00:02`), the form of
/// `ip link` and Wireshark.
public struct MACAddress: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The address in the low 48 bits, first octet most significant.
    public let rawValue: UInt64

    /// Makes an address from its 48-bit value; higher bits are discarded.
    @inlinable
    public init(rawValue: UInt64) { self.rawValue = rawValue & 0xFFFF_FFFF_FFFF }

    /// Makes an address from its six octets, first on the wire first.
    public init(_ a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8, _ e: UInt8, _ f: UInt8) {
        self.init(rawValue: [a, b, c, d, e, f].reduce(0) { $0 << 8 | UInt64($1) })
    }

    /// Parses `aa:bb:cc:dd:ee:ff` (or with `-` separators); nil for anything else.
    public init?(_ text: some StringProtocol) {
        let parts = text.split(separator: text.contains("-") ? "-" : ":", omittingEmptySubsequences: false)
        guard parts.count == 6 else { return nil }
        var value: UInt64 = 0
        for part in parts {
            guard (1...2).contains(part.count), part.allSatisfy(\.isHexDigit), part.allSatisfy(\.isASCII),
                  let octet = UInt8(part, radix: 16) else { return nil }
            value = value << 8 | UInt64(octet)
        }
        self.init(rawValue: value)
    }

    /// ff:ff:ff:ff:ff:ff.
    @inlinable public static var broadcast: MACAddress { MACAddress(rawValue: 0xFFFF_FFFF_FFFF) }
    /// 00:00:00:00:00:00.
    @inlinable public static var zero: MACAddress { MACAddress(rawValue: 0) }

    /// The I/G bit (the low bit of the first octet) in `rawValue`: set in group addresses.
    public static let groupBit: UInt64 = 0x0100_0000_0000
    /// 01:80:c2:00:00:00, the first of IEEE 802.1D's 16 reserved group addresses
    /// (01:80:c2:00:00:00 to 0f), which a bridge never forwards.
    public static let reservedGroupBase: UInt64 = 0x0180_C200_0000
    /// The low bits that vary among the reserved group addresses.
    public static let reservedGroupMask: UInt64 = 0xF

    /// True for group addresses (the I/G bit, the low bit of the first octet): broadcast and multicast.
    @inlinable
    public var isGroup: Bool { rawValue & Self.groupBit != 0 }

    /// True for IEEE 802.1D's reserved group addresses, 01:80:c2:00:00:00 to 0f.
    @inlinable
    public var isReservedGroup: Bool { rawValue & ~Self.reservedGroupMask == Self.reservedGroupBase }

    /// True for ff:ff:ff:ff:ff:ff.
    @inlinable
    public var isBroadcast: Bool { rawValue == 0xFFFF_FFFF_FFFF }

    /// The six octets, first on the wire first.
    public var octets: [UInt8] { (0..<6).map { UInt8(truncatingIfNeeded: rawValue >> (40 - 8 * $0)) } }

    /// `aa:bb:cc:dd:ee:ff`, lower-case.
    public var description: String { octets.map { hex2($0) }.joined(separator: ":") }

    public static func < (lhs: MACAddress, rhs: MACAddress) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// Two lower-case hex digits.
@usableFromInline
func hex2(_ byte: UInt8) -> String {
    let digits: [Character] = Array("0123456789abcdef")
    return String([digits[Int(byte >> 4)], digits[Int(byte & 0xF)]])
}
