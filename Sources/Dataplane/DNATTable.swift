import Wire

/// The destination NAT decisions for new connections: published ports (`docker run -p`) on
/// every node address, and Services as kube-proxy programs them: the cluster IP's ports, and
/// node ports on every node address, each new connection sent to one endpoint in turn (round
/// robin, as IPVS mode does; iptables mode draws at random with the same spread), or to the
/// client's last endpoint with ClientIP affinity.
///
/// ClientIP affinity remembers at most 65,536 clients: past that, idle ones are forgotten.
///
/// It does not track connections (the conntrack stage keeps the decision for the rest of a
/// connection) and has no per-endpoint weights or topology hints.
final class DNATTable {
    /// Where a new connection goes.
    enum Decision {
        /// No rule: the destination stays.
        case none
        /// To `address`:`port`; `masquerade` when kube-proxy would mark it for masquerade
        /// (a node port); `rule` indexes `labels` (the Service or published port, for traces).
        case translate(address: IPv4Address, port: UInt16, masquerade: Bool, rule: Int)
        /// A Service port with no endpoints: rejected (ICMP port unreachable).
        case noEndpoints(rule: Int)
    }

    private enum Rule {
        case mapping(to: IPv4Address, port: UInt16)
        case service(index: Int, targetPort: UInt16, nodePort: Bool)
    }

    private var rules: [UInt64: Int] = [:]
    private var ruleList: [Rule] = []
    /// A label per rule, for traces: `published 3306` or `service default/web`.
    private(set) var labels: [String] = []
    private let services: [NATRules.Service]
    /// The next endpoint of each Service (round robin).
    private var nextEndpoint: [Int]
    /// ClientIP affinity: Service index << 32 | client address → endpoint index and when it was last used.
    private var affinity: [UInt64: (endpoint: Int, lastUsed: Int64)] = [:]

    init(rules config: NATRules, nodeAddresses: [IPv4Address]) {
        services = config.services
        nextEndpoint = Array(repeating: 0, count: config.services.count)
        for mapping in config.portMappings {
            for address in nodeAddresses {
                add(address, mapping.hostPort, mapping.proto, .mapping(to: mapping.to, port: mapping.toPort),
                    label: "published \(mapping.proto == .udp ? "udp" : "tcp") \(mapping.hostPort)")
            }
        }
        for (index, service) in config.services.enumerated() {
            for port in service.ports {
                add(service.clusterIP, port.port, port.proto, .service(index: index, targetPort: port.targetPort, nodePort: false),
                    label: "service \(service.name)")
                guard let nodePort = port.nodePort else { continue }
                for address in nodeAddresses {
                    add(address, nodePort, port.proto, .service(index: index, targetPort: port.targetPort, nodePort: true),
                        label: "service \(service.name) node port \(nodePort)")
                }
            }
        }
    }

    private static func ruleKey(_ address: IPv4Address, _ port: UInt16, _ proto: IPProtocol) -> UInt64 {
        UInt64(address.rawValue) << 32 | UInt64(port) << 8 | UInt64(proto.rawValue)
    }

    private func add(_ address: IPv4Address, _ port: UInt16, _ proto: IPProtocol, _ rule: Rule, label: String) {
        let key = Self.ruleKey(address, port, proto)
        guard rules[key] == nil else { return }  // the first rule for an address and port wins
        rules[key] = ruleList.count
        ruleList.append(rule)
        labels.append(label)
    }

    /// The decision for a new connection from `client` to `destination`:`port`.
    func decide(destination: IPv4Address, port: UInt16, proto: IPProtocol, client: IPv4Address, now: Int64) -> Decision {
        guard !rules.isEmpty, let index = rules[Self.ruleKey(destination, port, proto)] else { return .none }
        switch ruleList[index] {
        case .mapping(let to, let toPort):
            return .translate(address: to, port: toPort, masquerade: false, rule: index)
        case .service(let service, let targetPort, let nodePort):
            guard let endpoint = endpoint(of: service, client: client, now: now) else { return .noEndpoints(rule: index) }
            return .translate(address: endpoint, port: targetPort, masquerade: nodePort, rule: index)
        }
    }

    /// Whether a new connection to `destination`:`port` may be sent to `endpoint`:`endpointPort`
    /// (a published port's target, or one of a Service's endpoints on its target port).
    func leads(to endpoint: IPv4Address, port endpointPort: UInt16, from destination: IPv4Address, port: UInt16,
               proto: IPProtocol) -> Bool {
        guard let index = rules[Self.ruleKey(destination, port, proto)] else { return false }
        switch ruleList[index] {
        case .mapping(let to, let toPort):
            return to == endpoint && toPort == endpointPort
        case .service(let service, let targetPort, _):
            return targetPort == endpointPort && services[service].endpoints.contains(endpoint)
        }
    }

    /// The endpoint for `client`: its affinity entry if fresh, else the next in turn.
    private func endpoint(of index: Int, client: IPv4Address, now: Int64) -> IPv4Address? {
        let service = services[index]
        guard !service.endpoints.isEmpty else { return nil }
        let key = UInt64(index) << 32 | UInt64(client.rawValue)
        if service.clientIPAffinity, let entry = affinity[key], now - entry.lastUsed < service.affinitySeconds * 1_000_000_000 {
            affinity[key] = (entry.endpoint, now)
            return service.endpoints[entry.endpoint]
        }
        let chosen = nextEndpoint[index]
        nextEndpoint[index] = (chosen + 1) % service.endpoints.count
        if service.clientIPAffinity {
            if affinity.count >= Self.affinityLimit { forgetIdleClients(now: now) }
            affinity[key] = (chosen, now)
        }
        return service.endpoints[chosen]
    }

    /// Affinity entries kept before idle ones are swept (each sweep is one pass).
    static let affinityLimit = 65_536

    /// Forgets clients idle longer than their Service's affinity timeout; if that frees
    /// nothing, forgets them all (a client then starts afresh, as after a timeout).
    private func forgetIdleClients(now: Int64) {
        affinity = affinity.filter { key, entry in
            now - entry.lastUsed < services[Int(key >> 32)].affinitySeconds * 1_000_000_000
        }
        if affinity.count >= Self.affinityLimit { affinity.removeAll(keepingCapacity: true) }
    }
}
