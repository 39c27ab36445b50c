import Wire

/// A container that `pier up` makes as a network namespace.
public struct ContainerConfig: Sendable, Equatable {
    /// How the container is networked, as Docker's `--network` names it.
    public enum Mode: Sendable, Hashable, CustomStringConvertible {
        /// Its own namespace, linked to the node by its port (Docker's `bridge`).
        case bridge
        /// Its own namespace with loopback only (Docker's `none`).
        case isolated
        /// The namespace of the named container, as a pod's containers share one
        /// (Docker's `container:NAME`).
        case container(String)

        /// `bridge`, `none` or `container:NAME`, as written in the file.
        public var description: String {
            switch self {
            case .bridge: "bridge"
            case .isolated: "none"
            case .container(let name): "container:\(name)"
            }
        }
    }

    /// The container's name, unique in the topology.
    public var name: String
    /// The port its namespace is linked by (bridge mode).
    public var port: String?
    /// The IPv4 addresses inside the namespace, with prefix length (`ip:`).
    public var addresses: [IPv4Prefix]
    /// The IPv6 addresses inside the namespace, with prefix length (`ip:`).
    public var addresses6: [IPv6Prefix]
    /// The network mode (default `bridge`).
    public var mode: Mode

    /// Makes a container.
    public init(
        name: String,
        port: String? = nil,
        addresses: [IPv4Prefix] = [],
        addresses6: [IPv6Prefix] = [],
        mode: Mode = .bridge
    ) {
        self.name = name
        self.port = port
        self.addresses = addresses
        self.addresses6 = addresses6
        self.mode = mode
    }
}
