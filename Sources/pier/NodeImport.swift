import Foundation

/// What `pier import` reads from a Linux node, as the tools print it, and the topology it
/// makes of that: the node's own interfaces as ports (`eth0`, the veths), its bridges with
/// their ports and addresses, the uplink's gateway, its neighbours, and the nat table's
/// Docker rules (MASQUERADE of a bridge's subnet, `DOCKER` chain DNATs as published ports).
///
/// Whatever the topology cannot say is a warning quoting the object or rule, never dropped
/// silently. Not yet read: VXLAN devices (→ `overlay`), kube-proxy's chains (→ `services`)
/// and IPv6 nat: each is a warning naming what was skipped.
struct NodeImport {
    /// What `ip -j -d link show`, `ip -j addr show`, `ip -j route show` and
    /// `ip -j neigh show` printed.
    var links: String, addresses: String, routes: String, neighbors: String
    /// What `iptables-save -t nat` printed.
    var natTable: String
    /// The node's name in the topology.
    var node: String

    /// The topology as YAML, and the warnings.
    func topology() throws -> (yaml: String, warnings: [String]) {
        var warnings: [String] = []
        let links = try Self.objects(self.links, "ip -j -d link")
        let addresses = try Self.objects(self.addresses, "ip -j addr")
        let routes = try Self.objects(self.routes, "ip -j route")
        let neighbors = try Self.objects(self.neighbors, "ip -j neigh")

        var ipv4: [String: [String]] = [:]
        for entry in addresses {
            guard let name = entry["ifname"] as? String else { continue }
            for address in entry["addr_info"] as? [[String: Any]] ?? [] where address["family"] as? String == "inet" {
                if let local = address["local"] as? String, let length = address["prefixlen"] as? Int {
                    ipv4[name, default: []].append("\(local)/\(length)")
                }
            }
        }
        let kind = { (link: [String: Any]) in (link["linkinfo"] as? [String: Any])?["info_kind"] as? String }
        let bridges = links.filter { kind($0) == "bridge" }.compactMap { $0["ifname"] as? String }
        var ports: [[String: Any]] = []
        for link in links {
            guard let name = link["ifname"] as? String else { continue }
            switch (link["link_type"] as? String, kind(link)) {
            case ("loopback", _), (_, "bridge"): continue
            case ("ether", nil), ("ether", "veth"), ("ether", "dummy"), ("ether", "macvlan"):
                ports.append(link)
            default:
                warnings.append("link \(name) (\(kind(link) ?? link["link_type"] as? String ?? "?")): not a port Pier models, left out")
            }
        }
        let defaultRoutes = routes.filter { $0["dst"] as? String == "default" }
        for route in routes where route["dst"] as? String != "default" && route["gateway"] != nil {
            warnings.append("route \(Self.describe(route)): only the uplink's default gateway is expressed")
        }

        var yaml = ["node: \(node)", "ports:"]
        var portNames: Set<String> = []
        for link in ports {
            let name = link["ifname"] as? String ?? ""
            portNames.insert(name)
            var fields = ["name: \(name)"]
            if link["master"] == nil {
                // A bridge's member is a port of the bridge: its own MAC and addresses play no part.
                if let mac = link["address"] as? String { fields.append("mac: \"\(mac)\"") }
                let addresses = ipv4[name] ?? []
                if let first = addresses.first { fields.append("ip: \(first)") }
                for extra in addresses.dropFirst() { warnings.append("address \(extra) on \(name): a port has one address, \(addresses[0]) kept") }
                if let route = defaultRoutes.first(where: { $0["dev"] as? String == name }), let gateway = route["gateway"] as? String {
                    fields.append("gateway: \(gateway)")
                }
            } else if let master = link["master"] as? String, !bridges.contains(master) {
                warnings.append("link \(name) is enslaved to \(master), which is no bridge")
            }
            yaml.append("  - {\(fields.joined(separator: ", "))}")
        }
        var neighborLines: [String] = []
        for entry in neighbors {
            guard let ip = entry["dst"] as? String, let mac = entry["lladdr"] as? String, !ip.contains(":") else { continue }
            let state = entry["state"] as? [String] ?? []
            guard !state.contains("FAILED"), !state.contains("INCOMPLETE") else { continue }
            neighborLines.append("  - {ip: \(ip), mac: \"\(mac)\"}")
        }
        if !neighborLines.isEmpty { yaml += ["neighbors:"] + neighborLines }
        var bridgeLines: [String] = []
        for link in links where kind(link) == "bridge" {
            let name = link["ifname"] as? String ?? ""
            let members = ports.filter { $0["master"] as? String == name }.compactMap { $0["ifname"] as? String }
            var fields = ["name: \(name)", "ports: [\(members.joined(separator: ", "))]"]
            if let first = ipv4[name]?.first { fields.append("ip: \(first)") }
            if let mac = link["address"] as? String { fields.append("mac: \"\(mac)\"") }
            bridgeLines.append("  - {\(fields.joined(separator: ", "))}")
        }
        if !bridgeLines.isEmpty { yaml += ["bridges:"] + bridgeLines }
        let uplink = defaultRoutes.first?["dev"] as? String
        let nat = NATRules(natTable, uplink: uplink, bridges: Set(bridges))
        warnings += nat.warnings
        if !nat.masquerade.isEmpty || !nat.portMappings.isEmpty {
            yaml.append("nat:")
            if !nat.masquerade.isEmpty { yaml += ["  masquerade:"] + nat.masquerade.map { "    - \($0)" } }
            if !nat.portMappings.isEmpty { yaml += ["  portMappings:"] + nat.portMappings.map { "    - \($0)" } }
        }
        return (yaml.joined(separator: "\n") + "\n", warnings)
    }

    /// The JSON array of objects a tool printed (`what` names it in an error).
    static func objects(_ text: String, _ what: String) throws -> [[String: Any]] {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.isEmpty { return [] }
        guard let array = try? JSONSerialization.jsonObject(with: Data(trimmed.utf8)) as? [[String: Any]] else {
            throw InputError(message: "\(what) printed something that is not a JSON array: \(trimmed.prefix(80))")
        }
        return array
    }

    /// A route as `ip route` would print it.
    static func describe(_ route: [String: Any]) -> String {
        ["dst", "gateway", "dev"].compactMap { key in (route[key] as? String).map { key == "dst" ? $0 : "\(key == "gateway" ? "via" : key) \($0)" } }
            .joined(separator: " ")
    }
}

/// The nat table's rules Pier can express: Docker's MASQUERADE of a bridge subnet and its
/// `DOCKER` chain's DNATs. Docker's plumbing rules (the jumps to `DOCKER`, its `RETURN`s,
/// the per-mapping hairpin MASQUERADE) say nothing more and are taken silently; any other
/// rule is a warning quoting it.
struct NATRules {
    private(set) var masquerade: [String] = []
    private(set) var portMappings: [String] = []
    private(set) var warnings: [String] = []

    init(_ table: String, uplink: String?, bridges: Set<String>) {
        for line in table.split(separator: "\n").map(String.init) where line.hasPrefix("-A ") {
            let words = line.split(separator: " ").map(String.init)
            let value = { (option: String) -> String? in
                words.firstIndex(of: option).flatMap { $0 + 1 < words.count ? words[$0 + 1] : nil }
            }
            let chain = words[1], target = value("-j")
            let negatedOut = words.firstIndex(of: "!").map { words.indices.contains($0 + 1) && words[$0 + 1] == "-o" } ?? false
            switch (chain, target) {
            case ("POSTROUTING", "MASQUERADE") where negatedOut && value("-s") != nil && bridges.contains(value("-o") ?? ""):
                guard let uplink else {
                    warnings.append("rule \"\(line)\": no default route names the uplink to masquerade out of")
                    continue
                }
                masquerade.append("{source: \(value("-s")!), out: \(uplink)}")
            case ("POSTROUTING", "MASQUERADE") where value("-s").map { $0.hasSuffix("/32") } == true && value("-s") == value("-d"):
                continue  // Docker's hairpin for a published port: Pier masquerades hairpin itself
            case ("PREROUTING", "DOCKER"), ("OUTPUT", "DOCKER"), ("DOCKER", "RETURN"):
                continue  // Docker's jumps to its chain and the bridge's own RETURN
            case ("DOCKER", "DNAT"):
                guard let proto = value("-p"), let port = value("--dport"), let to = value("--to-destination") else {
                    warnings.append("rule \"\(line)\": a DNAT without protocol, port and destination")
                    continue
                }
                portMappings.append("{proto: \(proto), hostPort: \(port), to: \(to)}")
            default:
                warnings.append("rule \"\(line)\": not expressed")
            }
        }
        for line in table.split(separator: "\n") where line.hasPrefix(":") {
            let chain = line.dropFirst().split(separator: " ").first.map(String.init) ?? ""
            if !["PREROUTING", "INPUT", "OUTPUT", "POSTROUTING", "DOCKER"].contains(chain) {
                warnings.append("chain \(chain): not expressed (kube-proxy's and other chains are not imported yet)")
            }
        }
    }
}
