import Wire

extension NATRules.Service {
    /// What kube-proxy knows of one endpoint: the EndpointSlice conditions and whether the
    /// endpoint's `nodeName` is this node.
    public struct EndpointState: OptionSet, Sendable, Hashable {
        public let rawValue: UInt8
        /// Makes a state from its bits.
        public init(rawValue: UInt8) { self.rawValue = rawValue }
        /// `conditions.ready`: takes new connections.
        public static let ready = EndpointState(rawValue: 1 << 0)
        /// `conditions.serving`: answers, even while terminating.
        public static let serving = EndpointState(rawValue: 1 << 1)
        /// `conditions.terminating`: its pod is being deleted.
        public static let terminating = EndpointState(rawValue: 1 << 2)
        /// Its `nodeName` is this node.
        public static let local = EndpointState(rawValue: 1 << 3)
        /// A ready endpoint on another node (what an endpoint without conditions is).
        public static let readyElsewhere: EndpointState = [.ready, .serving]
    }

    /// A Service's traffic policies and the external addresses it answers on.
    public struct TrafficPolicy: Sendable, Equatable {
        /// `externalTrafficPolicy: Local`: node ports, external IPs and load-balancer IPs
        /// reach only this node's endpoints, without SNAT.
        public var externalLocal = false
        /// `internalTrafficPolicy: Local`: the cluster IP reaches only this node's endpoints.
        public var internalLocal = false
        /// `externalIPs`: addresses the Service's ports answer on, as node ports do.
        public var externalIPs: [IPv4Address] = []
        /// `status.loadBalancer.ingress[].ip`: the load balancer's addresses, as external IPs.
        public var loadBalancerIPs: [IPv4Address] = []
        /// Makes the default: both policies `Cluster`, no external addresses.
        public init(externalLocal: Bool = false, internalLocal: Bool = false, externalIPs: [IPv4Address] = [],
                    loadBalancerIPs: [IPv4Address] = []) {
            self.externalLocal = externalLocal
            self.internalLocal = internalLocal
            self.externalIPs = externalIPs
            self.loadBalancerIPs = loadBalancerIPs
        }
    }

    /// The state of endpoint `index` (ready, serving and not local when not given).
    func state(of index: Int) -> EndpointState {
        index < endpointStates.count ? endpointStates[index] : .readyElsewhere
    }

    /// True when the Service answers on more than its cluster IP (kube-proxy's
    /// `ExternallyAccessible`: a node port, an external IP or a load-balancer IP).
    var isExternallyAccessible: Bool {
        ports.contains { $0.nodePort != nil } || !traffic.externalIPs.isEmpty || !traffic.loadBalancerIPs.isEmpty
    }
}

/// The endpoints a Service's traffic may go to, sorted as kube-proxy's `CategorizeEndpoints`
/// (pkg/proxy/topology.go) sorts them: the cluster-wide set is the ready endpoints, or when
/// none is ready the serving and terminating ones; the local set is this node's ready
/// endpoints, or when none of them is ready this node's serving and terminating ones. Each
/// set holds indices into the Service's `endpoints`. It has no topology hints.
struct ServiceEndpointSets {
    /// Endpoints for `Cluster` policy, and for pods reaching an external address.
    let cluster: [Int]
    /// Endpoints for `Local` policy.
    let local: [Int]
    /// The endpoints the cluster IP uses (`internalTrafficPolicy`).
    let `internal`: [Int]
    /// The endpoints node ports, external and load-balancer IPs use from outside
    /// (`externalTrafficPolicy`).
    let external: [Int]
    /// Some endpoint anywhere could take a connection; without one, kube-proxy REJECTs.
    let hasEndpoints: Bool

    init(_ service: NATRules.Service) {
        let states = service.endpoints.indices.map { service.state(of: $0) }
        let usable = states.indices.filter { states[$0].contains(.ready) }
        let fallback = states.indices.filter { states[$0].isSuperset(of: [.serving, .terminating]) }
        cluster = usable.isEmpty ? fallback : usable
        let localReady = usable.filter { states[$0].contains(.local) }
        local = localReady.isEmpty ? fallback.filter { states[$0].contains(.local) } : localReady
        hasEndpoints = !usable.isEmpty || !fallback.isEmpty
        `internal` = service.traffic.internalLocal ? local : cluster
        external = service.traffic.externalLocal && service.isExternallyAccessible ? local : cluster
    }

    /// True when endpoint `index` is in some set traffic can reach.
    func reaches(_ index: Int) -> Bool { cluster.contains(index) || local.contains(index) }
}
