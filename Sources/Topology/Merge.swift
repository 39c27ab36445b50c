/// The lists of named objects in a topology, and one way to merge each: by name.

/// One list of named objects in a topology: where it is in the model and in a file, and what
/// each object is called (its key: two objects with one name are the same object).
struct Section<Element: Equatable> {
    /// What `pier delete` and `pier get` call these objects.
    let kind: ObjectKind
    /// The list's key path in a file: `ports`, `nat.masquerade`.
    let path: String
    /// The list in the model.
    let list: WritableKeyPath<Topology, [Element]>
    /// An object's name, as `ObjectKind.canonicalName` spells it.
    let name: (Element) -> String
}

/// Something done to every list of a topology, one `Section` at a time.
protocol SectionVisitor {
    /// Does it to one list.
    mutating func visit<Element: Equatable>(_ section: Section<Element>)
}

extension Topology {
    /// Visits every list of named objects, in file order.
    static func visitSections(_ visitor: inout some SectionVisitor) {
        visitor.visit(Section(kind: .port, path: "ports", list: \.ports, name: \.name))
        visitor.visit(Section(kind: .neighbor, path: "neighbors", list: \.neighbors, name: \.ip.description))
        visitor.visit(Section(kind: .bridge, path: "bridges", list: \.bridges, name: \.name))
        visitor.visit(Section(kind: .masquerade, path: "nat.masquerade", list: \.nat.masquerade, name: \.source.description))
        visitor.visit(Section(kind: .portmapping, path: "nat.portMappings", list: \.nat.portMappings) { "\($0.proto)/\($0.hostPort)" })
        visitor.visit(Section(kind: .service, path: "services", list: \.services) { "\($0.namespace)/\($0.name)" })
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

    /// Adds each element of `elements` that has a new name and replaces the one with its name
    /// otherwise (a change only when it differs). `written` is the element's index in the
    /// document. A second element with one name is added, so that validation reports the
    /// duplicate where it was written.
    mutating func upsert<Element>(_ section: Section<Element>, _ elements: [(written: Int, element: Element)]) {
        guard !elements.isEmpty else { return }
        var list = result[keyPath: section.list]
        var origin = origins(of: section)
        var positions = Dictionary(list.enumerated().map { (section.name($1), $0) }, uniquingKeysWith: { first, _ in first })
        for (written, element) in elements {
            let name = section.name(element)
            if let index = positions.removeValue(forKey: name) {
                origin[index] = .written(written)
                if list[index] != element {
                    list[index] = element
                    changes.append(TopologyChange(.replaced, section.kind, name))
                }
            } else {
                list.append(element)
                origin.append(.written(written))
                changes.append(TopologyChange(.added, section.kind, name))
            }
        }
        result[keyPath: section.list] = list
        origins[section.path] = origin
    }

    /// Removes the elements named in `names`; returns the names that none has. Removing a port
    /// also takes it out of the bridges' member lists and permanent FDB entries, as deleting a
    /// Linux bridge port does (see `Topology.deleting`).
    @discardableResult
    mutating func remove<Element>(_ section: Section<Element>, names: Set<String>) -> Set<String> {
        guard !names.isEmpty else { return [] }
        var missing = names
        var list: [Element] = [], origin: [SourceMap.Origin] = []
        for (element, from) in zip(result[keyPath: section.list], origins(of: section)) {
            let name = section.name(element)
            if missing.remove(name) != nil || names.contains(name) {
                changes.append(TopologyChange(.removed, section.kind, name))
            } else {
                list.append(element)
                origin.append(from)
            }
        }
        result[keyPath: section.list] = list
        origins[section.path] = origin
        if section.kind == .port { detachPorts(names.subtracting(missing)) }
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
    private func origins<Element>(of section: Section<Element>) -> [SourceMap.Origin] {
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
