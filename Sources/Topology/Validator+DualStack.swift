/// IPv6 NAT and dual-stack Services: an IPv6 MASQUERADE leaves by a port with an IPv6
/// address (ip6tables' MASQUERADE has no source to give otherwise), and each IPv6 cluster IP
/// is one Service's.
extension Validator {
    /// The IPv6 rules of `nat:` and the IPv6 cluster IPs of `services:`.
    mutating func checkIPv6NAT() {
        for (index, rule) in topology.nat.masquerade.enumerated() {
            guard case .v6 = rule.source, let port = portIndices[rule.out], topology.ports[port].addresses6.isEmpty else { continue }
            fail("nat.masquerade[\(index)].out",
                 "port \(quoted(rule.out)) has no IPv6 address to masquerade \(rule.source) with; expected a port with an IPv6 ip")
        }
        let services = topology.services
        for (index, first) in duplicates(services.map(\.clusterIP6), in: "services") {
            fail("services[\(index)].clusterIPs",
                 "cluster IP \(services[index].clusterIP6.map { "\($0)" } ?? "") is already \(services[first].name)'s, \(reference("services[\(first)].clusterIPs")); expected one service per cluster IP")
        }
    }
}
