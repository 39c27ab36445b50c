import Wire

/// A Service's addresses as read: its cluster IP of each family, their order and policy, and
/// its endpoints split by family.
struct ServiceAddresses {
    var clusterIP: IPv4Address
    var clusterIP6: IPv6Address?
    var families: [IPFamily]
    var policy: IPFamilyPolicy
    var endpoints: [IPv4Address]
    var endpoints6: [IPv6Address]
    /// What the EndpointSlice says of each IPv4 endpoint (empty when all are bare addresses).
    var details: [ServiceConfig.EndpointDetails]

    /// Sets the dual-stack fields of `service`, and its endpoints' details.
    func apply(to service: inout ServiceConfig) {
        service.endpointDetails = details
        service.clusterIP6 = clusterIP6
        service.endpoints6 = endpoints6
        service.ipFamilies = families
        service.ipFamilyPolicy = policy
    }
}

/// A Service's cluster IPs, families and endpoints, as Kubernetes validates them
/// (`ValidateService`: `clusterIP` is `clusterIPs[0]`, at most one cluster IP per family,
/// `ipFamilies[i]` is the family of `clusterIPs[i]`, `SingleStack` has one, `RequireDualStack`
/// two); a Service's endpoints must be of its families.
extension ConfigReader {
    /// The keys of a Service that dual stack adds.
    static let dualStackKeys = ["clusterIPs", "ipFamilies", "ipFamilyPolicy"]

    /// The addresses of the Service whose keys are `fields`; nil after an error.
    func dualStack(_ fields: Entries) -> ServiceAddresses? {
        let example = "an IP address like 10.96.0.10 or fd00:96::10"
        let primary = fields["clusterIP"].flatMap { value in ipAny(value, expected: example) }
        var ips: [(address: NeighborConfig.Address, at: Located)] = []
        var failed = fields["clusterIP"] != nil && primary == nil
        if let list = fields["clusterIPs"] {
            let elements = elements(list, expected: "a list of one or two cluster IPs like [10.96.0.10, fd00:96::10]")
            for element in elements {
                guard let address = ipAny(element, expected: example) else {
                    failed = true
                    continue
                }
                if ips.count == 2 {
                    fail(element, "expected at most two cluster IPs, one of each family, got a third")
                    failed = true
                } else if let first = ips.first, family(first.address) == family(address) {
                    fail(element, "expected at most one cluster IP of each family, got a second \(family(address).rawValue) address \(address)")
                    failed = true
                } else {
                    ips.append((address, element))
                }
            }
            if elements.isEmpty && !failed {
                fail(list, "expected at least one cluster IP, got an empty list")
                failed = true
            }
        } else if let primary, let value = fields["clusterIP"] {
            ips = [(primary, value)]
        } else if !failed {
            _ = required(fields, "clusterIP", expected: "an IPv4 address like 10.96.0.10")
            failed = true
        }
        if failed { return nil }
        if let primary, let value = fields["clusterIP"], let first = ips.first, first.address != primary {
            fail(value, "\(primary) is not clusterIPs[0] (\(first.address)); expected the primary cluster IP, the first of clusterIPs")
            return nil
        }
        let ipFamilies = ips.map { family($0.address) }
        if let list = fields["ipFamilies"], !checkFamilies(list, against: ips) { return nil }
        var policy: IPFamilyPolicy = ips.count == 2 ? .requireDualStack : .singleStack
        if let value = fields["ipFamilyPolicy"] {
            guard let chosen = choice(value, of: IPFamilyPolicy.self) else { return nil }
            if chosen == .singleStack && ips.count == 2 {
                fail(value, "SingleStack with two cluster IPs; expected PreferDualStack or RequireDualStack, or one cluster IP")
                return nil
            }
            if chosen == .requireDualStack && ips.count < 2 {
                fail(value, "RequireDualStack with one cluster IP; expected a cluster IP of each family in clusterIPs")
                return nil
            }
            policy = chosen
        }
        var clusterIP: IPv4Address?, clusterIP6: IPv6Address?
        for ip in ips {
            switch ip.address {
            case .v4(let address): clusterIP = address
            case .v6(let address): clusterIP6 = address
            }
        }
        guard let clusterIP else {
            fail(ips[0].at, "an IPv6-only service is not supported; expected an IPv4 cluster IP too, like clusterIPs: [10.96.0.10, \(ips[0].address)]")
            return nil
        }
        guard let (endpoints, endpoints6, details) = endpoints(fields, has6: clusterIP6 != nil) else { return nil }
        return ServiceAddresses(clusterIP: clusterIP, clusterIP6: clusterIP6, families: ipFamilies, policy: policy,
                                endpoints: endpoints, endpoints6: endpoints6, details: details.allSatisfy(\.isEmpty) ? [] : details)
    }

    /// `ipFamilies`: one family per cluster IP, in the same order.
    private func checkFamilies(_ list: Located, against ips: [(address: NeighborConfig.Address, at: Located)]) -> Bool {
        let elements = elements(list, expected: "a list of families like [IPv4, IPv6]")
        var good = true
        for (index, element) in elements.enumerated() {
            guard let named = choice(element, of: IPFamily.self) else {
                good = false
                continue
            }
            guard index < ips.count else {
                fail(element, "\(named.rawValue) has no cluster IP; expected one family per cluster IP in clusterIPs (\(ips.count))")
                good = false
                continue
            }
            let wanted = family(ips[index].address)
            if named != wanted {
                fail(element, "expected \(wanted.rawValue), the family of clusterIPs[\(index)] (\(ips[index].address)), got \(named.rawValue)")
                good = false
            }
        }
        return good
    }

    /// `endpoints`: addresses of the Service's families, split by family; an IPv4 endpoint may
    /// be written as an EndpointSlice endpoint (`{addresses, conditions, nodeName}`,
    /// Decode+ServicePolicies.swift), whose details are kept by its index.
    private func endpoints(_ fields: Entries, has6: Bool) -> ([IPv4Address], [IPv6Address], [ServiceConfig.EndpointDetails])? {
        guard let list = fields["endpoints"] else { return ([], [], []) }
        var endpoints: [IPv4Address] = [], endpoints6: [IPv6Address] = [], details: [ServiceConfig.EndpointDetails] = []
        var good = true
        for element in elements(list, expected: "a list of endpoint addresses like [10.244.1.5, fd00:244::5]") {
            if case .mapping = element.node {
                guard let (address, detail) = endpoint(element) else {
                    good = false
                    continue
                }
                endpoints.append(address)
                details.append(detail)
                continue
            }
            switch ipAny(element, expected: "an endpoint address like 10.244.1.5 or fd00:244::5") {
            case .v4(let address)?:
                endpoints.append(address)
                details.append(ServiceConfig.EndpointDetails())
            case .v6(let address)? where has6: endpoints6.append(address)
            case .v6(let address)?:
                fail(element, "\(address) is an IPv6 endpoint of a service with no IPv6 cluster IP; expected IPv4 endpoints, or an IPv6 cluster IP in clusterIPs")
                good = false
            case nil: good = false
            }
        }
        return good ? (endpoints, endpoints6, details) : nil
    }

    private func family(_ address: NeighborConfig.Address) -> IPFamily {
        if case .v6 = address { return .ipv6 }
        return .ipv4
    }
}
