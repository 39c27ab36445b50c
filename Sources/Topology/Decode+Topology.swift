import Yams

/// The top level of the file: `node`, `ports`, `neighbors`, and the sections that other
/// files read.
extension ConfigReader {
    /// The keys a topology file may have at the top level.
    static let topLevelKeys = [
        "node", "ports", "neighbors", "bridges", "nat", "services", "overlay", "conntrack", "containers",
    ]

    /// Reads the whole document; nil when any part of it could not be read.
    ///
    /// With `base` (the running topology), the document is a fragment for `Topology.applying`:
    /// every key is optional, `ports` may be empty, an absent `node` reads as "", `conntrack`
    /// and the overlay's settings default to the base's (the fragment's peers only: merging them
    /// is the caller's), and an absent `overlay` reads as nil, meaning "no change".
    func topology(_ root: Node?, base: Topology? = nil) -> Topology? {
        let at = located(root ?? Node(""), path: "", line: root?.mark?.line ?? 1)
        guard let top = entries(at, allowed: Self.topLevelKeys, expected: "a mapping with node and ports") else {
            return nil
        }
        let isFragment = base != nil
        let nodeValue = isFragment ? top["node"] : required(top, "node", expected: "the node's name, like node-a")
        let node = nodeValue.flatMap { self.identifier($0, what: "a node name") }
        let portsValue = isFragment ? top["ports"] : required(top, "ports", expected: "a list of ports, each with a name")
        let ports = portsValue.map { self.ports($0, atLeastOne: !isFragment) } ?? []
        let neighbors = top["neighbors"].map(self.neighbors) ?? []
        let bridges = top["bridges"].map(self.bridges) ?? []
        let nat = top["nat"].map(self.nat) ?? NATConfig()
        let services = top["services"].map(self.services) ?? []
        let overlay = top["overlay"].flatMap { self.overlay($0, base: base?.overlay) }
        let baseConntrack = base?.conntrack ?? ConntrackConfig()
        let conntrack = top["conntrack"].map { self.conntrack($0, base: baseConntrack) } ?? baseConntrack
        let containers = top["containers"].map(self.containers) ?? []
        guard errors.isEmpty, let node = node ?? (isFragment ? "" : nil) else { return nil }
        return Topology(
            node: node, ports: ports, neighbors: neighbors, bridges: bridges, nat: nat, services: services,
            overlay: overlay, conntrack: conntrack, containers: containers)
    }

    /// `ports:`: a list of ports, non-empty in a whole file.
    private func ports(_ value: Located, atLeastOne: Bool) -> [PortConfig] {
        if atLeastOne, case .sequence(let sequence) = value.node, sequence.isEmpty {
            fail(value, "expected at least one port, got an empty list")
        }
        return elements(value, expected: "a list of ports, each with a name").compactMap(port)
    }

    /// One port: `{name, bridge, netns, tap, mac, ip, gateway}`.
    private func port(_ value: Located) -> PortConfig? {
        guard let fields = entries(value, allowed: ["name", "bridge", "netns", "tap", "mac", "ip", "gateway"],
                                   expected: "a port: a mapping with a name") else { return nil }
        let name = required(fields, "name", expected: "a port name like eth0").flatMap { self.identifier($0, what: "a port name") }
        let bridge = fields["bridge"].flatMap { self.identifier($0, what: "a bridge name") }
        let netns = fields["netns"].flatMap(self.namespacePath)
        let tap = fields["tap"].flatMap(self.tapName)
        if let netnsValue = fields["netns"], fields["tap"] == nil {
            fail(netnsValue, "a port in another network namespace is a TAP device there; expected tap: (the device's name inside the namespace) too")
        }
        let mac = fields["mac"].flatMap(self.mac)
        let addresses = interfaceAddresses(fields["ip"], owner: value.path)
        let gateways = self.gateways(fields["gateway"], owner: value.path)
        guard let name else { return nil }
        return PortConfig(
            name: name, tap: tap, bridge: bridge, netns: netns, mac: mac, addresses: addresses.v4, addresses6: addresses.v6,
            gateway: gateways.v4, gateway6: gateways.v6)
    }

    /// A TAP device name as Linux accepts one: 1 to 15 bytes, no `/`, no spaces, not `.` or `..`.
    private func tapName(_ value: Located) -> String? {
        let expected = "a TAP device name of 1 to 15 characters without / or spaces, like pier-eth0"
        guard let text = text(value, expected: expected) else { return nil }
        guard (1...15).contains(text.utf8.count), text != ".", text != "..",
              !text.contains(where: { $0 == "/" || $0 == ":" || $0.isWhitespace }) else {
            fail(value, "expected \(expected), got \(quoted(text))")
            return nil
        }
        return text
    }

    /// A network namespace as a path: absolute, like `/run/netns/c4` or `/proc/1234/ns/net`.
    private func namespacePath(_ value: Located) -> String? {
        let expected = "an absolute path to a network namespace like /run/netns/c4 or /proc/1234/ns/net"
        guard let text = text(value, expected: expected) else { return nil }
        guard text.hasPrefix("/"), text.utf8.count < 4096,
              !text.unicodeScalars.contains(where: { $0 == "\0" || $0.properties.generalCategory == .control }) else {
            fail(value, "expected \(expected), got \(quoted(text))")
            return nil
        }
        return text
    }

    /// `neighbors:`: a list of `{ip, mac}`.
    private func neighbors(_ value: Located) -> [NeighborConfig] {
        elements(value, expected: "a list of neighbors like {ip: 192.168.1.1, mac: 02:00:c0:a8:01:01}").compactMap { element in
            guard let fields = entries(element, allowed: ["ip", "mac"], expected: "a neighbor: a mapping with ip and mac")
            else { return nil }
            let ip = required(fields, "ip", expected: "an IP address like 192.168.1.1").flatMap { self.ipAny($0) }
            let mac = required(fields, "mac", expected: "a MAC address like 02:00:c0:a8:01:01").flatMap(self.mac)
            guard let ip, let mac else { return nil }
            return NeighborConfig(ip: ip, mac: mac)
        }
    }
}
