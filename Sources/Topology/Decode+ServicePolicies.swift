import Wire

/// A Service's traffic policies, external addresses, affinity timeout and endpoint details,
/// spelled as kubectl spells them (`spec.externalTrafficPolicy`, `status.loadBalancer.ingress`,
/// an EndpointSlice's `endpoints[].conditions`).
extension ConfigReader {
    /// The keys this part reads from a Service's mapping.
    static let servicePolicyKeys = ["externalTrafficPolicy", "internalTrafficPolicy", "externalIPs", "status", "sessionAffinityConfig"]

    /// Sets `service`'s policies, external addresses and affinity timeout from `fields`.
    func readPolicies(_ fields: Entries, into service: inout ServiceConfig) {
        if let value = fields["externalTrafficPolicy"], let policy = choice(value, of: ServiceConfig.TrafficPolicy.self) {
            service.externalTrafficPolicy = policy
        }
        if let value = fields["internalTrafficPolicy"], let policy = choice(value, of: ServiceConfig.TrafficPolicy.self) {
            service.internalTrafficPolicy = policy
        }
        if let value = fields["externalIPs"] {
            service.externalIPs = elements(value, expected: "a list of addresses like [203.0.113.10]").compactMap { ipv4($0) }
        }
        if let value = fields["status"] { service.loadBalancerIngress = loadBalancerIngress(value) }
        if let value = fields["sessionAffinityConfig"] { service.affinityTimeout = affinityTimeout(value) }
    }

    /// `status: {loadBalancer: {ingress: [{ip: 203.0.113.10}]}}`: the ingress addresses.
    private func loadBalancerIngress(_ value: Located) -> [IPv4Address] {
        let example = "{loadBalancer: {ingress: [{ip: 203.0.113.10}]}}"
        guard let status = entries(value, allowed: ["loadBalancer"], expected: "a status like \(example)"),
              let balancer = status["loadBalancer"],
              let fields = entries(balancer, allowed: ["ingress"], expected: "a load balancer like {ingress: [{ip: 203.0.113.10}]}"),
              let ingress = fields["ingress"] else { return [] }
        return elements(ingress, expected: "a list of ingress points like [{ip: 203.0.113.10}]").compactMap { point in
            entries(point, allowed: ["ip"], expected: "an ingress point like {ip: 203.0.113.10}").flatMap { fields in
                required(fields, "ip", expected: "an IPv4 address like 203.0.113.10").flatMap { ipv4($0) }
            }
        }
    }

    /// `sessionAffinityConfig: {clientIP: {timeoutSeconds: N}}`, N from 1 to 86400 as the
    /// Kubernetes API allows.
    private func affinityTimeout(_ value: Located) -> Int? {
        guard let config = entries(value, allowed: ["clientIP"], expected: "{clientIP: {timeoutSeconds: 10800}}"),
              let clientIP = config["clientIP"],
              let fields = entries(clientIP, allowed: ["timeoutSeconds"], expected: "{timeoutSeconds: 10800}"),
              let seconds = fields["timeoutSeconds"] else { return nil }
        return integer(seconds, in: 1...86_400, what: "a timeout in seconds")
    }

    /// One endpoint written as a mapping: exactly one address (kube-proxy uses the first).
    func endpoint(_ value: Located) -> (IPv4Address, ServiceConfig.EndpointDetails)? {
        let expected = "an endpoint like {addresses: [10.244.1.5], conditions: {ready: true}, nodeName: node-a}"
        guard let fields = entries(value, allowed: ["addresses", "conditions", "nodeName"], expected: expected),
              let list = required(fields, "addresses", expected: "a list of one address like [10.244.1.5]") else { return nil }
        let addresses = elements(list, expected: "a list of one address like [10.244.1.5]", single: true)
        guard addresses.count == 1 else {
            fail(list, "expected one address, got \(addresses.count)")
            return nil
        }
        guard let address = ipv4(addresses[0]) else { return nil }
        var details = ServiceConfig.EndpointDetails()
        if let node = fields["nodeName"] {
            guard let name = identifier(node, what: "a node name") else { return nil }
            details.nodeName = name
        }
        if let conditions = fields["conditions"] {
            guard let flags = entries(conditions, allowed: ["ready", "serving", "terminating"],
                                      expected: "conditions like {ready: true, serving: true, terminating: false}") else { return nil }
            var valid = true
            func flag(_ key: String) -> Bool? {
                guard let value = flags[key] else { return nil }
                let result = bool(value)
                if result == nil { valid = false }
                return result
            }
            (details.ready, details.serving, details.terminating) = (flag("ready"), flag("serving"), flag("terminating"))
            guard valid else { return nil }
        }
        return (address, details)
    }
}
