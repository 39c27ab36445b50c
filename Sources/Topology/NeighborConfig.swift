import Wire

/// A static neighbor entry: the MAC that an on-link IP address resolves to, as
/// `ip neigh add IP lladdr MAC nud permanent` makes one. Learned entries come from ARP replies.
public struct NeighborConfig: Sendable, Equatable {
    /// An IPv4 or IPv6 address.
    public enum Address: Sendable, Hashable, CustomStringConvertible {
        /// An IPv4 address (resolved by ARP).
        case v4(IPv4Address)
        /// An IPv6 address (resolved by neighbor discovery).
        case v6(IPv6Address)

        /// The address in its usual text form.
        public var description: String {
            switch self {
            case .v4(let address): address.description
            case .v6(let address): address.description
            }
        }
    }

    /// The neighbor's IP address.
    public var ip: Address
    /// The neighbor's MAC address.
    public var mac: MACAddress

    /// Makes a neighbor entry.
    public init(ip: Address, mac: MACAddress) {
        self.ip = ip
        self.mac = mac
    }
}
