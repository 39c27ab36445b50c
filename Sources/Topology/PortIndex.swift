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

    /// The bridge that the port named `name` belongs to, or nil when it is a routed port.
    public func bridge(containingPort name: String) -> BridgeConfig? {
        bridges.first { $0.ports.contains(name) }
    }
}
