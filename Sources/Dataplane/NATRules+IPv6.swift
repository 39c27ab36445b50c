import Wire

// The IPv6 rules of `NATRules`: what ip6tables' nat table holds for Docker with IPv6 and for
// kube-proxy's IPv6 proxier. (A dual-stack Service's IPv6 half sits in `NATRules.Service`.)
extension NATRules {
    /// `ip6tables -t nat -A POSTROUTING -s SOURCE -o OUT -j MASQUERADE`.
    public struct Masquerade6: Sendable {
        /// The source subnet the rule matches.
        public var source: IPv6Prefix
        /// The port the traffic must leave by.
        public var out: PortID
        /// Makes a rule.
        public init(source: IPv6Prefix, out: PortID) {
            self.source = source
            self.out = out
        }
    }

    /// An IPv6 published port: TCP or UDP to any node IPv6 address on `hostPort` goes to
    /// `[to]:toPort`.
    public struct PortMapping6: Sendable {
        /// TCP or UDP.
        public var proto: IPProtocol
        /// The node's port.
        public var hostPort: UInt16
        /// The container's address.
        public var to: IPv6Address
        /// The container's port.
        public var toPort: UInt16
        /// Makes a published port.
        public init(proto: IPProtocol, hostPort: UInt16, to: IPv6Address, toPort: UInt16) {
            self.proto = proto
            self.hostPort = hostPort
            self.to = to
            self.toPort = toPort
        }
    }
}
