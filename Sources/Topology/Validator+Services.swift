/// NAT and Services: ports that exist, and node ports that mean one thing each.
extension Validator {
    /// MASQUERADE leaves by a known port; a published port is published once.
    mutating func checkNAT() {
        let nat = topology.nat
        for (index, rule) in nat.masquerade.enumerated() where portIndices[rule.out] == nil {
            fail("nat.masquerade[\(index)].out", "unknown port \(quoted(rule.out)) (expected one of: \(portNames))")
        }
        let keys = nat.portMappings.map { "\($0.proto)/\($0.hostPort)" }
        for (index, first) in duplicates(keys, in: "nat.portMappings") {
            fail("nat.portMappings[\(index)].hostPort",
                 "\(keys[index]) is already published at \(reference("nat.portMappings[\(first)].hostPort")); expected each host port once per protocol")
        }
    }

    /// Services are unique by namespace and name and by cluster IP; a Service forwards each
    /// port once; a node port is taken by one Service and no published port.
    mutating func checkServices() {
        let services = topology.services
        for (index, first) in duplicates(services.map { "\($0.namespace)/\($0.name)" }, in: "services") {
            fail("services[\(index)].name",
                 "duplicate service \(services[index].namespace)/\(services[index].name), also \(reference("services[\(first)].name")); expected each name once per namespace")
        }
        for (index, first) in duplicates(services.map(\.clusterIP), in: "services") {
            fail("services[\(index)].clusterIP",
                 "cluster IP \(services[index].clusterIP) is already \(services[first].name)'s, \(reference("services[\(first)].clusterIP")); expected one service per cluster IP")
        }
        var nodePorts: [String: String] = [:]
        for (index, mapping) in topology.nat.portMappings.enumerated() {
            nodePorts["\(mapping.proto)/\(mapping.hostPort)"] = "nat.portMappings[\(index)].hostPort"
        }
        for (s, service) in services.enumerated() {
            for (p, first) in duplicates(service.ports.map { "\($0.proto)/\($0.port)" }) {
                fail("services[\(s)].ports[\(p)].port",
                     "\(service.ports[p].proto)/\(service.ports[p].port) is already forwarded at \(reference("services[\(s)].ports[\(first)].port")); expected each port once")
            }
            for (p, port) in service.ports.enumerated() {
                guard let nodePort = port.nodePort else { continue }
                let key = "\(port.proto)/\(nodePort)"
                let path = "services[\(s)].ports[\(p)].nodePort"
                if let earlier = nodePorts[key], line(earlier) <= line(path) {
                    fail(path, "node port \(key) is already taken at \(reference(earlier)); expected each node port once")
                } else if let earlier = nodePorts[key] {
                    fail(earlier, "host port \(key) is already a node port at \(reference(path)); expected each host port once")
                } else {
                    nodePorts[key] = path
                }
            }
        }
    }
}
