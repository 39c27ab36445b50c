import Dataplane
import Wire

extension PipelineConfig {
    /// The IPv6 half of `nat:` and `services:` in the Dataplane's terms: ip6tables'
    /// MASQUERADE and published ports, and each dual-stack Service's IPv6 cluster IP and
    /// endpoints.
    static func addIPv6(_ topology: Topology, portIndex: [String: PortID], to rules: inout NATRules) {
        rules.masquerade6 = topology.nat.masquerade.compactMap { rule in
            guard case .v6(let source) = rule.source else { return nil }
            return portIndex[rule.out].map { NATRules.Masquerade6(source: source, out: $0) }
        }
        rules.portMappings6 = topology.nat.portMappings.compactMap {
            guard case .v6(let to) = $0.to else { return nil }
            return NATRules.PortMapping6(proto: $0.proto.ipProtocol, hostPort: $0.hostPort, to: to, toPort: $0.toPort)
        }
        for (index, service) in topology.services.enumerated() where index < rules.services.count {
            rules.services[index].clusterIP6 = service.clusterIP6
            rules.services[index].endpoints6 = service.endpoints6
        }
    }
}
