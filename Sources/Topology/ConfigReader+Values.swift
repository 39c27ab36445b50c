import Wire

/// Typed scalars: each reader returns nil after recording an error that says what was
/// expected and quotes what was found.
extension ConfigReader {
    /// A name: non-empty, without spaces or control characters.
    func identifier(_ value: Located, what: String) -> String? {
        guard let text = text(value, expected: what) else { return nil }
        guard !text.isEmpty, !text.contains(where: { $0.isWhitespace || $0.unicodeScalars.contains { $0.properties.generalCategory == .control } }) else {
            fail(value, "expected \(what) without spaces, got \(quoted(text))")
            return nil
        }
        return text
    }

    /// A whole number in `range`, written in decimal.
    func integer(_ value: Located, in range: ClosedRange<Int>, what: String) -> Int? {
        let expected = range.upperBound == Int(Int32.max)
            ? "\(what) of at least \(range.lowerBound)"
            : "\(what) from \(range.lowerBound) to \(range.upperBound)"
        guard let text = text(value, expected: expected) else { return nil }
        guard !text.isEmpty, text.count <= 19, text.allSatisfy({ $0.isASCII && $0.isWholeNumber }) || isNegative(text),
              let number = Int(text) else {
            fail(value, "expected \(expected), got \(quoted(text))")
            return nil
        }
        guard range.contains(number) else {
            fail(value, "expected \(expected), got \(number)")
            return nil
        }
        return number
    }

    /// A TCP or UDP port number, 1 to 65535.
    func portNumber(_ value: Located, what: String = "a port number") -> UInt16? {
        integer(value, in: 1...65535, what: what).flatMap { UInt16(exactly: $0) }
    }

    /// `true` or `false` (YAML 1.1's `yes`/`no`/`on`/`off` too), in any case.
    func bool(_ value: Located) -> Bool? {
        guard let text = text(value, expected: "true or false") else { return nil }
        switch text.lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default:
            fail(value, "expected true or false, got \(quoted(text))")
            return nil
        }
    }

    /// One of a closed set of words, matched exactly.
    func choice<Choice: RawRepresentable>(_ value: Located, of type: Choice.Type) -> Choice?
    where Choice: CaseIterable, Choice.RawValue == String {
        let names = type.allCases.map(\.rawValue)
        let expected = "one of: " + names.joined(separator: ", ")
        guard let text = text(value, expected: expected) else { return nil }
        guard let result = Choice(rawValue: text) else {
            fail(value, "expected \(expected), got \(quoted(text))")
            return nil
        }
        return result
    }

    /// A unicast MAC address other than all zeros.
    func mac(_ value: Located) -> MACAddress? {
        let expected = "a MAC address like 02:42:ac:11:00:01"
        guard let text = text(value, expected: expected) else { return nil }
        guard let mac = MACAddress(text) else {
            fail(value, "expected \(expected), got \(quoted(text))")
            return nil
        }
        guard !mac.isGroup else {
            fail(value, "expected a unicast MAC address (low bit of the first octet clear), got the group address \(mac)")
            return nil
        }
        guard mac != .zero else {
            fail(value, "expected a MAC address other than 00:00:00:00:00:00")
            return nil
        }
        return mac
    }

    /// An IPv4 address without a prefix length.
    func ipv4(_ value: Located, what: String = "an IPv4 address like 10.96.0.10") -> IPv4Address? {
        guard let text = text(value, expected: what) else { return nil }
        guard let address = IPv4Address(text) else {
            fail(value, "expected \(what), got \(quoted(text))")
            return nil
        }
        return address
    }

    /// An IPv4 or IPv6 address without a prefix length.
    func ipAny(_ value: Located, expected: String = "an IP address like 192.168.1.1 or fd00::1") -> NeighborConfig.Address? {
        guard let text = text(value, expected: expected) else { return nil }
        if let address = IPv4Address(text) { return .v4(address) }
        if let address = IPv6Address(text) { return .v6(address) }
        fail(value, "expected \(expected), got \(quoted(text))")
        return nil
    }

    /// An IPv4 prefix such as `172.17.0.0/16`.
    func ipv4Prefix(_ value: Located, example: String = "172.17.0.0/16") -> IPv4Prefix? {
        let expected = "a subnet with a prefix length like \(example)"
        guard let text = text(value, expected: expected) else { return nil }
        guard let prefix = IPv4Prefix(text) else {
            fail(value, "expected \(expected), got \(quoted(text))")
            return nil
        }
        return prefix
    }

    /// An IPv4 or IPv6 interface address with its prefix length, such as `172.17.0.1/16`.
    func prefixAny(_ value: Located) -> AnyPrefix? {
        let sample = "an address with a prefix length like"
        guard let text = text(value, expected: "\(sample) 172.17.0.1/16 or fd00::1/64") else { return nil }
        if let prefix = IPv4Prefix(text) { return .v4(prefix) }
        if let prefix = IPv6Prefix(text) { return .v6(prefix) }
        let example = text.contains(":") ? "fd00::1/64" : "172.17.0.1/16"
        fail(value, "expected \(sample) \(example), got \(quoted(text))")
        return nil
    }

    /// True for `-` followed by digits, which `integer` reads so that it can say "out of range".
    private func isNegative(_ text: String) -> Bool {
        text.first == "-" && text.count > 1 && text.dropFirst().allSatisfy { $0.isASCII && $0.isWholeNumber }
    }
}

/// An IPv4 or IPv6 prefix, for the lists that hold both.
enum AnyPrefix: Hashable {
    /// An IPv4 prefix.
    case v4(IPv4Prefix)
    /// An IPv6 prefix.
    case v6(IPv6Prefix)

    /// True when both are the same family and share an address.
    func overlaps(_ other: AnyPrefix) -> Bool {
        switch (self, other) {
        case (.v4(let a), .v4(let b)): a.overlaps(b)
        case (.v6(let a), .v6(let b)): a.overlaps(b)
        default: false
        }
    }

    /// True when `other` lies wholly inside this prefix.
    func covers(_ other: AnyPrefix) -> Bool {
        switch (self, other) {
        case (.v4(let a), .v4(let b)): a.length <= b.length && a.contains(b.address)
        case (.v6(let a), .v6(let b)): a.length <= b.length && a.contains(b.address)
        default: false
        }
    }

    /// `address/length`.
    var text: String {
        switch self {
        case .v4(let prefix): prefix.description
        case .v6(let prefix): prefix.description
        }
    }
}
