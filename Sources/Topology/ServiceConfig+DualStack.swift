import Wire

/// An address family of a Service (Kubernetes' `ipFamilies` values).
public enum IPFamily: String, Sendable, Hashable, CaseIterable {
    /// IPv4.
    case ipv4 = "IPv4"
    /// IPv6.
    case ipv6 = "IPv6"
}

/// How many families a Service has (Kubernetes' `ipFamilyPolicy`).
public enum IPFamilyPolicy: String, Sendable, Hashable, CaseIterable {
    /// One cluster IP.
    case singleStack = "SingleStack"
    /// Both families when the cluster has them, else one.
    case preferDualStack = "PreferDualStack"
    /// Both families, or the Service is refused.
    case requireDualStack = "RequireDualStack"
}

// A dual-stack Service as Kubernetes has them since 1.23: a cluster IP of each family
// (`clusterIPs`, the primary first, `clusterIP` being the primary), `ipFamilies` naming their
// families in the same order, `ipFamilyPolicy`, and endpoints of both families (EndpointSlices
// are per family; kube-proxy's IPv4 and IPv6 proxiers each balance over their own). A Service
// must have an IPv4 cluster IP here: an IPv6-only Service is refused with a clear error.
extension ServiceConfig {
    /// The cluster IPs in `clusterIPs` order: the primary family first.
    public var clusterIPs: [NeighborConfig.Address] {
        guard let clusterIP6 else { return [.v4(clusterIP)] }
        return ipFamilies.first == .ipv6 ? [.v6(clusterIP6), .v4(clusterIP)] : [.v4(clusterIP), .v6(clusterIP6)]
    }

    /// True when the Service has a cluster IP of each family.
    public var isDualStack: Bool { clusterIP6 != nil }
}
