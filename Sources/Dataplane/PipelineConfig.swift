import Wire

/// Everything a `Pipeline` is built from: ports, bridges, L3 interfaces, routes and static
/// neighbours, already validated. The Topology module makes one from a topology file; tests
/// and benchmarks make them directly.
public struct PipelineConfig: Sendable {
    /// A port: a source and sink of frames (a TAP device, a capture file).
    public struct Port: Sendable {
        /// The port's name (`eth0`, `c1`).
        public var name: String
        /// The bridge it is a member of, if any.
        public var bridge: BridgeIndex?
        /// Its own L3 interface when it is a routed port (the uplink), if any.
        public var interface: InterfaceIndex?
        /// Makes a port.
        public init(name: String, bridge: BridgeIndex? = nil, interface: InterfaceIndex? = nil) {
            self.name = name
            self.bridge = bridge
            self.interface = interface
        }
    }

    /// A learning bridge (docker0, cni0).
    public struct Bridge: Sendable {
        /// The bridge's name.
        public var name: String
        /// Its member ports.
        public var ports: [PortID]
        /// The bridge's own L3 interface (its gateway address), if any.
        public var interface: InterfaceIndex?
        /// May a frame leave by the port it came in on.
        public var hairpin: Bool
        /// The most MAC addresses the bridge learns.
        public var fdbCapacity: Int
        /// Seconds after which an unrefreshed entry is forgotten; 0 never.
        public var ageingSeconds: Int64
        /// Entries that never age or move.
        public var staticEntries: [StaticEntry]
        /// The default FDB capacity: 4096 entries.
        public static let defaultFDBCapacity = 4_096
        /// The default ageing time: 300 seconds, Linux's `ageing_time`.
        public static let defaultAgeingSeconds: Int64 = 300

        /// Makes a bridge.
        public init(name: String, ports: [PortID], interface: InterfaceIndex? = nil, hairpin: Bool = false,
                    fdbCapacity: Int = defaultFDBCapacity, ageingSeconds: Int64 = defaultAgeingSeconds,
                    staticEntries: [StaticEntry] = []) {
            self.name = name
            self.ports = ports
            self.interface = interface
            self.hairpin = hairpin
            self.fdbCapacity = fdbCapacity
            self.ageingSeconds = ageingSeconds
            self.staticEntries = staticEntries
        }
    }

    /// A static FDB entry.
    public struct StaticEntry: Sendable {
        /// The station's MAC.
        public var mac: MACAddress
        /// The member port it is behind.
        public var port: PortID
        /// Makes a static entry.
        public init(mac: MACAddress, port: PortID) {
            self.mac = mac
            self.port = port
        }
    }

    /// Where an L3 interface sends and receives frames.
    public enum Attachment: Sendable, Equatable {
        /// A routed port.
        case port(PortID)
        /// A bridge's own interface.
        case bridge(BridgeIndex)
    }

    /// An L3 interface of the node: its MAC and addresses, and where it is attached.
    public struct Interface: Sendable {
        /// The interface's name (the port's or the bridge's).
        public var name: String
        /// Its MAC address.
        public var mac: MACAddress
        /// Its IPv4 addresses with their subnets.
        public var ipv4: [IPv4Prefix]
        /// Its IPv6 addresses with their subnets.
        public var ipv6: [IPv6Prefix]
        /// Where it is attached.
        public var attachment: Attachment
        /// Makes an interface.
        public init(name: String, mac: MACAddress, ipv4: [IPv4Prefix] = [], ipv6: [IPv6Prefix] = [], attachment: Attachment) {
            self.name = name
            self.mac = mac
            self.ipv4 = ipv4
            self.ipv6 = ipv6
            self.attachment = attachment
        }
    }

    /// An IPv4 route: a prefix reached through an interface, directly or via a gateway.
    public struct Route4: Sendable {
        /// The destinations.
        public var prefix: IPv4Prefix
        /// The egress interface.
        public var interface: InterfaceIndex
        /// The next hop; nil for a directly connected subnet.
        public var gateway: IPv4Address?
        /// Makes a route.
        public init(prefix: IPv4Prefix, interface: InterfaceIndex, gateway: IPv4Address? = nil) {
            self.prefix = prefix
            self.interface = interface
            self.gateway = gateway
        }
    }

    /// An IPv6 route.
    public struct Route6: Sendable {
        /// The destinations.
        public var prefix: IPv6Prefix
        /// The egress interface.
        public var interface: InterfaceIndex
        /// The next hop; nil for a directly connected subnet.
        public var gateway: IPv6Address?
        /// Makes a route.
        public init(prefix: IPv6Prefix, interface: InterfaceIndex, gateway: IPv6Address? = nil) {
            self.prefix = prefix
            self.interface = interface
            self.gateway = gateway
        }
    }

    /// The ports, in `PortID` order.
    public var ports: [Port]
    /// The bridges, in `BridgeIndex` order.
    public var bridges: [Bridge]
    /// Every IPv4 address of the node's interfaces.
    public var nodeAddresses4: [IPv4Address] { interfaces.flatMap { $0.ipv4.map(\.address) } }

    /// The L3 interfaces, in `InterfaceIndex` order.
    public var interfaces: [Interface]
    /// IPv4 routes (connected subnets are added from the interfaces automatically).
    public var routes4: [Route4]
    /// IPv6 routes (connected subnets are added from the interfaces automatically).
    public var routes6: [Route6]
    /// Static IPv4 neighbours.
    public var neighbors4: [(IPv4Address, MACAddress)]
    /// Static IPv6 neighbours.
    public var neighbors6: [(IPv6Address, MACAddress)]
    /// Frames held per unresolved next hop (Linux's classic `arp_queue` is 3).
    public var holdQueuePerNeighbor = 3
    /// Seconds to wait for an ARP reply before the held frames are dropped.
    public var neighborTimeoutSeconds: Int64 = 3
    /// MASQUERADE, published ports and Services.
    public var nat = NATRules()
    /// The connection tracker's size and timeouts.
    public var conntrack = ConntrackSettings()
    /// The tunnel to other nodes (VXLAN, IP-in-IP, UDP), if any; see `Overlay`.
    public var overlay: Overlay?

    /// Makes a configuration.
    public init(ports: [Port], bridges: [Bridge] = [], interfaces: [Interface] = [], routes4: [Route4] = [],
                routes6: [Route6] = [], neighbors4: [(IPv4Address, MACAddress)] = [],
                neighbors6: [(IPv6Address, MACAddress)] = []) {
        self.ports = ports
        self.bridges = bridges
        self.interfaces = interfaces
        self.routes4 = routes4
        self.routes6 = routes6
        self.neighbors4 = neighbors4
        self.neighbors6 = neighbors6
    }

    /// The index of the port named `name`.
    public func port(named name: String) -> PortID? {
        ports.firstIndex { $0.name == name }.map { PortID(rawValue: UInt16($0)) }
    }
}
