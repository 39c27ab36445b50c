import Dataplane
import Wire

/// A learning bridge, as `ip link add docker0 type bridge` makes one: it joins its ports at
/// layer 2 and, when it has an address, is the gateway its ports' hosts route through.
public struct BridgeConfig: Sendable, Equatable {
    /// The bridge's name, unique among bridges and ports.
    public var name: String
    /// The names of the member ports, which carry no address of their own.
    public var ports: [String]
    /// The bridge's own IPv4 addresses (`ip:`): it answers ARP and ping for them.
    public var addresses: [IPv4Prefix]
    /// The bridge's own IPv6 addresses (`ip:`).
    public var addresses6: [IPv6Prefix]
    /// The bridge's MAC address, if given.
    public var mac: MACAddress?
    /// Whether a frame may leave by the port it came in on (Linux's `hairpin_mode`).
    public var hairpin: Bool
    /// The forwarding database's size and ageing.
    public var fdb: FDBConfig
    /// Permanent FDB entries (`fdbStatic:`, a Pier extension): MACs pinned to member ports,
    /// as `bridge fdb add MAC dev PORT master static` pins them; they never age.
    public var fdbStatic: [StaticFDBEntry]

    /// Makes a bridge with Linux's defaults: no hairpin, a 4096-entry FDB ageing after 300 s.
    public init(
        name: String,
        ports: [String] = [],
        addresses: [IPv4Prefix] = [],
        addresses6: [IPv6Prefix] = [],
        mac: MACAddress? = nil,
        hairpin: Bool = false,
        fdb: FDBConfig = FDBConfig(),
        fdbStatic: [StaticFDBEntry] = []
    ) {
        self.name = name
        self.ports = ports
        self.addresses = addresses
        self.addresses6 = addresses6
        self.mac = mac
        self.hairpin = hairpin
        self.fdb = fdb
        self.fdbStatic = fdbStatic
    }
}

/// A bridge's forwarding database settings (`fdb: {capacity, ageing}`).
public struct FDBConfig: Sendable, Equatable {
    /// The default capacity: 4096 entries.
    public static let defaultCapacity = PipelineConfig.Bridge.defaultFDBCapacity
    /// The default ageing time: 300 seconds, Linux's `ageing_time` default.
    public static let defaultAgeing = Int(PipelineConfig.Bridge.defaultAgeingSeconds)

    /// The most MAC entries the table holds (at least 1).
    public var capacity: Int
    /// Seconds after which an unrefreshed learned entry is forgotten; 0 means never.
    public var ageing: Int

    /// Makes FDB settings; the defaults are 4096 entries and 300 seconds.
    public init(capacity: Int = FDBConfig.defaultCapacity, ageing: Int = FDBConfig.defaultAgeing) {
        self.capacity = capacity
        self.ageing = ageing
    }
}

/// A permanent FDB entry (`fdbStatic: [{mac, port}]`, a Pier extension to the contract).
public struct StaticFDBEntry: Sendable, Equatable {
    /// The unicast MAC address pinned.
    public var mac: MACAddress
    /// The member port it is pinned to.
    public var port: String

    /// Makes a permanent entry.
    public init(mac: MACAddress, port: String) {
        self.mac = mac
        self.port = port
    }
}
