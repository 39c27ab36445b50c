import Dataplane

/// The pipeline's port numbers (`PortID`) of a topology's ports. A topology read from a file
/// numbers its ports in file order; a running switch whose topology changes keeps every
/// remaining port's number, leaves the numbers of removed ports empty, and gives new ports
/// new numbers at the end, so counters, learned MACs and connections stay attached to the
/// ports they belong to.
public struct PortSlots: Sendable, Equatable {
    /// The port name of each number; nil for a number whose port was removed.
    public private(set) var names: [String?]

    /// The topology's ports numbered in order.
    public init(_ topology: Topology) {
        names = topology.ports.map(\.name)
    }

    /// The numbers of `topology`'s ports, keeping those the ports had in `previous`.
    public init(_ topology: Topology, keeping previous: PortSlots) {
        let present = Set(topology.ports.map(\.name))
        names = previous.names.map { name in name.flatMap { present.contains($0) ? $0 : nil } }
        let kept = Set(names.compactMap { $0 })
        for port in topology.ports where !kept.contains(port.name) { names.append(port.name) }
    }

    /// Each port's number, by name.
    public var ids: [String: PortID] {
        var ids: [String: PortID] = [:]
        for (index, name) in names.enumerated() {
            if let name { ids[name] = PortID(rawValue: UInt16(index)) }
        }
        return ids
    }
}
