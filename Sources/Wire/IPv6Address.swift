/// An IPv6 address (RFC 4291), packed in two `UInt64` halves, the first on the wire high.
///
/// Printed in the canonical text form of RFC 5952: lower-case hex, leading zeros dropped, the
/// longest run of two or more zero groups (the first such run on a tie) shown as `::`, and an
/// IPv4-mapped address as `::ffff:a.b.c.d`.
public struct IPv6Address: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The first 64 bits on the wire.
    public let high: UInt64
    /// The last 64 bits on the wire.
    public let low: UInt64

    /// Makes an address from its two halves.
    @inlinable
    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// Makes an address from its eight 16-bit groups, first group first.
    public init(groups: [UInt16]) {
        precondition(groups.count == 8, "an IPv6 address has eight groups")
        high = groups[0..<4].reduce(0) { $0 << 16 | UInt64($1) }
        low = groups[4..<8].reduce(0) { $0 << 16 | UInt64($1) }
    }

    /// :: (the unspecified address).
    @inlinable public static var any: IPv6Address { IPv6Address(high: 0, low: 0) }

    /// The eight 16-bit groups, first group first.
    public var groups: [UInt16] {
        (0..<4).map { UInt16(truncatingIfNeeded: high >> (48 - 16 * $0)) }
            + (0..<4).map { UInt16(truncatingIfNeeded: low >> (48 - 16 * $0)) }
    }

    /// True for ff00::/8.
    public var isMulticast: Bool { high >> 56 == 0xFF }

    /// Parses RFC 4291 text: full, `::`-compressed, or with a trailing dotted IPv4 part.
    public init?(_ text: some StringProtocol) {
        let text = String(text)
        guard !text.isEmpty, text.allSatisfy({ $0.isASCII }) else { return nil }
        let halves = text.split(separator: "::", omittingEmptySubsequences: false).map(String.init)
        guard halves.count <= 2 else { return nil }
        // A dotted IPv4 part may only end the whole address (RFC 4291 §2.2, form 3).
        func groups(of part: String, mayEndWithIPv4: Bool) -> [UInt16]? {
            if part.isEmpty { return [] }
            var result: [UInt16] = []
            let pieces = part.split(separator: ":", omittingEmptySubsequences: false)
            for (index, piece) in pieces.enumerated() {
                if mayEndWithIPv4, index == pieces.count - 1, piece.contains(".") {
                    guard let v4 = IPv4Address(piece) else { return nil }
                    result.append(UInt16(v4.rawValue >> 16))
                    result.append(UInt16(v4.rawValue & 0xFFFF))
                } else {
                    guard (1...4).contains(piece.count), piece.allSatisfy(\.isHexDigit),
                          let group = UInt16(piece, radix: 16) else { return nil }
                    result.append(group)
                }
            }
            return result
        }
        guard let head = groups(of: halves[0], mayEndWithIPv4: halves.count == 1) else { return nil }
        var all = head
        if halves.count == 2 {
            guard let tail = groups(of: halves[1], mayEndWithIPv4: true), head.count + tail.count <= 7 else { return nil }
            all += Array(repeating: 0, count: 8 - head.count - tail.count) + tail
        }
        guard all.count == 8 else { return nil }
        self.init(groups: all)
    }

    /// The RFC 5952 text form.
    public var description: String {
        let groups = self.groups
        if high == 0, low >> 32 == 0xFFFF {
            return "::ffff:" + IPv4Address(rawValue: UInt32(truncatingIfNeeded: low)).description
        }
        // The longest run of zero groups, at least two long; the first one wins a tie.
        var bestStart = -1, bestLength = 0, runStart = -1
        for index in 0...8 {
            if index < 8, groups[index] == 0 {
                if runStart < 0 { runStart = index }
            } else if runStart >= 0 {
                if index - runStart > bestLength { bestStart = runStart; bestLength = index - runStart }
                runStart = -1
            }
        }
        let hex = groups.map { String($0, radix: 16) }
        guard bestLength >= 2 else { return hex.joined(separator: ":") }
        let before = hex[0..<bestStart].joined(separator: ":")
        let after = hex[(bestStart + bestLength)...].joined(separator: ":")
        return before + "::" + after
    }

    public static func < (lhs: IPv6Address, rhs: IPv6Address) -> Bool {
        (lhs.high, lhs.low) < (rhs.high, rhs.low)
    }
}

extension RawSpan {
    /// The IPv4 address at `offset`.
    @inlinable @inline(__always)
    public func ipv4(at offset: Int) -> IPv4Address { IPv4Address(rawValue: u32(at: offset)) }

    /// The IPv6 address at `offset`.
    @inlinable @inline(__always)
    public func ipv6(at offset: Int) -> IPv6Address {
        IPv6Address(high: u64(at: offset), low: u64(at: offset + 8))
    }

    /// The MAC address at `offset`.
    @inlinable @inline(__always)
    public func mac(at offset: Int) -> MACAddress { MACAddress(rawValue: u48(at: offset)) }
}

extension MutableRawSpan {
    /// Writes an IPv4 address at `offset`.
    @inlinable @inline(__always)
    @_lifetime(self: copy self)
    public mutating func setIPv4(_ address: IPv4Address, at offset: Int) { setU32(address.rawValue, at: offset) }

    /// Writes an IPv6 address at `offset`.
    @inlinable @inline(__always)
    @_lifetime(self: copy self)
    public mutating func setIPv6(_ address: IPv6Address, at offset: Int) {
        setU64(address.high, at: offset)
        setU64(address.low, at: offset + 8)
    }

    /// Writes a MAC address at `offset`.
    @inlinable @inline(__always)
    @_lifetime(self: copy self)
    public mutating func setMAC(_ address: MACAddress, at offset: Int) { setU48(address.rawValue, at: offset) }
}
