import Wire

/// `nat:`: MASQUERADE rules and published ports.
extension ConfigReader {
    /// `nat: {masquerade, portMappings}`.
    func nat(_ value: Located) -> NATConfig {
        guard let fields = entries(value, allowed: ["masquerade", "portMappings"], expected: "a mapping with masquerade and portMappings")
        else { return NATConfig() }
        let masquerade = fields["masquerade"].map { list in
            elements(list, expected: "a list of rules like {source: 172.17.0.0/16, out: eth0}").compactMap(masqueradeRule)
        } ?? []
        let portMappings = fields["portMappings"].map { list in
            elements(list, expected: "a list of mappings like {proto: tcp, hostPort: 8080, to: 172.17.0.5:80}").compactMap(portMapping)
        } ?? []
        return NATConfig(masquerade: masquerade, portMappings: portMappings)
    }

    /// `{source, out}`.
    private func masqueradeRule(_ value: Located) -> MasqueradeRule? {
        guard let fields = entries(value, allowed: ["source", "out"], expected: "a mapping with source and out") else { return nil }
        let source = required(fields, "source", expected: "a subnet like 172.17.0.0/16 or fd00:88::/64").flatMap(subnet)
        let out = required(fields, "out", expected: "the name of the port traffic leaves by, like eth0")
            .flatMap { self.identifier($0, what: "a port name") }
        guard let source, let out else { return nil }
        return MasqueradeRule(source: source, out: out)
    }

    /// `{proto, hostPort, to}`.
    private func portMapping(_ value: Located) -> PortMapping? {
        guard let fields = entries(value, allowed: ["proto", "hostPort", "to"], expected: "a mapping with proto, hostPort and to")
        else { return nil }
        let proto = fields["proto"].map { choice($0, of: TransportProtocol.self) } ?? .tcp
        let hostPort = required(fields, "hostPort", expected: "a port number from 1 to 65535").flatMap { portNumber($0) }
        let to = required(fields, "to", expected: "an address and port like 172.17.0.5:80 or \"[fd00:88::3]:80\"").flatMap(self.socketAddress)
        guard let proto, let hostPort, let to else { return nil }
        return PortMapping(proto: proto, hostPort: hostPort, to: to.address, toPort: to.port)
    }

    /// An IPv4 or IPv6 subnet with its prefix length.
    private func subnet(_ value: Located) -> IPSubnet? {
        let expected = "a subnet with a prefix length like 172.17.0.0/16 or fd00:88::/64"
        guard let text = text(value, expected: expected) else { return nil }
        if let prefix = IPv4Prefix(text) { return .v4(prefix) }
        if let prefix = IPv6Prefix(text) { return .v6(prefix) }
        fail(value, "expected \(expected), got \(quoted(text))")
        return nil
    }

    /// `a.b.c.d:port` or `[IPv6]:port` (RFC 3986's brackets), the port 1 to 65535.
    private func socketAddress(_ value: Located) -> (address: NeighborConfig.Address, port: UInt16)? {
        let expected = "an address and port like 172.17.0.5:80 or [fd00:88::3]:80"
        guard let text = text(value, expected: expected) else { return nil }
        let address: NeighborConfig.Address?, portText: Substring
        if text.hasPrefix("["), let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") {
            address = IPv6Address(text[text.index(after: text.startIndex)..<close]).map { .v6($0) }
            portText = text[text.index(close, offsetBy: 2)...]
        } else {
            let parts = text.split(separator: ":", omittingEmptySubsequences: false)
            address = parts.count == 2 ? IPv4Address(parts[0]).map { .v4($0) } : nil
            portText = parts.count == 2 ? parts[1] : ""
        }
        guard let address, portText.allSatisfy({ $0.isASCII && $0.isWholeNumber }),
              (1...5).contains(portText.count), let port = UInt16(portText), port > 0 else {
            fail(value, "expected \(expected), got \(quoted(text))")
            return nil
        }
        return (address, port)
    }
}
