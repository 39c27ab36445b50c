import Wire

/// `pier get`: the running topology as a document that `applying` takes back unchanged.
extension Topology {
    /// The topology as YAML, every default written out: the whole of it with `node` first, or
    /// with `kind` just that section (`services:`, `nat: {portMappings}`, `overlay: {peers}`),
    /// without `node`. Loading the whole of it gives this topology again, and applying either
    /// to this topology changes nothing. Keys come in the order of the topology contract; small
    /// values are written in flow style (`{ip: 192.168.1.1, mac: ...}`).
    public func yaml(_ kind: ObjectKind? = nil) -> String {
        var text = ""
        TextTree.map(document(kind)).writeYAML(into: &text, indent: 0)
        return text
    }

    /// The same document as `yaml(_:)`, as JSON (which is YAML: `applying` takes it too).
    public func json(_ kind: ObjectKind? = nil) -> String {
        var text = ""
        TextTree.map(document(kind)).writeJSON(into: &text, indent: "")
        return text + "\n"
    }

    /// The document's top-level entries.
    private func document(_ kind: ObjectKind?) -> [(String, TextTree?)] {
        let list = { (items: [TextTree]) in TextTree.list(items) }
        switch kind {
        case nil:
            let nat = TextTree.map([("masquerade", nonEmpty(nat.masquerade.map(\.tree))),
                                    ("portMappings", nonEmpty(nat.portMappings.map(\.tree)))])
            return [("node", .text(node)), ("ports", list(ports.map(\.tree))), ("neighbors", nonEmpty(neighbors.map(\.tree))),
                    ("bridges", nonEmpty(bridges.map(\.tree))), ("nat", nat.isEmpty ? nil : nat),
                    ("services", nonEmpty(services.map(\.tree))), ("overlay", overlay?.tree),
                    ("conntrack", conntrack.tree), ("containers", nonEmpty(containers.map(\.tree)))]
        case .port?: return [("ports", list(ports.map(\.tree)))]
        case .container?: return [("containers", list(containers.map(\.tree)))]
        case .bridge?: return [("bridges", list(bridges.map(\.tree)))]
        case .neighbor?: return [("neighbors", list(neighbors.map(\.tree)))]
        case .service?: return [("services", list(services.map(\.tree)))]
        case .portmapping?: return [("nat", .map([("portMappings", list(nat.portMappings.map(\.tree)))]))]
        case .masquerade?: return [("nat", .map([("masquerade", list(nat.masquerade.map(\.tree)))]))]
        case .peer?: return [("overlay", overlay.map { _ in .map([("peers", list(overlayPeers.map(\.tree)))]) })]
        case .conntrack?: return [("conntrack", conntrack.tree)]
        case .overlay?: return [("overlay", overlay?.tree)]
        }
    }
}

/// A list, or nil when it is empty (an absent key).
private func nonEmpty(_ items: [TextTree]) -> TextTree? {
    items.isEmpty ? nil : .list(items)
}

/// `ip:` and `gateway:` values: one address as a scalar, several as a list, none as nil.
private func addressTree(_ texts: [String]) -> TextTree? {
    texts.count == 1 ? .text(texts[0]) : nonEmpty(texts.map(TextTree.text))
}

extension PortConfig {
    /// `{name, bridge, netns, tap, mac, ip, gateway}`.
    fileprivate var tree: TextTree {
        .map([("name", .text(name)), ("bridge", bridge.map(TextTree.text)), ("netns", netns.map(TextTree.text)),
              ("tap", tap.map(TextTree.text)), ("mac", mac.map { .text($0.description) }),
              ("ip", addressTree(addresses.map(\.description) + addresses6.map(\.description))),
              ("gateway", addressTree([gateway?.description, gateway6?.description].compactMap { $0 }))])
    }
}

extension NeighborConfig {
    /// `{ip, mac}`.
    fileprivate var tree: TextTree { .map([("ip", .text(ip.description)), ("mac", .text(mac.description))]) }
}

extension BridgeConfig {
    /// `{name, ports, ip, mac, hairpin, fdb, fdbStatic}`.
    fileprivate var tree: TextTree {
        .map([("name", .text(name)), ("ports", nonEmpty(ports.map(TextTree.text))),
              ("ip", addressTree(addresses.map(\.description) + addresses6.map(\.description))),
              ("mac", mac.map { .text($0.description) }), ("hairpin", .flag(hairpin)),
              ("fdb", .map([("capacity", .number(fdb.capacity)), ("ageing", .number(fdb.ageing))])),
              ("fdbStatic", nonEmpty(fdbStatic.map { .map([("mac", .text($0.mac.description)), ("port", .text($0.port))]) }))])
    }
}

extension MasqueradeRule {
    /// `{source, out}`.
    fileprivate var tree: TextTree { .map([("source", .text(source.description)), ("out", .text(out))]) }
}

extension PortMapping {
    /// `{proto, hostPort, to}`.
    fileprivate var tree: TextTree {
        .map([("proto", .text(proto.rawValue)), ("hostPort", .number(Int(hostPort))), ("to", .text(target))])
    }
}

extension ServiceConfig {
    /// `{name, namespace, clusterIP, ports, endpoints, sessionAffinity, sessionAffinityConfig,
    /// externalTrafficPolicy, internalTrafficPolicy, externalIPs, status}`; the policies only
    /// when not `Cluster`, an endpoint as a mapping only when it has details.
    fileprivate var tree: TextTree {
        let ports = ports.map { port in
            TextTree.map([("proto", .text(port.proto.rawValue)), ("port", .number(Int(port.port))),
                          ("targetPort", .number(Int(port.targetPort))), ("nodePort", port.nodePort.map { .number(Int($0)) })])
        }
        let stacked = isDualStack || ipFamilyPolicy != .singleStack
        let endpoints = endpoints.indices.map { endpointTree($0) } + endpoints6.map { TextTree.text($0.description) }
        let ingress = loadBalancerIngress.map { TextTree.map([("ip", .text($0.description))]) }
        return .map([("name", .text(name)), ("namespace", .text(namespace)), ("clusterIP", .text(clusterIPs[0].description)),
                     ("clusterIPs", stacked ? .list(clusterIPs.map { .text($0.description) }) : nil),
                     ("ipFamilies", stacked ? .list(ipFamilies.map { .text($0.rawValue) }) : nil),
                     ("ipFamilyPolicy", stacked ? .text(ipFamilyPolicy.rawValue) : nil),
                     ("ports", .list(ports)), ("endpoints", nonEmpty(endpoints)),
                     ("sessionAffinity", .text(sessionAffinity.rawValue)),
                     ("sessionAffinityConfig", affinityTimeout.map { .map([("clientIP", .map([("timeoutSeconds", .number($0))]))]) }),
                     ("externalTrafficPolicy", externalTrafficPolicy == .cluster ? nil : .text(externalTrafficPolicy.rawValue)),
                     ("internalTrafficPolicy", internalTrafficPolicy == .cluster ? nil : .text(internalTrafficPolicy.rawValue)),
                     ("externalIPs", nonEmpty(externalIPs.map { .text($0.description) })),
                     ("status", ingress.isEmpty ? nil : .map([("loadBalancer", .map([("ingress", .list(ingress))]))]))])
    }

    /// Endpoint `index`: its address, or `{addresses, conditions, nodeName}` with details.
    private func endpointTree(_ index: Int) -> TextTree {
        let details = details(ofEndpoint: index)
        guard !details.isEmpty else { return .text(endpoints[index].description) }
        let conditions: [(String, TextTree?)] = [("ready", details.ready.map(TextTree.flag)), ("serving", details.serving.map(TextTree.flag)),
                                                 ("terminating", details.terminating.map(TextTree.flag))]
        let anyCondition = conditions.contains { $0.1 != nil }
        return .map([("addresses", .list([.text(endpoints[index].description)])),
                     ("conditions", anyCondition ? .map(conditions) : nil), ("nodeName", details.nodeName.map(TextTree.text))])
    }
}

extension OverlayConfig {
    /// `{backend, vni, port, mtu, podCIDR, vtepMAC, peers, sourcePorts}`.
    fileprivate var tree: TextTree {
        .map([("backend", .text(backend.rawValue)), ("vni", .number(Int(vni))), ("port", port.map { .number(Int($0)) }),
              ("mtu", .number(mtu)), ("podCIDR", .text(podCIDR.description)), ("vtepMAC", vtepMAC.map { .text($0.description) }),
              ("peers", nonEmpty(peers.map(\.tree))),
              ("sourcePorts", .map([("min", .number(Int(sourcePorts.lowerBound))), ("max", .number(Int(sourcePorts.upperBound)))])),
              ("etcd", etcd.map { .map([("endpoints", .list($0.endpoints.map(TextTree.text))), ("prefix", .text($0.prefix))]) })])
    }
}

extension OverlayPeer {
    /// `{node, ip, podCIDR, vtepMAC, lease}`: `lease: {id, key}` for a peer learned from etcd.
    fileprivate var tree: TextTree {
        .map([("node", .text(node)), ("ip", .text(ip.description)), ("podCIDR", .text(podCIDR.description)),
              ("vtepMAC", vtepMAC.map { .text($0.description) }),
              ("lease", lease.map { .map([("id", .text($0.leaseText)), ("key", .text($0.key))]) })])
    }
}

extension ConntrackConfig {
    /// `{capacity, timeouts, invalid}`.
    fileprivate var tree: TextTree {
        let timeouts = Timeout.allCases.compactMap { timeout in self.timeouts[timeout].map { (timeout.rawValue, TextTree.number($0)) } }
        return .map([("capacity", .number(capacity)), ("timeouts", timeouts.isEmpty ? nil : .map(timeouts)),
                     ("invalid", .text(invalid.rawValue))])
    }
}

extension ContainerConfig {
    /// `{name, port, ip, mode}`.
    fileprivate var tree: TextTree {
        .map([("name", .text(name)), ("port", port.map(TextTree.text)),
              ("ip", addressTree(addresses.map(\.description) + addresses6.map(\.description))), ("mode", .text(mode.description))])
    }
}

/// A document to write as YAML or JSON: scalars, lists and mappings with ordered keys.
private indirect enum TextTree {
    /// A string.
    case text(String)
    /// A whole number.
    case number(Int)
    /// `true` or `false`.
    case flag(Bool)
    /// A list.
    case list([TextTree])
    /// A mapping whose keys keep their order.
    case entries([(String, TextTree)])

    /// A mapping of the entries that have a value.
    static func map(_ entries: [(String, TextTree?)]) -> TextTree {
        .entries(entries.compactMap { key, value in value.map { (key, $0) } })
    }

    /// True for an empty mapping or list.
    var isEmpty: Bool {
        switch self {
        case .list(let items): items.isEmpty
        case .entries(let entries): entries.isEmpty
        case .text, .number, .flag: false
        }
    }

    /// The value in flow style, on one line: `{ip: 10.0.0.1, mac: ...}`, `[c1, c2]`, `web`.
    var flow: String {
        switch self {
        case .text(let text): Self.yamlScalar(text)
        case .number(let number): "\(number)"
        case .flag(let flag): "\(flag)"
        case .list(let items): "[" + items.map(\.flow).joined(separator: ", ") + "]"
        case .entries(let entries): "{" + entries.map { "\($0): \($1.flow)" }.joined(separator: ", ") + "}"
        }
    }

    /// Writes the value as the block-style YAML of a mapping entry or list item's content at
    /// `indent` spaces: nested values go on lines of their own unless they fit on one short line.
    func writeYAML(into text: inout String, indent: Int) {
        let pad = String(repeating: " ", count: indent)
        switch self {
        case .entries(let entries) where entries.isEmpty:
            text += pad + "{}\n"
        case .entries(let entries):
            for (key, value) in entries {
                text += pad + key + ":"
                value.writeNested(into: &text, indent: indent, width: key.count + 2)
            }
        case .list(let items):
            for item in items {
                text += pad + "-"
                item.writeNested(into: &text, indent: indent, width: 2)
            }
        case .text, .number, .flag:
            text += pad + flow + "\n"
        }
    }

    /// After `key:` or `-`: ` value` on the same line if it fits, else the value below, indented.
    private func writeNested(into text: inout String, indent: Int, width: Int) {
        let flow = self.flow
        if indent + width + flow.count <= 100 || !isCollection || isEmpty {
            text += " " + flow + "\n"
        } else if case .entries = self, width == 2 {
            // A list item that is a mapping: its first key after the dash, the rest under it.
            var nested = ""
            writeYAML(into: &nested, indent: indent + 2)
            text += " " + nested.dropFirst(indent + 2)
        } else {
            text += "\n"
            writeYAML(into: &text, indent: indent + 2)
        }
    }

    /// True for a list or mapping.
    private var isCollection: Bool {
        switch self {
        case .list, .entries: true
        case .text, .number, .flag: false
        }
    }

    /// Writes the value as JSON, indented by two spaces a level; lists of scalars on one line.
    func writeJSON(into text: inout String, indent: String) {
        let inner = indent + "  "
        switch self {
        case .text(let string): text += quoted(string)
        case .number, .flag: text += flow
        case .list(let items) where items.contains(where: \.isCollection):
            text += "[\n"
            for (index, item) in items.enumerated() {
                text += inner
                item.writeJSON(into: &text, indent: inner)
                text += index == items.count - 1 ? "\n" : ",\n"
            }
            text += indent + "]"
        case .list(let items):
            text += "[" + items.map { item in var one = ""; item.writeJSON(into: &one, indent: inner); return one }.joined(separator: ", ") + "]"
        case .entries(let entries):
            guard !entries.isEmpty else { text += "{}"; return }
            text += "{\n"
            for (index, (key, value)) in entries.enumerated() {
                text += inner + quoted(key) + ": "
                value.writeJSON(into: &text, indent: inner)
                text += index == entries.count - 1 ? "\n" : ",\n"
            }
            text += indent + "}"
        }
    }

    /// A YAML scalar: plain when it is a simple word (letters, digits, `_ . / : -`, not
    /// starting with `-` or `:` or ending with `:`, not a null), else double-quoted.
    private static func yamlScalar(_ text: String) -> String {
        let simple = !text.isEmpty && text.unicodeScalars.allSatisfy { scalar in
            scalar.isASCII && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || "_./:-".unicodeScalars.contains(scalar))
        }
        let nulls: Set<String> = ["~", "null", "Null", "NULL"]
        return simple && !text.hasPrefix("-") && !text.hasPrefix(":") && !text.hasSuffix(":") && !nulls.contains(text) ? text : quoted(text)
    }
}
