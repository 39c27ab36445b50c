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
public struct MasqueradeRule: Sendable, Equatable {
    /// The source subnet the rule matches.
    public var source: IPv4Prefix
    /// The name of the port the traffic must leave by.
    public var out: String

    /// Makes a rule.
    public init(source: IPv4Prefix, out: String) {
        self.source = source
        self.out = out
    }
}

/// A published port (`docker run -p HOSTPORT:PORT`): traffic to the node on `hostPort` is
/// sent on to `to`:`toPort`.
public struct PortMapping: Sendable, Equatable {
    /// The transport protocol (`proto:`, default `tcp`).
    public var proto: TransportProtocol
    /// The node's port, 1 to 65535.
    public var hostPort: UInt16
    /// The address the traffic is sent to (the address part of `to: IP:PORT`).
    public var to: IPv4Address
    /// The port the traffic is sent to (the port part of `to: IP:PORT`), 1 to 65535.
    public var toPort: UInt16

    /// Makes a published port.
    public init(proto: TransportProtocol = .tcp, hostPort: UInt16, to: IPv4Address, toPort: UInt16) {
        self.proto = proto
        self.hostPort = hostPort
        self.to = to
        self.toPort = toPort
    }
}
