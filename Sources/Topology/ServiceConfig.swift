import Wire

/// A Kubernetes-style Service, as kube-proxy programs it: a cluster IP (and optionally node
/// ports) load-balanced over the endpoints.
public struct ServiceConfig: Sendable, Equatable {
    /// How a Service picks an endpoint for a client.
    public enum SessionAffinity: String, Sendable, Hashable, CaseIterable {
        /// Each new connection may go to any endpoint (Kubernetes' `None`).
        case none = "None"
        /// A client keeps going to the same endpoint (Kubernetes' `ClientIP`).
        case clientIP = "ClientIP"
    }

    /// The Service's name, unique within its namespace.
    public var name: String
    /// The namespace (default `default`).
    public var namespace: String
    /// The virtual IP the Service answers on.
    public var clusterIP: IPv4Address
    /// The ports the Service forwards.
    public var ports: [ServicePort]
    /// The endpoints (pod addresses) traffic is balanced over.
    public var endpoints: [IPv4Address]
    /// How endpoints are chosen (default `None`).
    public var sessionAffinity: SessionAffinity
    /// `sessionAffinityConfig.clientIP.timeoutSeconds`: how long an idle client keeps its
    /// endpoint with ClientIP affinity (nil: Kubernetes' default, 10800).
    public var affinityTimeout: Int? = nil
    /// `externalTrafficPolicy` (default `Cluster`).
    public var externalTrafficPolicy = TrafficPolicy.cluster
    /// `internalTrafficPolicy` (default `Cluster`).
    public var internalTrafficPolicy = TrafficPolicy.cluster
    /// `externalIPs`: addresses the Service's ports answer on, as node ports do.
    public var externalIPs: [IPv4Address] = []
    /// `status.loadBalancer.ingress[].ip`: the load balancer's addresses, as external IPs.
    public var loadBalancerIngress: [IPv4Address] = []
    /// What the EndpointSlice says of each endpoint, by the index of `endpoints` (conditions
    /// and node); empty, or shorter than `endpoints`, for endpoints written as bare addresses.
    public var endpointDetails: [EndpointDetails] = []
    /// Dual stack (ServiceConfig+DualStack.swift): the IPv6 cluster IP, if any.
    public var clusterIP6: IPv6Address? = nil
    /// The IPv6 endpoints (pod addresses) IPv6 traffic is balanced over.
    public var endpoints6: [IPv6Address] = []
    /// The families of the cluster IPs, primary first (`ipFamilies`).
    public var ipFamilies: [IPFamily] = [.ipv4]
    /// Whether the Service has one family or both (`ipFamilyPolicy`).
    public var ipFamilyPolicy: IPFamilyPolicy = .singleStack

    /// Makes a Service.
    public init(
        name: String,
        namespace: String = "default",
        clusterIP: IPv4Address,
        ports: [ServicePort],
        endpoints: [IPv4Address] = [],
        sessionAffinity: SessionAffinity = .none
    ) {
        self.name = name
        self.namespace = namespace
        self.clusterIP = clusterIP
        self.ports = ports
        self.endpoints = endpoints
        self.sessionAffinity = sessionAffinity
    }
}

/// One port of a Service: `port` on the cluster IP (and `nodePort` on the node, if given) is
/// forwarded to `targetPort` on an endpoint.
public struct ServicePort: Sendable, Equatable {
    /// The transport protocol (`proto:`, default `tcp`).
    public var proto: TransportProtocol
    /// The port on the cluster IP, 1 to 65535.
    public var port: UInt16
    /// The port on the endpoint, 1 to 65535 (default: `port`).
    public var targetPort: UInt16
    /// The port on the node's own address, if the Service is also a NodePort.
    public var nodePort: UInt16?

    /// Makes a Service port; `targetPort` defaults to `port`.
    public init(proto: TransportProtocol = .tcp, port: UInt16, targetPort: UInt16? = nil, nodePort: UInt16? = nil) {
        self.proto = proto
        self.port = port
        self.targetPort = targetPort ?? port
        self.nodePort = nodePort
    }
}
