import Dataplane

/// Port numbering: a port's index in `ports` is its `PortID` in the pipeline.
extension Topology {
    /// The index of the port named `name` in `ports`, or nil when there is none.
    public func portIndex(named name: String) -> Int? {
        ports.firstIndex { $0.name == name }
    }

    /// The pipeline's identifier for the port named `name`: its index in `ports`.
    public func portID(named name: String) -> PortID? {
        portIndex(named: name).flatMap { UInt16(exactly: $0) }.map { PortID(rawValue: $0) }
    }

    /// The port that `id` identifies, or nil when `id` is out of range (or `PortID.none`).
    public func port(_ id: PortID) -> PortConfig? {
        let index = Int(id.rawValue)
        return id != .none && ports.indices.contains(index) ? ports[index] : nil
    }

    /// The bridge that the port named `name` belongs to, or nil when it is a routed port: the
    /// one its `bridge:` names, else the one whose `ports:` lists it.
    public func bridge(containingPort name: String) -> BridgeConfig? {
        if let named = ports.first(where: { $0.name == name })?.bridge {
            return bridges.first { $0.name == named }
        }
        return bridges.first { $0.ports.contains(name) }
    }

    /// The names of the ports of the bridge named `bridge`, in order: those its `ports:` lists,
    /// then those that name it with `bridge:`, in `ports` order. This is the member list the
    /// pipeline builds the bridge from.
    public func ports(ofBridge bridge: String) -> [String] {
        let listed = bridges.first { $0.name == bridge }?.ports ?? []
        let listedSet = Set(listed)
        return listed + ports.filter { $0.bridge == bridge && !listedSet.contains($0.name) }.map(\.name)
    }

    /// The names of the ports that are members of some bridge, listed or naming it.
    var bridgedPortNames: Set<String> {
        Set(bridges.flatMap(\.ports)).union(ports.compactMap { $0.bridge == nil ? nil : $0.name })
    }
}
