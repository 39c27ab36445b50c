import Wire

/// Ports: unique names and TAP devices, and gateways on the port's own link.
extension Validator {
    /// Port names and TAP devices are unique; the pipeline numbers ports with 16 bits.
    mutating func checkPorts() {
        let ports = topology.ports
        if ports.count >= Int(UInt16.max) {
            fail("ports", "expected at most \(Int(UInt16.max) - 1) ports, got \(ports.count)")
        }
        for (index, first) in duplicates(ports.map(\.name), in: "ports") {
            fail("ports[\(index)].name",
                 "duplicate port name \(quoted(ports[index].name)), also \(reference("ports[\(first)].name")); expected each port to have its own name")
        }
        // A TAP device's name is unique within its namespace: every container may have an eth0.
        for (index, first) in duplicates(ports.map { port in port.tap.map { [port.netns ?? "", $0] } }, in: "ports") {
            let namespace = ports[index].netns.map { " in \($0)" } ?? ""
            fail("ports[\(index)].tap",
                 "duplicate TAP device \(quoted(ports[index].tap ?? ""))\(namespace), also \(reference("ports[\(first)].tap")); expected one port per TAP device")
        }
    }

    /// A gateway lies in one of its port's subnets (an IPv6 link-local one is on-link by
    /// definition); at most one port per address family has one, so the default route is
    /// unambiguous.
    mutating func checkGateways() {
        var firstV4: Int?, firstV6: Int?
        for (index, port) in topology.ports.enumerated() {
            let owner = "ports[\(index)]"
            if let gateway = port.gateway {
                if !port.addresses.contains(where: { $0.contains(gateway) }) {
                    fail("\(owner).gateway.v4", "gateway \(gateway) is not inside any of port \(port.name)'s subnets \(subnets(port.addresses.map(\.description))); expected an address on the port's own link")
                }
                if let firstV4 {
                    fail("\(owner).gateway.v4", "a second IPv4 gateway, after \(reference("ports[\(firstV4)].gateway.v4")); expected at most one port with an IPv4 gateway")
                }
                firstV4 = firstV4 ?? index
            }
            if let gateway = port.gateway6 {
                let linkLocal = IPv6Prefix(address: IPv6Address(high: 0xFE80 << 48, low: 0), length: 10)
                if !linkLocal.contains(gateway), !port.addresses6.contains(where: { $0.contains(gateway) }) {
                    fail("\(owner).gateway.v6", "gateway \(gateway) is not inside any of port \(port.name)'s subnets \(subnets(port.addresses6.map(\.description))); expected an address on the port's own link or a link-local fe80:: address")
                }
                if let firstV6 {
                    fail("\(owner).gateway.v6", "a second IPv6 gateway, after \(reference("ports[\(firstV6)].gateway.v6")); expected at most one port with an IPv6 gateway")
                }
                firstV6 = firstV6 ?? index
            }
        }
    }

    /// `(a, b)`, or `(it has no address)`.
    private func subnets(_ list: [String]) -> String {
        list.isEmpty ? "(it has no address)" : "(" + list.joined(separator: ", ") + ")"
    }
}
