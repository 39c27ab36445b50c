import Dataplane
import Wire

extension PipelineConfig {
    /// This node's pod subnets: its bridges' IPv4 subnets and the overlay's pod subnet
    /// (what kube-proxy's `--detect-local-mode` calls local traffic).
    static func podCIDRs(_ topology: Topology) -> [IPv4Prefix] {
        topology.bridges.flatMap(\.addresses) + (topology.overlay.map { [$0.podCIDR] } ?? [])
    }

    /// `service` in the Dataplane's terms, with `podCIDRs` deciding which endpoints without a
    /// `nodeName` are this node's (`node`).
    static func natService(_ service: ServiceConfig, node: String, podCIDRs: [IPv4Prefix]) -> NATRules.Service {
        var rules = NATRules.Service(
            name: "\(service.namespace)/\(service.name)", clusterIP: service.clusterIP,
            ports: service.ports.map {
                NATRules.Service.Port(proto: $0.proto.ipProtocol, port: $0.port, targetPort: $0.targetPort, nodePort: $0.nodePort)
            },
            endpoints: service.endpoints, clientIPAffinity: service.sessionAffinity == .clientIP,
            affinitySeconds: Int64(service.affinityTimeout ?? ServiceConfig.defaultAffinityTimeout))
        rules.traffic = NATRules.Service.TrafficPolicy(
            externalLocal: service.externalTrafficPolicy == .local, internalLocal: service.internalTrafficPolicy == .local,
            externalIPs: service.externalIPs, loadBalancerIPs: service.loadBalancerIngress)
        let needsStates = !service.endpointDetails.isEmpty || service.externalTrafficPolicy == .local
            || service.internalTrafficPolicy == .local
        guard needsStates else { return rules }
        rules.endpointStates = service.endpoints.indices.map { index in
            let details = service.details(ofEndpoint: index)
            let ready = details.ready ?? true
            var state: NATRules.Service.EndpointState = []
            if ready { state.insert(.ready) }
            if details.serving ?? true { state.insert(.serving) }
            if details.terminating ?? false { state.insert(.terminating) }
            let local = details.nodeName.map { $0 == node } ?? podCIDRs.contains { $0.contains(service.endpoints[index]) }
            if local { state.insert(.local) }
            return state
        }
        return rules
    }
}
