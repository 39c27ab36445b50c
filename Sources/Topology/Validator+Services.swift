/// NAT and Services: ports that exist, and node ports that mean one thing each.
extension Validator {
    /// MASQUERADE leaves by a known port; a published port is published once.
    mutating func checkNAT() {
        let nat = topology.nat
        for (index, rule) in nat.masquerade.enumerated() where portIndices[rule.out] == nil {
            fail("nat.masquerade[\(index)].out", "unknown port \(quoted(rule.out)) (expected one of: \(portNames))")
        }
        let keys = nat.portMappings.map(\.name)
        for (index, first) in duplicates(keys, in: "nat.portMappings") {
            fail("nat.portMappings[\(index)].hostPort",
                 "\(keys[index]) is already published at \(reference("nat.portMappings[\(first)].hostPort")); expected each host port once per protocol")
        }
    }

    /// Services are unique by namespace and name and by cluster IP; a Service forwards each
    /// port once; a node port is taken by one Service and no published port.
    mutating func checkServices() {
        let services = topology.services
        for (index, first) in duplicates(services.map { ServiceKey(namespace: $0.namespace, name: $0.name) }, in: "services") {
            fail("services[\(index)].name",
                 "duplicate service \(services[index].namespace)/\(services[index].name), also \(reference("services[\(first)].name")); expected each name once per namespace")
        }
        for (index, first) in duplicates(services.map(\.clusterIP), in: "services") {
            fail("services[\(index)].clusterIP",
                 "cluster IP \(services[index].clusterIP) is already \(services[first].name)'s, \(reference("services[\(first)].clusterIP")); expected one service per cluster IP")
        }
        // Where each node port is taken: a path, made only for the problems (10,000 Services).
        var nodePorts: [ProtocolPort: (service: Int, port: Int)] = [:]
        for (index, mapping) in topology.nat.portMappings.enumerated() {
            let key = ProtocolPort(proto: mapping.proto, port: mapping.hostPort)
            if nodePorts[key] == nil { nodePorts[key] = (-1, index) }  // an IPv4 and an IPv6 mapping may share a host port
        }
        func path(_ use: (service: Int, port: Int)) -> String {
            use.service < 0 ? "nat.portMappings[\(use.port)].hostPort" : "services[\(use.service)].ports[\(use.port)].nodePort"
        }
        for s in order("services", count: services.count) {
            let service = services[s]
            for (p, first) in service.ports.count < 2 ? [] : duplicates(service.ports.map { ProtocolPort(proto: $0.proto, port: $0.port) }) {
                fail("services[\(s)].ports[\(p)].port",
                     "\(service.ports[p].proto)/\(service.ports[p].port) is already forwarded at \(reference("services[\(s)].ports[\(first)].port")); expected each port once")
            }
            for (p, port) in service.ports.enumerated() {
                guard let nodePort = port.nodePort else { continue }
                let key = ProtocolPort(proto: port.proto, port: nodePort)
                guard let taken = nodePorts[key] else {
                    nodePorts[key] = (s, p)
                    continue
                }
                let earlier = path(taken), here = path((s, p))
                if line(earlier) <= line(here) {
                    fail(here, "node port \(key) is already taken at \(reference(earlier)); expected each node port once")
                } else {
                    fail(earlier, "host port \(key) is already a node port at \(reference(here)); expected each host port once")
                }
            }
        }
    }
}
