/// Bridges: unique names, members that exist and belong to one bridge only and carry no
/// address, and permanent FDB entries on members.
extension Validator {
    /// Runs the bridge checks.
    mutating func checkBridges() {
        let bridges = topology.bridges
        for (index, first) in duplicates(bridges.map(\.name)) {
            fail("bridges[\(index)].name",
                 "duplicate bridge name \(quoted(bridges[index].name)), also \(reference("bridges[\(first)].name")); expected each bridge to have its own name")
        }
        var owner: [String: (bridge: Int, member: Int)] = [:]
        for (b, bridge) in bridges.enumerated() {
            if let port = topology.portIndex(named: bridge.name) {
                fail("bridges[\(b)].name",
                     "\(quoted(bridge.name)) is already the name of a port, \(reference("ports[\(port)].name")); expected a name no port has")
            }
            for (m, member) in bridge.ports.enumerated() {
                let path = "bridges[\(b)].ports[\(m)]"
                guard topology.portIndex(named: member) != nil else {
                    fail(path, "unknown port \(quoted(member)) (expected one of: \(portNames))")
                    continue
                }
                if let earlier = owner[member] {
                    let place = reference("bridges[\(earlier.bridge)].ports[\(earlier.member)]")
                    fail(path, earlier.bridge == b
                         ? "port \(quoted(member)) is listed twice, also \(place); expected each member once"
                         : "port \(quoted(member)) is already a port of bridge \(bridges[earlier.bridge].name), \(place); expected a port to join one bridge at most")
                    continue
                }
                owner[member] = (b, m)
            }
            checkStaticEntries(of: b)
        }
        checkMembersHaveNoAddress(owner: owner)
    }

    /// Members of a bridge are layer 2 only: an address belongs on the bridge itself.
    private mutating func checkMembersHaveNoAddress(owner: [String: (bridge: Int, member: Int)]) {
        for (index, port) in topology.ports.enumerated() {
            guard let membership = owner[port.name], !port.addresses.isEmpty || !port.addresses6.isEmpty else { continue }
            let bridge = topology.bridges[membership.bridge]
            let path = port.addresses.isEmpty ? "ports[\(index)].ip.v6[0]" : "ports[\(index)].ip.v4[0]"
            let member = reference("bridges[\(membership.bridge)].ports[\(membership.member)]")
            fail(path, "port \(port.name) is a port of bridge \(bridge.name), \(member), and bridge ports are layer 2 only; expected no ip here (put the address on the bridge)")
        }
    }

    /// `fdbStatic` entries name members of their bridge, each MAC once.
    private mutating func checkStaticEntries(of b: Int) {
        let bridge = topology.bridges[b]
        for (e, entry) in bridge.fdbStatic.enumerated() where !bridge.ports.contains(entry.port) {
            let problem = topology.portIndex(named: entry.port) == nil
                ? "unknown port \(quoted(entry.port)) (expected one of bridge \(bridge.name)'s ports: \(bridge.ports.joined(separator: ", ")))"
                : "port \(quoted(entry.port)) is not a port of bridge \(bridge.name) (expected one of: \(bridge.ports.joined(separator: ", ")))"
            fail("bridges[\(b)].fdbStatic[\(e)].port", problem)
        }
        for (e, first) in duplicates(bridge.fdbStatic.map(\.mac)) {
            fail("bridges[\(b)].fdbStatic[\(e)].mac",
                 "duplicate entry for \(bridge.fdbStatic[e].mac), also \(reference("bridges[\(b)].fdbStatic[\(first)].mac")); expected each MAC once")
        }
    }
}
