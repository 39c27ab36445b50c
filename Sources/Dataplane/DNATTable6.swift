import Wire

/// The destination NAT decisions for new IPv6 connections, as `DNATTable` makes them for
/// IPv4 (Docker's ip6tables DNAT; kube-proxy's IPv6 proxier, which runs beside the IPv4 one
/// in a dual-stack cluster with its own rules and its own choice of endpoint): published IPv6
/// ports on every node IPv6 address, and each dual-stack Service's IPv6 cluster IP and node
/// ports over its IPv6 endpoints, in turn or by ClientIP affinity.
final class DNATTable6 {
    /// Where a new connection goes.
    enum Decision {
        /// No rule: the destination stays.
        case none
        /// To `address`:`port`; `masquerade` for a node port, as kube-proxy marks it.
        case translate(address: IPv6Address, port: UInt16, masquerade: Bool, rule: Int)
        /// A Service port with no IPv6 endpoints: rejected (ICMPv6 port unreachable).
        case noEndpoints(rule: Int)
    }

    private struct RuleKey: Hashable {
        var address: IPv6Address
        var port: UInt16
        var proto: UInt8
    }

    private enum Rule {
        case mapping(to: IPv6Address, port: UInt16, hostPort: UInt16, proto: IPProtocol)
        case service(index: Int, targetPort: UInt16, nodePort: UInt16?)
    }

    private var rules: [RuleKey: Int] = [:]
    private var ruleList: [Rule] = []
    private let services: [NATRules.Service]
    private var nextEndpoint: [Int]
    private var affinity: [ClientKey: (endpoint: Int, lastUsed: Int64)] = [:]

    private struct ClientKey: Hashable {
        var service: Int
        var client: IPv6Address
    }

    /// The table of `config`'s IPv6 published ports and Services' IPv6 halves.
    init(rules config: NATRules, nodeAddresses: [IPv6Address]) {
        services = config.services
        nextEndpoint = Array(repeating: 0, count: config.services.count)
        for mapping in config.portMappings6 {
            for address in nodeAddresses {
                add(address, mapping.hostPort, mapping.proto,
                    .mapping(to: mapping.to, port: mapping.toPort, hostPort: mapping.hostPort, proto: mapping.proto))
            }
        }
        for (index, service) in config.services.enumerated() {
            guard let clusterIP = service.clusterIP6 else { continue }
            for port in service.ports {
                add(clusterIP, port.port, port.proto, .service(index: index, targetPort: port.targetPort, nodePort: nil))
                guard let nodePort = port.nodePort else { continue }
                for address in nodeAddresses {
                    add(address, nodePort, port.proto, .service(index: index, targetPort: port.targetPort, nodePort: nodePort))
                }
            }
        }
    }

    private func add(_ address: IPv6Address, _ port: UInt16, _ proto: IPProtocol, _ rule: Rule) {
        let key = RuleKey(address: address, port: port, proto: proto.rawValue)
        guard rules[key] == nil else { return }  // the first rule for an address and port wins
        rules[key] = ruleList.count
        ruleList.append(rule)
    }

    /// Rule `index` for traces, as `DNATTable.label(_:)` words it.
    func label(_ index: Int) -> String {
        switch ruleList[index] {
        case .mapping(_, _, let hostPort, let proto):
            return "published \(proto == .udp ? "udp" : "tcp") \(hostPort) (IPv6)"
        case .service(let service, _, let nodePort):
            return "service \(services[service].name) (IPv6)" + (nodePort.map { " node port \($0)" } ?? "")
        }
    }

    /// The decision for a new connection from `client` to `destination`:`port`.
    func decide(destination: IPv6Address, port: UInt16, proto: IPProtocol, client: IPv6Address, now: Int64) -> Decision {
        guard !rules.isEmpty, let index = rules[RuleKey(address: destination, port: port, proto: proto.rawValue)] else { return .none }
        switch ruleList[index] {
        case .mapping(let to, let toPort, _, _):
            return .translate(address: to, port: toPort, masquerade: false, rule: index)
        case .service(let service, let targetPort, let nodePort):
            guard let endpoint = endpoint(of: service, client: client, now: now) else { return .noEndpoints(rule: index) }
            return .translate(address: endpoint, port: targetPort, masquerade: nodePort != nil, rule: index)
        }
    }

    /// Whether the UDP connection with `addresses` (record `connection`) is still where a rule
    /// leads: its original destination and port lead to its reply's source and port.
    func leads(_ addresses: ConnectionAddresses6, _ connection: ConntrackTable.Connection) -> Bool {
        let key = RuleKey(address: addresses.original.destination, port: connection.original.destinationPort,
                          proto: connection.original.protocol.rawValue)
        guard let index = rules[key] else { return false }
        let endpoint = addresses.reply.source, endpointPort = connection.reply.sourcePort
        switch ruleList[index] {
        case .mapping(let to, let toPort, _, _):
            return to == endpoint && toPort == endpointPort
        case .service(let service, let targetPort, _):
            return targetPort == endpointPort && services[service].endpoints6.contains(endpoint)
        }
    }

    /// The IPv6 endpoint for `client`: its affinity entry if fresh, else the next in turn.
    private func endpoint(of index: Int, client: IPv6Address, now: Int64) -> IPv6Address? {
        let service = services[index]
        guard !service.endpoints6.isEmpty else { return nil }
        let key = ClientKey(service: index, client: client)
        if service.clientIPAffinity, let entry = affinity[key], now - entry.lastUsed < service.affinitySeconds * 1_000_000_000 {
            affinity[key] = (entry.endpoint, now)
            return service.endpoints6[entry.endpoint]
        }
        let chosen = nextEndpoint[index]
        nextEndpoint[index] = (chosen + 1) % service.endpoints6.count
        if service.clientIPAffinity {
            if affinity.count >= DNATTable.affinityLimit {
                affinity = affinity.filter { now - $0.value.lastUsed < services[$0.key.service].affinitySeconds * 1_000_000_000 }
                if affinity.count >= DNATTable.affinityLimit { affinity.removeAll(keepingCapacity: true) }
            }
            affinity[key] = (chosen, now)
        }
        return service.endpoints6[chosen]
    }
}
