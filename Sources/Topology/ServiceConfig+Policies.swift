import Wire

extension ServiceConfig {
    /// Which endpoints a Service's traffic may reach (Kubernetes' `externalTrafficPolicy` and
    /// `internalTrafficPolicy`).
    public enum TrafficPolicy: String, Sendable, Hashable, CaseIterable {
        /// Any endpoint in the cluster (the default).
        case cluster = "Cluster"
        /// Only endpoints on this node; external traffic keeps its client address.
        case local = "Local"
    }

    /// What an EndpointSlice says of one endpoint (`endpoints[i]` when written as a mapping:
    /// `{addresses: [IP], conditions: {ready, serving, terminating}, nodeName}`). An unset
    /// condition means what kube-proxy takes it to mean: ready and serving, not terminating.
    public struct EndpointDetails: Sendable, Equatable {
        /// `conditions.ready`.
        public var ready: Bool?
        /// `conditions.serving`.
        public var serving: Bool?
        /// `conditions.terminating`.
        public var terminating: Bool?
        /// `nodeName`: the node the endpoint runs on. Without it, an endpoint is this node's
        /// when its address is in one of this node's pod subnets (a bridge's or the overlay's).
        public var nodeName: String?

        /// Makes the details; all unset by default (a bare address).
        public init(ready: Bool? = nil, serving: Bool? = nil, terminating: Bool? = nil, nodeName: String? = nil) {
            self.ready = ready
            self.serving = serving
            self.terminating = terminating
            self.nodeName = nodeName
        }

        /// True when nothing is set: the endpoint is written as a bare address.
        public var isEmpty: Bool { self == EndpointDetails() }
    }

    /// The details of endpoint `index` (unset when not given).
    public func details(ofEndpoint index: Int) -> EndpointDetails {
        index < endpointDetails.count ? endpointDetails[index] : EndpointDetails()
    }

    /// Kubernetes' default ClientIP affinity timeout: 10800 seconds (3 hours).
    public static let defaultAffinityTimeout = 10_800
}
