import Dataplane

/// One node's network, as a topology file describes it (DESIGN.md, "Topology contract").
///
/// A plain value: `Topology.load(path:)` and `Topology.parse(yaml:file:)` make one from a file
/// and check it whole before anything runs, so a `Topology` that came from a file is valid.
/// Every default the contract names is already applied.
public struct Topology: Sendable, Equatable {
    /// The node's name (`node:`), which overlay peers know it by.
    public var node: String
    /// The ports, in file order: port `i` here is `PortID(rawValue: i)` in the pipeline.
    public var ports: [PortConfig]
    /// Static neighbor (ARP and NDP) entries.
    public var neighbors: [NeighborConfig]
    /// The software bridges and the ports each one joins.
    public var bridges: [BridgeConfig]
    /// MASQUERADE and published ports.
    public var nat: NATConfig
    /// Kubernetes-style Services: a virtual IP load-balanced over endpoints.
    public var services: [ServiceConfig]
    /// The overlay to the other nodes, if any.
    public var overlay: OverlayConfig?
    /// The connection tracker's size and timeouts.
    public var conntrack: ConntrackConfig
    /// The containers `pier up` makes as network namespaces.
    public var containers: [ContainerConfig]

    /// Makes a topology; everything but the node name and the ports has an empty default.
    public init(
        node: String,
        ports: [PortConfig],
        neighbors: [NeighborConfig] = [],
        bridges: [BridgeConfig] = [],
        nat: NATConfig = NATConfig(),
        services: [ServiceConfig] = [],
        overlay: OverlayConfig? = nil,
        conntrack: ConntrackConfig = ConntrackConfig(),
        containers: [ContainerConfig] = []
    ) {
        self.node = node
        self.ports = ports
        self.neighbors = neighbors
        self.bridges = bridges
        self.nat = nat
        self.services = services
        self.overlay = overlay
        self.conntrack = conntrack
        self.containers = containers
    }
}
