/// kube-proxy's traffic policies and external addresses, read from its chains (iptables mode,
/// pkg/proxy/iptables/proxier.go): `KUBE-SERVICES` rules commented "external IP" and
/// "loadbalancer IP" jump to the Service port's `KUBE-EXT-*` chain; a `KUBE-EXT-*` chain that
/// sends LOCAL-sourced traffic on by itself or jumps to `KUBE-SVL-*` is
/// `externalTrafficPolicy: Local`; a cluster IP that jumps to `KUBE-SVL-*` is
/// `internalTrafficPolicy: Local`; `--seconds` of the `-m recent --rcheck` rules is the
/// ClientIP affinity timeout. Which endpoints are this node's follows from their addresses (a
/// pod subnet of the node's bridges), so endpoints stay bare addresses. The filter table's
/// DROP and REJECT rules ("has no local endpoints", "has no endpoints") are not read: Pier's
/// Services do both by themselves.
extension NATRules {
    /// Kubernetes' default ClientIP affinity timeout, which is left unsaid.
    static let defaultAffinitySeconds = "10800"

    /// Records each external IP and load-balancer IP of the `KUBE-EXT-*` chains' Service
    /// ports; the indices of the rules understood.
    mutating func readExternalAddresses(_ rules: [Rule], externals: [String: String], localExternals: Set<String>,
                                        into ports: inout [String: ServicePort]) -> Set<Int> {
        var understood = Set<Int>()
        for (index, rule) in rules.enumerated() where rule.chain == "KUBE-SERVICES" {
            guard let target = rule.target, target.hasPrefix("KUBE-EXT-"), let service = externals[target], ports[service] != nil,
                  let address = rule.value("-d")?.replacingOccurrences(of: "/32", with: ""),
                  let comment = rule.value("--comment") else { continue }
            if comment.hasSuffix(" external IP") {
                if !(ports[service]?.externalIPs.contains(address) ?? true) { ports[service]?.externalIPs.append(address) }
            } else if comment.hasSuffix(" loadbalancer IP") {
                if !(ports[service]?.loadBalancerIPs.contains(address) ?? true) { ports[service]?.loadBalancerIPs.append(address) }
            } else {
                continue
            }
            if localExternals.contains(target) { ports[service]?.externalLocal = true }
            understood.insert(index)
        }
        return understood
    }

    /// The topology lines a Service's ports add for their policies, external addresses and
    /// affinity timeout (none when all are Kubernetes' defaults).
    static func policyLines(_ ports: [ServicePort]) -> String {
        var lines: [String] = []
        if ports.contains(where: \.externalLocal) { lines.append("externalTrafficPolicy: Local") }
        if ports.contains(where: \.internalLocal) { lines.append("internalTrafficPolicy: Local") }
        let externalIPs = ports.flatMap(\.externalIPs).reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
        if !externalIPs.isEmpty { lines.append("externalIPs: [\(externalIPs.joined(separator: ", "))]") }
        let ingress = ports.flatMap(\.loadBalancerIPs).reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
        if !ingress.isEmpty {
            lines.append("status: {loadBalancer: {ingress: [\(ingress.map { "{ip: \($0)}" }.joined(separator: ", "))]}}")
        }
        if let seconds = ports.compactMap(\.affinitySeconds).first, seconds != defaultAffinitySeconds {
            lines.append("sessionAffinityConfig: {clientIP: {timeoutSeconds: \(seconds)}}")
        }
        return lines.map { "\n    " + $0 }.joined()
    }
}
