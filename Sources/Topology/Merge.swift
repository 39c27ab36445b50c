/// The lists of named objects in a topology, and one way to merge each: by name.

/// One list of named objects in a topology: where it is in the model and in a file, and what
/// each object is called. Two objects with one key (one name) are the same object; the key is
/// the name without building a string, for merging 10,000 Services quickly.
struct Section<Element: Equatable, Key: Hashable> {
    /// What `pier delete` and `pier get` call these objects.
    let kind: ObjectKind
    /// The list's key path in a file: `ports`, `nat.masquerade`.
    let path: String
    /// The list in the model.
    let list: WritableKeyPath<Topology, [Element]>
    /// An object's key.
    let key: (Element) -> Key
    /// An object's name, as `ObjectKind.canonicalName` spells it.
    let name: (Element) -> String
}

extension Section where Key == String {
    /// A list whose objects' key is their name.
    init(kind: ObjectKind, path: String, list: WritableKeyPath<Topology, [Element]>, name: @escaping (Element) -> String) {
        self.init(kind: kind, path: path, list: list, key: name, name: name)
    }
}

/// A Service's key: its namespace and name.
struct ServiceKey: Hashable {
    /// The namespace.
    let namespace: String
    /// The name.
    let name: String
}

/// A port mapping's or node port's key: a protocol and a port.
struct ProtocolPort: Hashable, CustomStringConvertible {
    /// `tcp` or `udp`.
    let proto: TransportProtocol
    /// The port.
    let port: UInt16

    /// `tcp/8080`.
    var description: String { "\(proto)/\(port)" }
}

/// Something done to every list of a topology, one `Section` at a time.
protocol SectionVisitor {
    /// Does it to one list.
    mutating func visit<Element: Equatable, Key: Hashable>(_ section: Section<Element, Key>)
}

extension Topology {
    /// Visits every list of named objects, in file order.
    static func visitSections(_ visitor: inout some SectionVisitor) {
        visitor.visit(Section(kind: .port, path: "ports", list: \.ports, name: \.name))
        visitor.visit(Section(kind: .neighbor, path: "neighbors", list: \.neighbors, key: \.ip, name: \.ip.description))
        visitor.visit(Section(kind: .bridge, path: "bridges", list: \.bridges, name: \.name))
        visitor.visit(Section(kind: .masquerade, path: "nat.masquerade", list: \.nat.masquerade, key: \.source, name: \.source.description))
        visitor.visit(Section(kind: .portmapping, path: "nat.portMappings", list: \.nat.portMappings, name: \.name))
        visitor.visit(Section(kind: .service, path: "services", list: \.services,
                              key: { ServiceKey(namespace: $0.namespace, name: $0.name) }, name: { "\($0.namespace)/\($0.name)" }))
        visitor.visit(Section(kind: .peer, path: "overlay.peers", list: \.overlayPeers, name: \.node))
        visitor.visit(Section(kind: .container, path: "containers", list: \.containers, name: \.name))
    }

    /// The overlay's peers; none without an overlay, where setting them does nothing.
    var overlayPeers: [OverlayPeer] {
        get { overlay?.peers ?? [] }
        set { overlay?.peers = newValue }
    }
}

/// A running topology being changed: the result so far, where each of its list elements came
/// from (for errors that point into the document that asked for the change), and the changes.
struct Merge {
    /// The topology so far.
    private(set) var result: Topology
    /// The origin of each element of each list touched so far, by the list's path.
    private var origins: [String: [SourceMap.Origin]] = [:]
    /// The objects added, replaced and removed so far, in the order done.
    private(set) var changes: [TopologyChange] = []

    /// Starts from the running topology.
    init(_ running: Topology) {
        result = running
    }

    /// Adds each element of `elements` that has a new key and replaces the one with its key
    /// otherwise (a change only when it differs). `written` is the element's index in the
    /// document. A second element with one key is added, so that validation reports the
    /// duplicate where it was written.
    mutating func upsert<Element, Key>(_ section: Section<Element, Key>, _ elements: [(written: Int, element: Element)]) {
        guard !elements.isEmpty else { return }
        var origin = origins(of: section)
        var replaced = Set<Int>()
        // A few objects are found by a scan; many through an index of the running ones.
        let count = result[keyPath: section.list].count
        let positions = elements.count < 8 ? nil : Dictionary(
            result[keyPath: section.list].enumerated().map { (section.key($1), $0) }, uniquingKeysWith: { first, _ in first })
        for (written, element) in elements {
            let key = section.key(element)
            let found = positions.map { $0[key] } ?? result[keyPath: section.list][..<count].firstIndex { section.key($0) == key }
            if let index = found, replaced.insert(index).inserted {
                origin[index] = .written(written)
                if result[keyPath: section.list][index] != element {
                    result[keyPath: section.list][index] = element
                    changes.append(TopologyChange(.replaced, section.kind, section.name(element)))
                }
            } else {
                result[keyPath: section.list].append(element)
                origin.append(.written(written))
                changes.append(TopologyChange(.added, section.kind, section.name(element)))
            }
        }
        origins[section.path] = origin
    }

    /// Removes the elements whose key is in `keys`; returns the keys that none has. Removing a
    /// port also takes it out of the bridges' member lists and permanent FDB entries, as
    /// deleting a Linux bridge port does (see `Topology.deleting`).
    @discardableResult
    mutating func remove<Element, Key>(_ section: Section<Element, Key>, keys: Set<Key>) -> Set<Key> {
        guard !keys.isEmpty else { return [] }
        var missing = keys
        var list: [Element] = [], origin: [SourceMap.Origin] = [], removed: [String] = []
        for (element, from) in zip(result[keyPath: section.list], origins(of: section)) {
            let key = section.key(element)
            if missing.remove(key) != nil || keys.contains(key) {
                removed.append(section.name(element))
                changes.append(TopologyChange(.removed, section.kind, section.name(element)))
            } else {
                list.append(element)
                origin.append(from)
            }
        }
        result[keyPath: section.list] = list
        origins[section.path] = origin
        if section.kind == .port { detachPorts(Set(removed)) }
        return missing
    }

    /// Sets the overlay's settings from `overlay` (its peers are left as they are; nil removes
    /// the overlay and its peers).
    mutating func setOverlaySettings(_ overlay: OverlayConfig?) {
        guard var overlay else {
            guard let old = result.overlay else { return }
            changes += old.peers.map { TopologyChange(.removed, .peer, $0.node) } + [TopologyChange(.removed, .overlay)]
            result.overlay = nil
            origins["overlay.peers"] = []
            return
        }
        overlay.peers = result.overlayPeers
        if result.overlay != overlay {
            changes.append(TopologyChange(result.overlay == nil ? .added : .replaced, .overlay))
            result.overlay = overlay
        }
    }

    /// Sets the conntrack settings.
    mutating func setConntrack(_ conntrack: ConntrackConfig) {
        guard result.conntrack != conntrack else { return }
        changes.append(TopologyChange(.replaced, .conntrack))
        result.conntrack = conntrack
    }

    /// The result if it passes every check, with the changes; else the first problem, placed
    /// in the document `source` describes (or at the running topology).
    func validated(source: SourceMap, file: String) throws(ConfigError) -> (topology: Topology, changes: [TopologyChange]) {
        var source = source
        source.origins = origins
        source.isMerged = true
        switch Topology.validated(result, source: source, file: file) {
        case .success(let topology): return (topology, changes)
        case .failure(let problems): throw problems.first
        }
    }

    /// The origins of `section`'s elements so far: the running topology's, untouched.
    private func origins<Element, Key>(of section: Section<Element, Key>) -> [SourceMap.Origin] {
        origins[section.path] ?? result[keyPath: section.list].indices.map { .running($0) }
    }

    /// Takes the ports named `names` out of every bridge's member list and permanent entries.
    private mutating func detachPorts(_ names: Set<String>) {
        guard !names.isEmpty else { return }
        for index in result.bridges.indices {
            var bridge = result.bridges[index]
            bridge.ports.removeAll { names.contains($0) }
            bridge.fdbStatic.removeAll { names.contains($0.port) }
            if bridge != result.bridges[index] {
                changes.append(TopologyChange(.replaced, .bridge, bridge.name))
                result.bridges[index] = bridge
            }
        }
    }
}
