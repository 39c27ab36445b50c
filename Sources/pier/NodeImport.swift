import Foundation
import Wire

/// What `pier import` reads from a Linux node, as the tools print it, and the topology it
/// makes of that: the node's own interfaces as ports (`eth0`, the veths), its bridges with
/// their ports and addresses, the uplink's gateway, its neighbours, and the nat table's
/// Docker rules (MASQUERADE of a bridge's subnet, `DOCKER` chain DNATs as published ports).
///
/// Whatever the topology cannot say is a warning quoting the object or rule, never dropped
/// silently. A VXLAN device becomes `overlay`, its peers taken from its routes (`via G dev
/// flannel.1 onlink`), neighbours (G's MAC) and FDB (that MAC's node address), as flannel
/// writes them; kube-proxy's chains become `services` (see `NATRules`). Not read: routes
/// other than the default and the overlay's, IPv6 nat, a second VXLAN device.
struct NodeImport {
    /// What `ip -j -d link show`, `ip -j addr show`, `ip -j route show` and
    /// `ip -j neigh show` printed.
    var links: String, addresses: String, routes: String, neighbors: String
    /// What `bridge -j fdb show` printed.
    var fdb: String
    /// What `iptables-save -t nat` and `ip6tables-save -t nat` printed.
    var natTable: String, nat6Table: String
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
            case ("loopback", _), (_, "bridge"), (_, "vxlan"): continue
            case ("ether", nil), ("ether", "veth"), ("ether", "dummy"), ("ether", "macvlan"):
                ports.append(link)
            default:
                warnings.append("link \(name) (\(kind(link) ?? link["link_type"] as? String ?? "?")): not a port Pier models, left out")
            }
        }
        let defaultRoutes = routes.filter { $0["dst"] as? String == "default" }
        let overlay = Self.overlay(links.filter { kind($0) == "vxlan" }, bridges: links.filter { kind($0) == "bridge" },
                                   ipv4: ipv4, routes: routes, neighbors: neighbors, fdb: try Self.objects(fdb, "bridge -j fdb"))
        warnings += overlay.warnings
        let overlayDevice = links.first { kind($0) == "vxlan" }?["ifname"] as? String
        for route in routes where route["dst"] as? String != "default" && route["gateway"] != nil
            && (overlayDevice == nil || route["dev"] as? String != overlayDevice) {
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
        for entry in neighbors where overlayDevice == nil || entry["dev"] as? String != overlayDevice {
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
        for line in nat6Table.split(separator: "\n") where line.hasPrefix("-A ") {
            warnings.append("rule \"\(line)\" (ip6tables): IPv6 nat is not imported")
        }
        if !nat.masquerade.isEmpty || !nat.portMappings.isEmpty {
            yaml.append("nat:")
            if !nat.masquerade.isEmpty { yaml += ["  masquerade:"] + nat.masquerade.map { "    - \($0)" } }
            if !nat.portMappings.isEmpty { yaml += ["  portMappings:"] + nat.portMappings.map { "    - \($0)" } }
        }
        if !nat.services.isEmpty { yaml += ["services:"] + nat.services }
        yaml += overlay.lines
        return (yaml.joined(separator: "\n") + "\n", warnings)
    }

    /// The first VXLAN device as `overlay:` lines (none without one), and the warnings.
    static func overlay(_ devices: [[String: Any]], bridges: [[String: Any]], ipv4: [String: [String]], routes: [[String: Any]],
                        neighbors: [[String: Any]], fdb: [[String: Any]]) -> (lines: [String], warnings: [String]) {
        guard let device = devices.first, let name = device["ifname"] as? String else { return ([], []) }
        var warnings = devices.dropFirst().map { "link \($0["ifname"] as? String ?? "?") (vxlan): only one overlay device is expressed, \(name) kept" }
        let data = (device["linkinfo"] as? [String: Any])?["info_data"] as? [String: Any] ?? [:]
        // This node's pod subnet: the bridge subnet holding the VXLAN device's address (flannel's cni0).
        let own = ipv4[name]?.first.flatMap { IPv4Prefix($0) }?.address
        let podCIDR = bridges.lazy.compactMap { bridge in
            (ipv4[bridge["ifname"] as? String ?? ""] ?? []).compactMap { IPv4Prefix($0) }.first { prefix in
                own.map { prefix.canonical == IPv4Prefix(address: $0, length: prefix.length).canonical } ?? false
            }
        }.first
        guard let podCIDR else {
            return ([], warnings + ["link \(name) (vxlan): no bridge subnet holds its address, so this node's podCIDR is unknown; overlay left out"])
        }
        let macs = Dictionary(neighbors.filter { $0["dev"] as? String == name }.compactMap { entry in
            (entry["dst"] as? String).flatMap { ip in (entry["lladdr"] as? String).map { (ip, $0) } }
        }, uniquingKeysWith: { first, _ in first })
        let nodes = Dictionary(fdb.filter { $0["ifname"] as? String == name }.compactMap { entry in
            (entry["mac"] as? String).flatMap { mac in (entry["dst"] as? String).map { (mac, $0) } }
        }, uniquingKeysWith: { first, _ in first })
        var lines = ["overlay:", "  backend: vxlan", "  vni: \(data["id"] as? Int ?? 1)", "  port: \(data["port"] as? Int ?? 8472)",
                     "  mtu: \(device["mtu"] as? Int ?? 1450)", "  podCIDR: \(podCIDR.canonical)"]
        if let mac = device["address"] as? String { lines.append("  vtepMAC: \"\(mac)\"") }
        var peers: [String] = []
        for route in routes where route["dev"] as? String == name {
            guard let prefix = route["dst"] as? String, let gateway = route["gateway"] as? String,
                  let mac = macs[gateway], let node = nodes[mac] else {
                warnings.append("route \(describe(route)): no neighbour and FDB entry name its peer node, left out")
                continue
            }
            peers.append("    - {node: node-\(node.replacingOccurrences(of: ".", with: "-")), ip: \(node), podCIDR: \(prefix), vtepMAC: \"\(mac)\"}")
        }
        if !peers.isEmpty { lines += ["  peers:"] + peers }
        return (lines, warnings)
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
