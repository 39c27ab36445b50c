import Wire

/// The node's ARP cache (and its IPv6 counterpart): static entries from the configuration,
/// and IPv4 entries learned from ARP packets addressed to the node (replies, and requests
/// for its addresses, as Linux learns them).
///
/// IPv6 entries are learned from neighbour solicitations and advertisements (RFC 4861) the
/// same way. Learned entries do not expire yet: a station that changes MAC announces it
/// (gratuitous ARP, an unsolicited advertisement) or answers the next request.
public final class NeighborTable {
    /// An entry: the MAC, and whether it came from the config. (Learned entries do not age.)
    public struct Entry: Equatable, Sendable {
        /// The neighbour's MAC.
        public var mac: MACAddress
        /// True for configured entries, which learning never changes.
        public var isStatic: Bool
    }

    /// IPv4 neighbours.
    public private(set) var ipv4: [IPv4Address: Entry] = [:]
    /// IPv6 neighbours.
    public private(set) var ipv6: [IPv6Address: Entry] = [:]

    /// Makes a table holding the static entries.
    init(static4: [(IPv4Address, MACAddress)], static6: [(IPv6Address, MACAddress)]) {
        for (address, mac) in static4 { ipv4[address] = Entry(mac: mac, isStatic: true) }
        for (address, mac) in static6 { ipv6[address] = Entry(mac: mac, isStatic: true) }
    }

    /// The last IPv4 address resolved and its MAC: most routed frames go to one next hop (the
    /// gateway), and a dictionary lookup hashes the key (SipHash) every time.
    @usableFromInline var lastAddress = IPv4Address.any
    @usableFromInline var lastMAC = MACAddress.zero

    /// The MAC of `address`, if known.
    @inlinable
    public func resolve(_ address: IPv4Address) -> MACAddress? {
        if address == lastAddress && lastMAC != .zero { return lastMAC }
        guard let mac = ipv4[address]?.mac else { return nil }
        lastAddress = address
        lastMAC = mac
        return mac
    }

    /// The MAC of `address`, if known.
    @inlinable
    public func resolve(_ address: IPv6Address) -> MACAddress? { ipv6[address]?.mac }

    /// Records that `address` is at `mac`; true when this is new or a change. Static entries
    /// are never overwritten.
    @discardableResult
    func learn(_ address: IPv4Address, mac: MACAddress) -> Bool {
        if address == lastAddress { lastMAC = .zero }
        return Self.learn(address, mac: mac, in: &ipv4)
    }

    /// Records that IPv6 `address` is at `mac`; true when this is new or a change. Static
    /// entries are never overwritten.
    @discardableResult
    func learn(_ address: IPv6Address, mac: MACAddress) -> Bool {
        Self.learn(address, mac: mac, in: &ipv6)
    }

    /// Records `mac` for `address` in `table` unless a static entry holds it; true when new or changed.
    private static func learn<Address: Hashable>(_ address: Address, mac: MACAddress, in table: inout [Address: Entry]) -> Bool {
        let existing = table[address]
        if existing?.isStatic == true { return false }
        table[address] = Entry(mac: mac, isStatic: false)
        return existing?.mac != mac
    }
}
