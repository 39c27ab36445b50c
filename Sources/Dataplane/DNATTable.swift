import Wire

/// The destination NAT decisions for new connections: published ports (`docker run -p`) on
/// every node address, and Services as kube-proxy programs them: the cluster IP's ports, and
/// node ports on every node address, external IPs and load-balancer ingress IPs on the
/// Service's ports, each new connection sent to one endpoint in turn (round robin, as IPVS
/// mode does; iptables mode draws at random with the same spread), or to the client's last
/// endpoint with ClientIP affinity (within its timeout).
///
/// The traffic policies (`ServiceEndpointSets`): the cluster IP uses the cluster-wide
/// endpoints, or this node's with `internalTrafficPolicy: Local`; the external addresses use
/// the cluster-wide endpoints and are masqueraded, or with `externalTrafficPolicy: Local`
/// use this node's endpoints and keep the client's address, except from this node's pods
/// (`podCIDRs`), which take the cluster-wide endpoints (kube-proxy's "pod traffic for
/// external destinations"). A Service with no usable endpoint anywhere rejects; one whose
/// policy leaves no local endpoint drops (kube-proxy's DROP, "has no local endpoints").
///
/// ClientIP affinity remembers at most 65,536 clients: past that, idle ones are forgotten.
///
/// It does not track connections (the conntrack stage keeps the decision for the rest of a
/// connection) and has no per-endpoint weights or topology hints.
package final class DNATTable {
    /// Where a new connection goes.
    enum Decision {
        /// No rule: the destination stays.
        case none
        /// To `address`:`port`; `masquerade` when kube-proxy would mark it for masquerade
        /// (an external address with `Cluster` policy); `rule` names it for traces (`label(_:)`).
        case translate(address: IPv4Address, port: UInt16, masquerade: Bool, rule: Int)
        /// A Service port with no endpoints: rejected (ICMP port unreachable).
        case noEndpoints(rule: Int)
        /// A Service port whose `Local` policy leaves no endpoint on this node: dropped.
        case noLocalEndpoints(rule: Int)
    }

    private enum Rule {
        case mapping(to: IPv4Address, port: UInt16)
        /// A Service port on its cluster IP (`external` false) or on a node port, external IP
        /// or load-balancer IP (`external` true).
        case service(index: Int, targetPort: UInt16, external: Bool)
    }

    /// What a rule's address is, for `label(_:)`.
    private enum Origin {
        case published, clusterIP, nodePort, externalIP, loadBalancer
    }

    private var rules: [UInt64: Int] = [:]
    private var ruleList: [Rule] = []
    /// What each rule is, for `label(_:)`: a published port's protocol and host port, or a
    /// Service's index and port. Kept as numbers: a change re-makes the table, and 10,000
    /// Services' label strings were a fifth of that.
    private var origins: [(service: Int, port: UInt16, proto: IPProtocol, origin: Origin)] = []
    private let services: [NATRules.Service]
    /// Each Service's endpoints by traffic policy.
    private let sets: [ServiceEndpointSets]
    /// This node's pod subnets (external addresses reached from them take cluster policy).
    private let podCIDRs: [IPv4Prefix]
    /// The next endpoint of each Service's cluster-wide (2 × index) and local (2 × index + 1)
    /// sets (round robin).
    private var nextEndpoint: [Int]
    /// ClientIP affinity: Service index << 32 | client address → endpoint index and when it was last used.
    private var affinity: [UInt64: (endpoint: Int, lastUsed: Int64)] = [:]

    init(rules config: NATRules, nodeAddresses: [IPv4Address]) {
        services = config.services
        sets = config.services.map(ServiceEndpointSets.init)
        podCIDRs = config.podCIDRs
        nextEndpoint = Array(repeating: 0, count: 2 * config.services.count)
        rules.reserveCapacity(config.portMappings.count * nodeAddresses.count
                              + config.services.reduce(0) { $0 + $1.ports.count * (1 + nodeAddresses.count) })
        for mapping in config.portMappings {
            for address in nodeAddresses {
                add(address, mapping.hostPort, mapping.proto, .mapping(to: mapping.to, port: mapping.toPort),
                    origin: (-1, mapping.hostPort, mapping.proto, .published))
            }
        }
        for (index, service) in config.services.enumerated() {
            for port in service.ports {
                add(service.clusterIP, port.port, port.proto, .service(index: index, targetPort: port.targetPort, external: false),
                    origin: (index, port.port, port.proto, .clusterIP))
                let external = Rule.service(index: index, targetPort: port.targetPort, external: true)
                for address in service.traffic.externalIPs {
                    add(address, port.port, port.proto, external, origin: (index, port.port, port.proto, .externalIP))
                }
                for address in service.traffic.loadBalancerIPs {
                    add(address, port.port, port.proto, external, origin: (index, port.port, port.proto, .loadBalancer))
                }
                guard let nodePort = port.nodePort else { continue }
                for address in nodeAddresses {
                    add(address, nodePort, port.proto, external, origin: (index, nodePort, port.proto, .nodePort))
                }
            }
        }
    }

    private static func ruleKey(_ address: IPv4Address, _ port: UInt16, _ proto: IPProtocol) -> UInt64 {
        UInt64(address.rawValue) << 32 | UInt64(port) << 8 | UInt64(proto.rawValue)
    }

    private func add(_ address: IPv4Address, _ port: UInt16, _ proto: IPProtocol, _ rule: Rule,
                     origin: (service: Int, port: UInt16, proto: IPProtocol, origin: Origin)) {
        let key = Self.ruleKey(address, port, proto)
        guard rules[key] == nil else { return }  // the first rule for an address and port wins
        rules[key] = ruleList.count
        ruleList.append(rule)
        origins.append(origin)
    }

    /// Rule `index` for traces: `published tcp 3306`, `service default/web`,
    /// `service default/web node port 30080`, `… external IP 80` or `… load balancer 80`.
    func label(_ index: Int) -> String {
        let origin = origins[index]
        guard origin.service >= 0 else { return "published \(origin.proto == .udp ? "udp" : "tcp") \(origin.port)" }
        let name = "service \(services[origin.service].name)"
        switch origin.origin {
        case .published, .clusterIP: return name
        case .nodePort: return name + " node port \(origin.port)"
        case .externalIP: return name + " external IP port \(origin.port)"
        case .loadBalancer: return name + " load balancer port \(origin.port)"
        }
    }

    /// The decision for a new connection from `client` to `destination`:`port`.
    func decide(destination: IPv4Address, port: UInt16, proto: IPProtocol, client: IPv4Address, now: Int64) -> Decision {
        guard !rules.isEmpty, let index = rules[Self.ruleKey(destination, port, proto)] else { return .none }
        switch ruleList[index] {
        case .mapping(let to, let toPort):
            return .translate(address: to, port: toPort, masquerade: false, rule: index)
        case .service(let service, let targetPort, let external):
            let endpoints = sets[service]
            guard endpoints.hasEndpoints else { return .noEndpoints(rule: index) }
            let local: Bool, masquerade: Bool
            if !external {
                (local, masquerade) = (services[service].traffic.internalLocal, false)
            } else if !services[service].traffic.externalLocal {
                (local, masquerade) = (false, true)  // "masquerade traffic for external destinations"
            } else {
                (local, masquerade) = (!podCIDRs.contains { $0.contains(client) }, false)  // pods short-circuit to Cluster
            }
            guard let endpoint = endpoint(of: service, local: local, client: client, now: now) else {
                return .noLocalEndpoints(rule: index)
            }
            return .translate(address: endpoint, port: targetPort, masquerade: masquerade, rule: index)
        }
    }

    /// Whether a new connection to `destination`:`port` may be sent to `endpoint`:`endpointPort`
    /// (a published port's target, or one of a Service's usable endpoints on its target port).
    func leads(to endpoint: IPv4Address, port endpointPort: UInt16, from destination: IPv4Address, port: UInt16,
               proto: IPProtocol) -> Bool {
        guard let index = rules[Self.ruleKey(destination, port, proto)] else { return false }
        switch ruleList[index] {
        case .mapping(let to, let toPort):
            return to == endpoint && toPort == endpointPort
        case .service(let service, let targetPort, _):
            guard targetPort == endpointPort else { return false }
            return services[service].endpoints.indices.contains { services[service].endpoints[$0] == endpoint && sets[service].reaches($0) }
        }
    }

    /// The endpoint for `client` from Service `index`'s local or cluster-wide set: its
    /// affinity entry if fresh and in that set, else the next in turn; nil when the set is empty.
    private func endpoint(of index: Int, local: Bool, client: IPv4Address, now: Int64) -> IPv4Address? {
        let service = services[index]
        let candidates = local ? sets[index].local : sets[index].cluster
        guard !candidates.isEmpty else { return nil }
        let key = UInt64(index) << 32 | UInt64(client.rawValue)
        if service.clientIPAffinity, let entry = affinity[key], now - entry.lastUsed < service.affinitySeconds * 1_000_000_000,
           candidates.contains(entry.endpoint) {
            affinity[key] = (entry.endpoint, now)
            return service.endpoints[entry.endpoint]
        }
        let slot = 2 * index + (local ? 1 : 0)
        let turn = nextEndpoint[slot] % candidates.count
        nextEndpoint[slot] = (turn + 1) % candidates.count
        let chosen = candidates[turn]
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
