/// `containers:`, the network namespaces `pier up` makes.
extension ConfigReader {
    /// `containers:`: a list of containers.
    func containers(_ value: Located) -> [ContainerConfig] {
        elements(value, expected: "a list of containers, each with a name").compactMap(container)
    }

    /// One container: `{name, port, ip, mode}`.
    private func container(_ value: Located) -> ContainerConfig? {
        guard let fields = entries(value, allowed: ["name", "port", "ip", "mode"], expected: "a container: a mapping with a name")
        else { return nil }
        let name = required(fields, "name", expected: "a container name like c1").flatMap { self.identifier($0, what: "a container name") }
        let port = fields["port"].map { self.identifier($0, what: "a port name") }
        let addresses = interfaceAddresses(fields["ip"], owner: value.path)
        let mode = fields["mode"].map(self.mode) ?? .bridge
        guard let name, port != .some(nil), let mode else { return nil }
        return ContainerConfig(
            name: name, port: port ?? nil, addresses: addresses.v4, addresses6: addresses.v6, mode: mode)
    }

    /// `bridge`, `none` or `container:NAME`.
    private func mode(_ value: Located) -> ContainerConfig.Mode? {
        let expected = "bridge, none or container:NAME"
        guard let text = text(value, expected: expected) else { return nil }
        switch text {
        case "bridge": return .bridge
        case "none": return .isolated
        default:
            let prefix = "container:"
            let other = text.dropFirst(prefix.count)
            guard text.hasPrefix(prefix), !other.isEmpty, !other.contains(where: \.isWhitespace) else {
                fail(value, "expected \(expected), got \(quoted(text))")
                return nil
            }
            return .container(String(other))
        }
    }
}
