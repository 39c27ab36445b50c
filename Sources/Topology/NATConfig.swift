import Wire

/// Network address translation (`nat:`): source NAT for traffic leaving the node and
/// destination NAT for published ports.
public struct NATConfig: Sendable, Equatable {
    /// MASQUERADE rules, first match wins.
    public var masquerade: [MasqueradeRule]
    /// Published ports (`docker run -p`).
    public var portMappings: [PortMapping]

    /// Makes a NAT configuration; empty by default.
    public init(masquerade: [MasqueradeRule] = [], portMappings: [PortMapping] = []) {
        self.masquerade = masquerade
        self.portMappings = portMappings
    }
}

/// `iptables -t nat -A POSTROUTING -s SOURCE -o OUT -j MASQUERADE`: traffic from `source`
/// leaving by port `out` takes that port's address as its source.
/// An IPv6 `source` is ip6tables' rule: the out port's IPv6 address becomes the source.
public struct MasqueradeRule: Sendable, Equatable {
    /// The source subnet the rule matches, IPv4 or IPv6.
    public var source: IPSubnet
    /// The name of the port the traffic must leave by.
    public var out: String

    /// Makes a rule.
    public init(source: IPSubnet, out: String) {
        self.source = source
        self.out = out
    }

    /// Makes an IPv4 rule.
    public init(source: IPv4Prefix, out: String) {
        self.init(source: .v4(source), out: out)
    }
}

/// An IPv4 or IPv6 subnet.
public enum IPSubnet: Sendable, Hashable, CustomStringConvertible {
    /// An IPv4 subnet.
    case v4(IPv4Prefix)
    /// An IPv6 subnet.
    case v6(IPv6Prefix)

    /// `address/length`.
    public var description: String {
        switch self {
        case .v4(let prefix): prefix.description
        case .v6(let prefix): prefix.description
        }
    }
}

/// A published port (`docker run -p HOSTPORT:PORT`): traffic to the node on `hostPort` is
/// sent on to `to`:`toPort`. An IPv6 `to` (`[fd00:88::3]:80`) publishes on the node's IPv6
/// addresses, as Docker's ip6tables DNAT does; an IPv4 one on its IPv4 addresses.
public struct PortMapping: Sendable, Equatable {
    /// The transport protocol (`proto:`, default `tcp`).
    public var proto: TransportProtocol
    /// The node's port, 1 to 65535.
    public var hostPort: UInt16
    /// The address the traffic is sent to (the address part of `to: IP:PORT` or `[IPv6]:PORT`).
    public var to: NeighborConfig.Address
    /// The port the traffic is sent to (the port part of `to: IP:PORT`), 1 to 65535.
    public var toPort: UInt16

    /// Makes a published port.
    public init(proto: TransportProtocol = .tcp, hostPort: UInt16, to: NeighborConfig.Address, toPort: UInt16) {
        self.proto = proto
        self.hostPort = hostPort
        self.to = to
        self.toPort = toPort
    }

    /// Makes an IPv4 published port.
    public init(proto: TransportProtocol = .tcp, hostPort: UInt16, to: IPv4Address, toPort: UInt16) {
        self.init(proto: proto, hostPort: hostPort, to: .v4(to), toPort: toPort)
    }

    /// True when it publishes on the node's IPv6 addresses.
    public var isIPv6: Bool {
        if case .v6 = to { return true }
        return false
    }

    /// `tcp/8080`, or `tcp6/8080` for an IPv6 one: its name for `pier delete portmapping`.
    public var name: String { "\(proto)\(isIPv6 ? "6" : "")/\(hostPort)" }

    /// `172.17.0.5:80` or `[fd00:88::3]:80`.
    public var target: String {
        switch to {
        case .v4(let address): "\(address):\(toPort)"
        case .v6(let address): "[\(address)]:\(toPort)"
        }
    }
}
