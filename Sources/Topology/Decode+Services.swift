/// `services:`, as kube-proxy sees them.
extension ConfigReader {
    /// `services:`: a list of Services.
    func services(_ value: Located) -> [ServiceConfig] {
        elements(value, expected: "a list of services, each with a name, clusterIP and ports").compactMap(service)
    }

    /// One Service.
    private func service(_ value: Located) -> ServiceConfig? {
        let keys = ["name", "namespace", "clusterIP", "ports", "endpoints", "sessionAffinity"] + Self.servicePolicyKeys + Self.dualStackKeys
        guard let fields = entries(value, allowed: keys, expected: "a service: a mapping with name, clusterIP and ports")
        else { return nil }
        let name = required(fields, "name", expected: "a service name like web").flatMap { self.identifier($0, what: "a service name") }
        let namespace = fields["namespace"].map { self.identifier($0, what: "a namespace name") } ?? "default"
        let stack = dualStack(fields)
        let ports = required(fields, "ports", expected: "a list of ports like [{proto: tcp, port: 80, targetPort: 8080}]")
            .map(self.servicePorts)
        let affinity = fields["sessionAffinity"].map { choice($0, of: ServiceConfig.SessionAffinity.self) } ?? ServiceConfig.SessionAffinity.none
        guard let name, let namespace, let stack, let ports, let affinity else { return nil }
        var service = ServiceConfig(
            name: name, namespace: namespace, clusterIP: stack.clusterIP, ports: ports, endpoints: stack.endpoints,
            sessionAffinity: affinity)
        stack.apply(to: &service)
        readPolicies(fields, into: &service)
        return service
    }

    /// `ports: [{proto, port, targetPort, nodePort}]`, at least one.
    private func servicePorts(_ value: Located) -> [ServicePort] {
        if case .sequence(let sequence) = value.node, sequence.isEmpty {
            fail(value, "expected at least one port, got an empty list")
        }
        return elements(value, expected: "a list of ports like [{proto: tcp, port: 80, targetPort: 8080}]").compactMap { element in
            guard let fields = entries(element, allowed: ["proto", "port", "targetPort", "nodePort"],
                                       expected: "a service port: a mapping with proto, port, targetPort and nodePort")
            else { return nil }
            let proto = fields["proto"].map { choice($0, of: TransportProtocol.self) } ?? .tcp
            let port = required(fields, "port", expected: "a port number from 1 to 65535").flatMap { portNumber($0) }
            let targetPort = fields["targetPort"].map { portNumber($0) }
            let nodePort = fields["nodePort"].map { portNumber($0) }
            guard let proto, let port, targetPort != .some(nil), nodePort != .some(nil) else { return nil }
            return ServicePort(proto: proto, port: port, targetPort: targetPort ?? nil, nodePort: nodePort ?? nil)
        }
    }
}
