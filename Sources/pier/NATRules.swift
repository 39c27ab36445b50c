/// The nat table's rules (`iptables-save -t nat`) that a topology can express:
///
/// - Docker: a bridge subnet's MASQUERADE (`nat.masquerade`) and the `DOCKER` chain's DNATs
///   (`nat.portMappings`); its jumps to `DOCKER`, the bridge's `RETURN` and the per-mapping
///   hairpin MASQUERADE say nothing more.
/// - kube-proxy in iptables mode: `KUBE-SERVICES` (cluster IP and port) → `KUBE-SVC-*`
///   (endpoints, picked with kube-proxy's own `-m statistic` probabilities 1/n, 1/(n-1), …;
///   `-m recent` is ClientIP affinity) → `KUBE-SEP-*` (the DNAT to endpoint:targetPort), and
///   `KUBE-NODEPORTS` → `KUBE-EXT-*` (or straight to `KUBE-SVC-*`) for node ports, as
///   `services`; the masquerade marks and `KUBE-POSTROUTING` are how kube-proxy does what
///   Pier's conntrack does for a Service anyway.
///
/// Every other rule, and every chain nobody here knows, is a warning quoting it.
struct NATRules {
    private(set) var masquerade: [String] = []
    private(set) var portMappings: [String] = []
    private(set) var services: [String] = []
    private(set) var warnings: [String] = []

    /// One `-A CHAIN …` line, split into words (a quoted `--comment` is one word).
    struct Rule {
        var line: String
        var chain: String
        var words: [String]

        init?(_ line: String) {
            guard line.hasPrefix("-A ") else { return nil }
            var words: [String] = [], word = "", quoted = false
            for character in line {
                if character == "\"" { quoted.toggle(); continue }
                if character == " " && !quoted {
                    if !word.isEmpty { words.append(word) }
                    word = ""
                } else {
                    word.append(character)
                }
            }
            if !word.isEmpty { words.append(word) }
            self.line = line
            self.words = words
            chain = words.count > 1 ? words[1] : ""
        }

        /// The word after `option`, if the rule has it.
        func value(_ option: String) -> String? {
            words.firstIndex(of: option).flatMap { $0 + 1 < words.count ? words[$0 + 1] : nil }
        }

        var target: String? { value("-j") }

        /// True when `option` is negated (`! -o docker0`).
        func negates(_ option: String) -> Bool {
            words.indices.contains { $0 + 1 < words.count && words[$0] == "!" && words[$0 + 1] == option }
        }
    }

    /// A Service port as kube-proxy's chains describe it.
    struct ServicePort {
        var key: String          // namespace/name
        var clusterIP: String
        var proto: String
        var port: String
        var nodePort: String?
        var endpoints: [String] = []
        var targetPort: String?
        var affinity = false
        /// `--seconds` of the `-m recent --rcheck` rules (ClientIP affinity's timeout).
        var affinitySeconds: String?
        /// The cluster IP jumps to `KUBE-SVL-*`: `internalTrafficPolicy: Local`.
        var internalLocal = false
        /// The `KUBE-EXT-*` chain goes to `KUBE-SVL-*` or routes LOCAL traffic itself:
        /// `externalTrafficPolicy: Local`.
        var externalLocal = false
        /// `KUBE-SERVICES` rules "external IP" and "loadbalancer IP" to the `KUBE-EXT-*` chain.
        var externalIPs: [String] = []
        var loadBalancerIPs: [String] = []
    }

    init(_ table: String, uplink: String?, bridges: Set<String>) {
        let rules = table.split(separator: "\n").compactMap { Rule(String($0)) }
        var understood = Set<Int>()
        for (index, rule) in rules.enumerated() where docker(rule, uplink: uplink, bridges: bridges) {
            understood.insert(index)
        }
        understood.formUnion(kubeProxy(rules))
        for (index, rule) in rules.enumerated() where !understood.contains(index) {
            warnings.append("rule \"\(rule.line)\": not expressed")
        }
        let known = ["PREROUTING", "INPUT", "OUTPUT", "POSTROUTING", "DOCKER", "KUBE-SERVICES", "KUBE-NODEPORTS",
                     "KUBE-POSTROUTING", "KUBE-MARK-MASQ", "KUBE-MARK-DROP", "KUBE-PROXY-CANARY", "KUBE-KUBELET-CANARY"]
        for line in table.split(separator: "\n") where line.hasPrefix(":") {
            let chain = line.dropFirst().split(separator: " ").first.map(String.init) ?? ""
            if !known.contains(chain) && !["KUBE-SVC-", "KUBE-SVL-", "KUBE-SEP-", "KUBE-EXT-"].contains(where: chain.hasPrefix) {
                warnings.append("chain \(chain): not a chain Docker or kube-proxy writes, not expressed")
            }
        }
    }

    /// Takes in one of Docker's rules; false when it is none.
    private mutating func docker(_ rule: Rule, uplink: String?, bridges: Set<String>) -> Bool {
        switch (rule.chain, rule.target) {
        case ("POSTROUTING", "MASQUERADE") where rule.negates("-o") && rule.value("-s") != nil && bridges.contains(rule.value("-o") ?? ""):
            guard let uplink, let source = rule.value("-s") else {
                warnings.append("rule \"\(rule.line)\": no default route names the uplink to masquerade out of")
                return true
            }
            masquerade.append("{source: \(source), out: \(uplink)}")
            return true
        case ("POSTROUTING", "MASQUERADE") where rule.value("-s")?.hasSuffix("/32") == true && rule.value("-s") == rule.value("-d"):
            return true  // a published port's hairpin: Pier masquerades hairpin itself
        case ("PREROUTING", "DOCKER"), ("OUTPUT", "DOCKER"), ("DOCKER", "RETURN"):
            return true
        case ("DOCKER", "DNAT"):
            guard let proto = rule.value("-p"), let port = rule.value("--dport"), let to = rule.value("--to-destination") else {
                return false
            }
            portMappings.append("{proto: \(proto), hostPort: \(port), to: \(to)}")
            return true
        default:
            return false
        }
    }

    /// Takes in kube-proxy's chains; the indices of the rules it understood.
    private mutating func kubeProxy(_ rules: [Rule]) -> Set<Int> {
        var understood = Set<Int>()
        var ports: [String: ServicePort] = [:]       // by KUBE-SVC chain
        var order: [String] = []
        var externals: [String: String] = [:]        // KUBE-EXT chain → KUBE-SVC chain
        var localExternals = Set<String>()           // KUBE-EXT chains of externalTrafficPolicy: Local
        for (index, rule) in rules.enumerated() {
            let target = rule.target ?? ""
            switch rule.chain {
            case "PREROUTING" where target == "KUBE-SERVICES" || target == "KUBE-POSTROUTING",
                 "OUTPUT" where target == "KUBE-SERVICES" || target == "KUBE-POSTROUTING",
                 "POSTROUTING" where target == "KUBE-SERVICES" || target == "KUBE-POSTROUTING":
                understood.insert(index)
            case "KUBE-MARK-MASQ", "KUBE-MARK-DROP", "KUBE-POSTROUTING":
                understood.insert(index)
            case "KUBE-SERVICES" where target == "KUBE-NODEPORTS":
                understood.insert(index)
            case "KUBE-SERVICES" where target.hasPrefix("KUBE-SVC-") || target.hasPrefix("KUBE-SVL-"):
                guard let ip = rule.value("-d"), let proto = rule.value("-p"), let port = rule.value("--dport"),
                      let comment = rule.value("--comment") else { continue }
                let key = String(comment.split(separator: " ").first?.split(separator: ":").first ?? "")
                ports[target] = ServicePort(key: key, clusterIP: ip.replacingOccurrences(of: "/32", with: ""), proto: proto, port: port)
                ports[target]?.internalLocal = target.hasPrefix("KUBE-SVL-")
                order.append(target)
                understood.insert(index)
            case let chain where chain.hasPrefix("KUBE-EXT-"):
                if target.hasPrefix("KUBE-SVC-") { externals[chain] = target }
                // Local policy: LOCAL-sourced traffic marked and sent to the cluster chain, the
                // rest to the local endpoints (or, without any, nowhere: the filter table drops it).
                if target.hasPrefix("KUBE-SVL-") || rule.value("--src-type") == "LOCAL" { localExternals.insert(chain) }
                if target.hasPrefix("KUBE-SVC-") || target.hasPrefix("KUBE-SVL-") || target == "KUBE-MARK-MASQ" { understood.insert(index) }
            case let chain where chain.hasPrefix("KUBE-SVL-") && target.hasPrefix("KUBE-SEP-"):
                understood.insert(index)  // this node's endpoints, also in the KUBE-SVC chain
            default:
                break
            }
        }
        for (index, rule) in rules.enumerated() where rule.chain == "KUBE-NODEPORTS" {
            guard let target = rule.target, let port = rule.value("--dport") else { continue }
            if let service = externals[target] ?? (ports[target] != nil ? target : nil), ports[service] != nil {
                ports[service]?.nodePort = port
                if localExternals.contains(target) { ports[service]?.externalLocal = true }
                understood.insert(index)
            }
        }
        understood.formUnion(readExternalAddresses(rules, externals: externals, localExternals: localExternals, into: &ports))
        for (chain, _) in ports {
            understood.formUnion(readEndpoints(of: chain, rules: rules, into: &ports))
        }
        var services: [String: (first: ServicePort, ports: [ServicePort])] = [:]
        var names: [String] = []
        for chain in order {
            guard let port = ports[chain] else { continue }
            if services[port.key] == nil { names.append(port.key) }
            services[port.key, default: (port, [])].ports.append(port)
        }
        for key in names {
            guard let service = services[key] else { continue }
            let parts = key.split(separator: "/").map(String.init)
            let portList = service.ports.map { port in
                "{proto: \(port.proto), port: \(port.port)" + (port.targetPort.map { ", targetPort: \($0)" } ?? "")
                    + (port.nodePort.map { ", nodePort: \($0)" } ?? "") + "}"
            }
            let endpoints = service.ports.flatMap(\.endpoints).reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
            self.services.append("""
                  - name: \(parts.last ?? key)
                    namespace: \(parts.count > 1 ? parts[0] : "default")
                    clusterIP: \(service.first.clusterIP)
                    ports: [\(portList.joined(separator: ", "))]
                    endpoints: [\(endpoints.joined(separator: ", "))]
                    sessionAffinity: \(service.ports.contains(where: \.affinity) ? "ClientIP" : "None")
                """ + Self.policyLines(service.ports))
        }
        return understood
    }

    /// Reads the endpoints of Service chain `chain` (its `KUBE-SEP-*` jumps, checking
    /// kube-proxy's probabilities, and each one's DNAT); the indices of the rules understood.
    private mutating func readEndpoints(of chain: String, rules: [Rule], into ports: inout [String: ServicePort]) -> Set<Int> {
        var understood = Set<Int>()
        let jumps = rules.indices.filter { rules[$0].chain == chain && rules[$0].target?.hasPrefix("KUBE-SEP-") == true }
        let picks = jumps.filter { !rules[$0].words.contains("--rcheck") }
        for index in rules.indices where rules[index].chain == chain && rules[index].target == "KUBE-MARK-MASQ" {
            understood.insert(index)
        }
        for (position, index) in picks.enumerated() {
            let rule = rules[index]
            let remaining = picks.count - position
            let probability = rule.value("--probability").flatMap(Double.init)
            let expected = remaining == 1 ? nil : 1.0 / Double(remaining)
            let evenSplit = probability.map { abs($0 - (expected ?? 2)) < 1e-6 } ?? (expected == nil)
            if !evenSplit || rule.value("--mode").map({ $0 != "random" }) == true {
                warnings.append("rule \"\(rule.line)\": a weight that is not kube-proxy's even split; endpoints are taken in turn")
            }
            understood.insert(index)
        }
        for index in jumps where rules[index].words.contains("--rcheck") {
            ports[chain]?.affinity = true
            ports[chain]?.affinitySeconds = rules[index].value("--seconds")
            understood.insert(index)
        }
        for index in jumps {
            let endpoint = rules[index].target ?? ""
            for (sepIndex, rule) in rules.enumerated() where rule.chain == endpoint {
                if rule.target == "KUBE-MARK-MASQ" { understood.insert(sepIndex) }
                guard rule.target == "DNAT", let destination = rule.value("--to-destination") else { continue }
                let parts = destination.split(separator: ":").map(String.init)
                guard parts.count == 2 else { continue }
                if !(ports[chain]?.endpoints.contains(parts[0]) ?? true) { ports[chain]?.endpoints.append(parts[0]) }
                if let target = ports[chain]?.targetPort, target != parts[1] {
                    warnings.append("rule \"\(rule.line)\": endpoints of one port with different target ports; \(target) kept")
                }
                if ports[chain]?.targetPort == nil { ports[chain]?.targetPort = parts[1] }
                understood.insert(sepIndex)
            }
        }
        return understood
    }
}
