import Wire

/// The NAT decision for a packet that opens an IPv6 connection, as `NATPolicy` takes it for
/// IPv4 (ip6tables' nat table: PREROUTING's DNAT, then POSTROUTING's MASQUERADE, node ports
/// and hairpin marked for masquerade as kube-proxy does).
struct NATPolicy6 {
    /// What becomes of a new connection.
    enum Decision {
        /// Not tracked: for one of the node's own addresses, or unroutable.
        case untracked
        /// For a Service port with no IPv6 endpoints (rule `rule`): rejected.
        case reject(rule: Int)
        /// Tracked toward `destination`:`port` (after DNAT by `rule`, or -1), leaving by
        /// `egress`, with its source masqueraded or not.
        case track(destination: IPv6Address, port: UInt16, egress: InterfaceIndex, masquerade: Bool, rule: Int)
    }

    /// IPv6 published ports and Services' IPv6 halves.
    let dnat: DNATTable6
    /// IPv6 MASQUERADE rules with their output port's interface.
    private let masquerade: [(source: IPv6Prefix, interface: InterfaceIndex)]
    private let routes: RoutingTable
    private let nodeAddresses: [IPv6Address]

    /// The IPv6 policy of `config`'s NAT rules, routed by `routes`.
    init(config: PipelineConfig, routes: RoutingTable, nodeAddresses: [IPv6Address]) {
        dnat = DNATTable6(rules: config.nat, nodeAddresses: nodeAddresses)
        masquerade = config.nat.masquerade6.compactMap { rule in
            config.ports[Int(rule.out.rawValue)].interface.map { (rule.source, $0) }
        }
        self.routes = routes
        self.nodeAddresses = nodeAddresses
    }

    /// True for one of the node's own IPv6 addresses.
    func isNodeAddress(_ address: IPv6Address) -> Bool { nodeAddresses.contains(address) }

    /// The decision for a connection `key` with `addresses` that came in on `ingress`.
    func decide(_ key: FlowKey, addresses: AddressPair6, ingress: InterfaceIndex, now: Int64) -> Decision {
        var destination = addresses.destination, destinationPort = key.destinationPort
        var masquerade = false
        var rule = -1
        if key.protocol != .icmpv6 {
            switch dnat.decide(destination: destination, port: destinationPort, proto: key.protocol, client: addresses.source, now: now) {
            case .none:
                break
            case .noEndpoints(let index):
                return .reject(rule: index)
            case .translate(let address, let port, let mark, let index):
                (destination, destinationPort, masquerade, rule) = (address, port, mark, index)
            }
        }
        guard !isNodeAddress(destination), let egress = routes.egress(of: destination) else { return .untracked }
        if rule >= 0 && egress == ingress { masquerade = true }  // hairpin
        if !masquerade {
            masquerade = self.masquerade.contains { $0.interface == egress && $0.source.contains(addresses.source) }
        }
        return .track(destination: destination, port: destinationPort, egress: egress, masquerade: masquerade, rule: rule)
    }
}
