import Wire

/// The `ip:` and `gateway:` keys, which take one string or a list mixing IPv4 and IPv6.
extension ConfigReader {
    /// Reads `ip:` into IPv4 and IPv6 interface addresses. Each one is also recorded under
    /// the logical path `OWNER.ip.v4[k]` (or `.v6[k]`), its index in the model's array, so
    /// that later checks can point at where it was written.
    func interfaceAddresses(_ value: Located?, owner: String) -> (v4: [IPv4Prefix], v6: [IPv6Prefix]) {
        guard let value else { return ([], []) }
        var v4: [IPv4Prefix] = [], v6: [IPv6Prefix] = []
        let expected = "an address with a prefix length like 172.17.0.1/16, or a list of them"
        for element in elements(value, expected: expected, single: true) {
            switch prefixAny(element) {
            case .v4(let prefix)?:
                alias("\(owner).ip.v4[\(v4.count)]", to: element)
                v4.append(prefix)
            case .v6(let prefix)?:
                alias("\(owner).ip.v6[\(v6.count)]", to: element)
                v6.append(prefix)
            case nil:
                break
            }
        }
        return (v4, v6)
    }

    /// Reads `gateway:`: at most one IPv4 and one IPv6 address, recorded under the logical
    /// paths `OWNER.gateway.v4` and `OWNER.gateway.v6`.
    func gateways(_ value: Located?, owner: String) -> (v4: IPv4Address?, v6: IPv6Address?) {
        guard let value else { return (nil, nil) }
        var v4: IPv4Address?, v6: IPv6Address?
        let expected = "a gateway address like 192.168.1.1, or a list of one IPv4 and one IPv6 address"
        for element in elements(value, expected: expected, single: true) {
            switch ipAny(element) {
            case .v4(let address)?:
                guard v4 == nil else {
                    fail(element, "expected at most one IPv4 gateway, got a second one, \(address)")
                    continue
                }
                alias("\(owner).gateway.v4", to: element)
                v4 = address
            case .v6(let address)?:
                guard v6 == nil else {
                    fail(element, "expected at most one IPv6 gateway, got a second one, \(address)")
                    continue
                }
                alias("\(owner).gateway.v6", to: element)
                v6 = address
            case nil:
                break
            }
        }
        return (v4, v6)
    }
}
