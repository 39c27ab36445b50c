/// `bridges:`, with each bridge's FDB settings and permanent entries.
extension ConfigReader {
    /// The keys a bridge may have; `fdbStatic` is a Pier extension.
    static let bridgeKeys = ["name", "ports", "ip", "mac", "hairpin", "fdb", "fdbStatic"]

    /// `bridges:`: a list of bridges.
    func bridges(_ value: Located) -> [BridgeConfig] {
        elements(value, expected: "a list of bridges, each with a name").compactMap(bridge)
    }

    /// One bridge.
    private func bridge(_ value: Located) -> BridgeConfig? {
        guard let fields = entries(value, allowed: Self.bridgeKeys, expected: "a bridge: a mapping with a name")
        else { return nil }
        let name = required(fields, "name", expected: "a bridge name like docker0").flatMap { self.identifier($0, what: "a bridge name") }
        let ports = fields["ports"].map { list in
            elements(list, expected: "a list of port names like [c1, c2]").compactMap { self.identifier($0, what: "a port name") }
        } ?? []
        let addresses = interfaceAddresses(fields["ip"], owner: value.path)
        let mac = fields["mac"].flatMap(self.mac)
        let hairpin = fields["hairpin"].flatMap(self.bool) ?? false
        let fdb = fields["fdb"].map(self.fdb) ?? FDBConfig()
        let fdbStatic = fields["fdbStatic"].map(self.fdbStatic) ?? []
        guard let name else { return nil }
        return BridgeConfig(
            name: name, ports: ports, addresses: addresses.v4, addresses6: addresses.v6, mac: mac,
            hairpin: hairpin, fdb: fdb, fdbStatic: fdbStatic)
    }

    /// `fdb: {capacity, ageing}`.
    private func fdb(_ value: Located) -> FDBConfig {
        guard let fields = entries(value, allowed: ["capacity", "ageing"], expected: "a mapping like {capacity: 4096, ageing: 300}")
        else { return FDBConfig() }
        let limit = Int(Int32.max)
        return FDBConfig(
            capacity: fields["capacity"].flatMap { integer($0, in: 1...limit, what: "an FDB capacity") } ?? FDBConfig.defaultCapacity,
            ageing: fields["ageing"].flatMap { integer($0, in: 0...limit, what: "an ageing time in seconds (0: never)") }
                ?? FDBConfig.defaultAgeing)
    }

    /// `fdbStatic: [{mac, port}]`.
    private func fdbStatic(_ value: Located) -> [StaticFDBEntry] {
        elements(value, expected: "a list of permanent entries like {mac: 02:42:ac:11:00:02, port: c1}").compactMap { element in
            guard let fields = entries(element, allowed: ["mac", "port"], expected: "a mapping with mac and port")
            else { return nil }
            let mac = required(fields, "mac", expected: "a MAC address like 02:42:ac:11:00:02").flatMap(self.mac)
            let port = required(fields, "port", expected: "the name of one of the bridge's ports")
                .flatMap { self.identifier($0, what: "a port name") }
            guard let mac, let port else { return nil }
            return StaticFDBEntry(mac: mac, port: port)
        }
    }
}
