import Wire

/// Changing a running topology: `pier apply`, `pier delete` and SIGHUP's reload (issue 12).
///
/// Each returns the topology that would result and the objects it adds, replaces and removes,
/// or throws the first problem and changes nothing (a `Topology` is a value: the caller keeps
/// running the old one). The result is checked whole, with the checks and messages of loading
/// a file; a problem points into the document that asked for the change, and a running
/// object it involves reads as `services[3].clusterIP (running)`, without a line.
extension Topology {
    /// `pier apply FILE`: `yaml` is a topology fragment, with the keys of a topology file, every
    /// one optional (`node`, if present, must be this node's name). Every named object in it is
    /// added, or replaces the one of its kind with its name: ports, containers and bridges by
    /// `name`, neighbors by `ip`, Services by `namespace`/`name`, port mappings by `proto` and
    /// `hostPort`, MASQUERADE rules by `source`, overlay peers by `node`. `conntrack:` and
    /// `overlay:` change the settings they give and keep the others (conntrack timeouts one by
    /// one; overlay peers are merged by node; a backend changed without a `port` takes the
    /// new backend's default port). An object equal to the running one is no change, so
    /// applying `yaml()` changes nothing. A port added keeps its place after the running ones
    /// (port numbers do not move); one replaced keeps its place.
    ///
    /// - Parameters:
    ///   - yaml: the fragment, YAML or JSON; an empty document changes nothing.
    ///   - file: the name errors carry.
    public func applying(yaml: String, file: String) throws(ConfigError) -> (topology: Topology, changes: [TopologyChange]) {
        let (fragment, source) = try Self.read(yaml: yaml, file: file, base: self).mapError(\.first).get()
        if !fragment.node.isEmpty, fragment.node != node {
            throw ConfigError(file: file, line: source.place("node").line, path: "node",
                              problem: "this switch is node \(quoted(node)), got \(quoted(fragment.node)); expected node: \(node), or no node key")
        }
        var merge = Merge(self)
        if let overlay = fragment.overlay { merge.setOverlaySettings(overlay) }
        merge.setConntrack(fragment.conntrack)
        var upserting = Upserting(merge: merge, from: fragment, changed: nil)
        Self.visitSections(&upserting)
        return try upserting.merge.validated(source: source, file: file)
    }

    /// `pier delete KIND NAME`: removes one object, named as `TopologyChange` names it (`port c3`,
    /// `service default/web` or `service web`, `portmapping tcp/8080` or `portmapping 8080`,
    /// `masquerade 172.17.0.0/16`, `neighbor 192.168.1.1`, `peer node-b`), or the whole
    /// overlay (`overlay`, any name). Errors carry the file name `delete`.
    ///
    /// Deleting a port also takes it out of its bridge's `ports:` and drops the bridge's
    /// permanent FDB entries on it (a change to the bridge too), as removing a port from a
    /// Linux bridge does. Anything else that still refers to what is deleted (a container's
    /// `port`, a MASQUERADE rule's `out`, a port's `bridge:`, a `container:NAME`) is an error
    /// that names it: delete or change that first. Deleting what is not there is an error, and
    /// so is deleting `conntrack` (apply `conntrack:` settings instead).
    public func deleting(_ kind: ObjectKind, name: String) throws(ConfigError) -> (topology: Topology, changes: [TopologyChange]) {
        let file = "delete"
        var merge = Merge(self)
        switch kind {
        case .conntrack:
            throw ConfigError(file: file, line: 0, path: "conntrack",
                              problem: "the conntrack settings cannot be deleted; expected pier apply with conntrack: {...} to change them")
        case .overlay:
            guard overlay != nil else {
                throw ConfigError(file: file, line: 0, path: "overlay", problem: "there is no overlay to delete")
            }
            merge.setOverlaySettings(nil)
        default:
            var deleting = Deleting(merge: merge, kind: kind, name: kind.canonicalName(name))
            Self.visitSections(&deleting)
            if let missing = deleting.missing { throw ConfigError(file: file, line: 0, path: missing.path, problem: missing.problem) }
            merge = deleting.merge
        }
        do {
            return try merge.validated(source: SourceMap(), file: file)
        } catch {
            let what = name.isEmpty ? kind.rawValue : "\(kind.rawValue) \(quoted(name))"
            throw ConfigError(file: file, line: 0, path: error.path,
                              problem: "\(error.problem) (after deleting \(what): delete or change what refers to it first)")
        }
    }

    /// SIGHUP: applies the difference between the topology file as it was (`old`) and as it is
    /// now (`new`) to this running topology. Objects in `old` but not in `new` are removed (if
    /// still here); objects new in `new`, or different there from `old`, are added or replace
    /// this topology's; the `conntrack` and `overlay` settings are `new`'s when they differ
    /// from `old`'s. Whatever the file did not change stays as it is here, including objects
    /// that `pier apply` added or replaced. Errors carry the file name `file` and `new`'s key
    /// paths, without lines (see `reloading(from:yaml:file:)` for lines).
    public func reloading(from old: Topology, to new: Topology, file: String = "reload") throws(ConfigError) -> (topology: Topology, changes: [TopologyChange]) {
        try reloading(from: old, to: new, source: SourceMap(), file: file)
    }

    /// SIGHUP, reading the file: `yaml` is the file's new text, which must load as a whole
    /// topology; then `reloading(from:to:)`, with errors on the file's lines. Returns the file's
    /// new topology too: the `old` of the next reload.
    public func reloading(from old: Topology, yaml: String, file: String) throws(ConfigError) -> (topology: Topology, file: Topology, changes: [TopologyChange]) {
        let (new, source) = try Self.read(yaml: yaml, file: file).mapError(\.first).get()
        _ = try Self.validated(new, source: source, file: file).mapError(\.first).get()
        let (topology, changes) = try reloading(from: old, to: new, source: source, file: file)
        return (topology, new, changes)
    }

    /// The reload, with where `new`'s values were written.
    private func reloading(from old: Topology, to new: Topology, source: SourceMap, file: String) throws(ConfigError) -> (topology: Topology, changes: [TopologyChange]) {
        guard new.node == node else {
            throw ConfigError(file: file, line: source.place("node").line, path: "node",
                              problem: "this switch is node \(quoted(node)), got \(quoted(new.node)); expected the same node (restart the switch to rename it)")
        }
        var (old, new) = (old, new)
        // A file without podCIDR under overlay.etcd keeps the subnet the lease named.
        for index in 0..<2 {
            let file = index == 0 ? old : new
            guard var overlay = file.overlay, overlay.awaitsLease, let running = self.overlay else { continue }
            overlay.podCIDR = running.podCIDR
            if index == 0 { old.overlay = overlay } else { new.overlay = overlay }
        }
        var merge = Merge(self)
        if new.overlay.map(\.withoutPeers) != old.overlay.map(\.withoutPeers) { merge.setOverlaySettings(new.overlay) }
        if new.conntrack != old.conntrack { merge.setConntrack(new.conntrack) }
        var upserting = Upserting(merge: merge, from: new, changed: old)
        Self.visitSections(&upserting)
        return try upserting.merge.validated(source: source, file: file)
    }
}

extension OverlayConfig {
    /// The settings alone.
    var withoutPeers: OverlayConfig {
        var settings = self
        settings.peers = []
        return settings
    }
}

/// Adds or replaces each object of a document; with `changed` (the document as it was), only
/// the objects that differ from it, after removing those it had and the document lost.
private struct Upserting: SectionVisitor {
    /// The change so far.
    var merge: Merge
    /// The document.
    let from: Topology
    /// The document as it was, for a reload.
    let changed: Topology?

    mutating func visit<Element: Equatable, Key: Hashable>(_ section: Section<Element, Key>) {
        let elements = from[keyPath: section.list]
        guard let changed else {
            merge.upsert(section, elements.enumerated().map { ($0, $1) })
            return
        }
        let before = Dictionary(changed[keyPath: section.list].map { (section.key($0), $0) }, uniquingKeysWith: { first, _ in first })
        let keys = Set(elements.map(section.key))
        merge.remove(section, keys: Set(before.keys).subtracting(keys))
        merge.upsert(section, elements.enumerated().filter { before[section.key($1)] != $1 }.map { ($0, $1) })
    }
}

/// Removes one object of one kind, or says that there is none.
private struct Deleting: SectionVisitor {
    /// The change so far.
    var merge: Merge
    /// The kind of object.
    let kind: ObjectKind
    /// Its name.
    let name: String
    /// Where and why nothing was deleted.
    var missing: (path: String, problem: String)?

    mutating func visit<Element: Equatable, Key: Hashable>(_ section: Section<Element, Key>) {
        guard section.kind == kind else { return }
        let list = merge.result[keyPath: section.list]
        let name = self.name
        let keys = Set(list.filter { section.name($0) == name }.map(section.key))
        guard keys.isEmpty else {
            merge.remove(section, keys: keys)
            return
        }
        let names = list.map(section.name)
        let known = names.isEmpty ? "there are none" : "expected one of: \(someOf(names))"
        missing = (section.path, "no \(kind.rawValue) \(quoted(name)) to delete (\(known))")
    }
}

/// Peers learned from etcd (`overlay.etcd`): the switch's etcd watcher hands over every lease it
/// knows, each time one changes.
extension Topology {
    /// Replaces the peers learned from etcd (those with a `lease`) with `leased`, keeping the
    /// peers a file or `pier apply` gave; a leased peer whose node a given peer already has is
    /// left out (the file wins). Returns the topology and what changed (`added peer
    /// 10.244.2.0-24`, …), or the first problem, changing nothing, with the leased peer it
    /// concerns when it concerns one.
    public func replacingLeasedPeers(_ leased: [OverlayPeer]) throws(LeasedPeerRefusal) -> (topology: Topology, changes: [TopologyChange]) {
        let section = Section(kind: .peer, path: "overlay.peers", list: \.overlayPeers, name: \.node)
        let given = Set(overlayPeers.filter { $0.lease == nil }.map(\.node))
        let wanted = leased.filter { !given.contains($0.node) }
        let wantedNodes = Set(wanted.map(\.node))
        var merge = Merge(self)
        merge.remove(section, keys: Set(overlayPeers.filter { $0.lease != nil && !wantedNodes.contains($0.node) }.map(\.node)))
        merge.upsert(section, wanted.enumerated().map { ($0, $1) })
        do {
            return try merge.validated(source: SourceMap(), file: "etcd")
        } catch {
            // `overlay.peers[3].ip`: a problem placed on a peer written here names its place in `wanted`.
            let index = error.path.hasPrefix("overlay.peers[") ? error.path.dropFirst("overlay.peers[".count).prefix { $0.isNumber } : ""
            let peer = Int(index).flatMap { wanted.indices.contains($0) ? wanted[$0] : nil }
            throw LeasedPeerRefusal(problem: error, node: peer?.node)
        }
    }
}

/// Why leased peers were refused: the problem, and the leased peer it is about (if one).
public struct LeasedPeerRefusal: Error, Sendable {
    /// The first problem.
    public var problem: ConfigError
    /// The node of the leased peer with the problem; nil when it is no leased peer's.
    public var node: String?
}

extension Topology {
    /// This topology with the pod subnet its etcd lease named (`overlay.podCIDR` replaced),
    /// checked whole; the first problem otherwise.
    public func leasing(podCIDR: IPv4Prefix) throws(ConfigError) -> Topology {
        var merge = Merge(self)
        guard var overlay else { return self }
        overlay.podCIDR = podCIDR
        merge.setOverlaySettings(overlay)
        return try merge.validated(source: SourceMap(), file: "etcd lease").topology
    }
}
