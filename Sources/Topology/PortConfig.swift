import Wire

/// One port: a source and a sink of frames (a TAP device live, a capture file in replay).
public struct PortConfig: Sendable, Equatable {
    /// The port's name, unique in the topology; bridges, NAT and containers refer to it.
    public var name: String
    /// The TAP device `pier switch` opens for this port; nil when the port is only replayed.
    /// With `netns`, the device's name inside that namespace.
    public var tap: String?
    /// The bridge this port joins (`bridge:`), named here instead of in the bridge's `ports:`
    /// so that a port can be added without restating the others; nil when the port names none
    /// (it may still be listed by a bridge). See `Topology.ports(ofBridge:)`.
    public var bridge: String?
    /// The network namespace the TAP device lives in (`netns:`), an absolute path such as
    /// `/run/netns/c4` or `/proc/1234/ns/net`; nil for the switch's own namespace.
    public var netns: String?
    /// The port's own MAC address (a unicast address), if it has one.
    public var mac: MACAddress?
    /// The IPv4 addresses on the port, each with its subnet's prefix length (`ip:`).
    public var addresses: [IPv4Prefix]
    /// The IPv6 addresses on the port, each with its subnet's prefix length (`ip:`).
    public var addresses6: [IPv6Prefix]
    /// The IPv4 next hop for everything off-node (the IPv4 entry of `gateway:`).
    public var gateway: IPv4Address?
    /// The IPv6 next hop for everything off-node (the IPv6 entry of `gateway:`).
    public var gateway6: IPv6Address?

    /// Makes a port; only the name is required.
    public init(
        name: String,
        tap: String? = nil,
        bridge: String? = nil,
        netns: String? = nil,
        mac: MACAddress? = nil,
        addresses: [IPv4Prefix] = [],
        addresses6: [IPv6Prefix] = [],
        gateway: IPv4Address? = nil,
        gateway6: IPv6Address? = nil
    ) {
        self.name = name
        self.tap = tap
        self.bridge = bridge
        self.netns = netns
        self.mac = mac
        self.addresses = addresses
        self.addresses6 = addresses6
        self.gateway = gateway
        self.gateway6 = gateway6
    }
}
