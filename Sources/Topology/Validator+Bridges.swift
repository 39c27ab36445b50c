/// Bridges: unique names, members that exist and belong to one bridge only and carry no
/// address, ports whose `bridge:` names a bridge, and permanent FDB entries on members.
extension Validator {
    /// Where a port was made a member of a bridge: a bridge's `ports:` entry, or the port's `bridge:`.
    struct Membership {
        /// The bridge's index.
        let bridge: Int
        /// The key path that made it a member.
        let path: String
    }

    /// Runs the bridge checks.
    mutating func checkBridges() {
        let bridges = topology.bridges
        for (index, first) in duplicates(bridges.map(\.name), in: "bridges") {
            fail("bridges[\(index)].name",
                 "duplicate bridge name \(quoted(bridges[index].name)), also \(reference("bridges[\(first)].name")); expected each bridge to have its own name")
        }
        var owner: [String: Membership] = [:]
        for b in order("bridges", count: bridges.count) {
            let bridge = bridges[b]
            if let port = portIndices[bridge.name] {
                fail("bridges[\(b)].name",
                     "\(quoted(bridge.name)) is already the name of a port, \(reference("ports[\(port)].name")); expected a name no port has")
            }
            for (m, member) in bridge.ports.enumerated() {
                let path = "bridges[\(b)].ports[\(m)]"
                guard portIndices[member] != nil else {
                    fail(path, "unknown port \(quoted(member)) (expected one of: \(portNames))")
                    continue
                }
                if let earlier = owner[member] {
                    fail(path, earlier.bridge == b
                         ? "port \(quoted(member)) is listed twice, also \(reference(earlier.path)); expected each member once"
                         : "port \(quoted(member)) is already a port of bridge \(bridges[earlier.bridge].name), \(reference(earlier.path)); expected a port to join one bridge at most")
                    continue
                }
                owner[member] = Membership(bridge: b, path: path)
            }
        }
        checkPortsNamingBridges(owner: &owner)
        for b in bridges.indices { checkStaticEntries(of: b, owner: owner) }
        checkMembersHaveNoAddress(owner: owner)
    }

    /// A port's `bridge:` names a bridge, and no other bridge lists the port.
    private mutating func checkPortsNamingBridges(owner: inout [String: Membership]) {
        let bridges = topology.bridges
        let bridgeIndices = Dictionary(bridges.enumerated().map { ($1.name, $0) }, uniquingKeysWith: { first, _ in first })
        for index in order("ports", count: topology.ports.count) {
            let port = topology.ports[index]
            guard let name = port.bridge else { continue }
            let path = "ports[\(index)].bridge"
            guard let b = bridgeIndices[name] else {
                let known = bridges.isEmpty ? "there are no bridges" : "expected one of: \(someOf(bridges.map(\.name)))"
                fail(path, "unknown bridge \(quoted(name)) (\(known))")
                continue
            }
            guard let earlier = owner[port.name] else {
                owner[port.name] = Membership(bridge: b, path: path)
                continue
            }
            guard earlier.bridge != b else { continue }
            let (first, second) = line(earlier.path) <= line(path)
                ? (earlier, Membership(bridge: b, path: path)) : (Membership(bridge: b, path: path), earlier)
            fail(second.path, "port \(quoted(port.name)) would be in two bridges, \(bridges[second.bridge].name) here and \(bridges[first.bridge].name) at \(reference(first.path)); expected a port to join one bridge at most")
        }
    }

    /// Members of a bridge are layer 2 only: an address belongs on the bridge itself.
    private mutating func checkMembersHaveNoAddress(owner: [String: Membership]) {
        for (index, port) in topology.ports.enumerated() {
            guard let membership = owner[port.name], !port.addresses.isEmpty || !port.addresses6.isEmpty else { continue }
            let bridge = topology.bridges[membership.bridge]
            let path = port.addresses.isEmpty ? "ports[\(index)].ip.v6[0]" : "ports[\(index)].ip.v4[0]"
            fail(path, "port \(port.name) is a port of bridge \(bridge.name), \(reference(membership.path)), and bridge ports are layer 2 only; expected no ip here (put the address on the bridge)")
        }
    }

    /// `fdbStatic` entries name members of their bridge, each MAC once.
    private mutating func checkStaticEntries(of b: Int, owner: [String: Membership]) {
        let bridge = topology.bridges[b]
        for (e, entry) in bridge.fdbStatic.enumerated() where owner[entry.port]?.bridge != b {
            let members = topology.ports(ofBridge: bridge.name).joined(separator: ", ")
            let problem = portIndices[entry.port] == nil
                ? "unknown port \(quoted(entry.port)) (expected one of bridge \(bridge.name)'s ports: \(members))"
                : "port \(quoted(entry.port)) is not a port of bridge \(bridge.name) (expected one of: \(members))"
            fail("bridges[\(b)].fdbStatic[\(e)].port", problem)
        }
        for (e, first) in duplicates(bridge.fdbStatic.map(\.mac)) {
            fail("bridges[\(b)].fdbStatic[\(e)].mac",
                 "duplicate entry for \(bridge.fdbStatic[e].mac), also \(reference("bridges[\(b)].fdbStatic[\(first)].mac")); expected each MAC once")
        }
    }
}
