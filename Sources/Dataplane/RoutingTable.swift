import Wire

/// The node's routing tables: the connected subnets of its interfaces and the configured
/// routes, IPv4 and IPv6, each leading to a next hop (an egress interface and, off-link, a
/// gateway). Built once from the configuration; the route stage forwards by it and conntrack
/// reads a destination's egress interface from it (MASQUERADE's `! -o docker0`).
package final class RoutingTable {
    /// Where a route leads: the egress interface and the gateway, if not directly connected.
    struct NextHop: Equatable {
        var interface: InterfaceIndex
        var gateway4: IPv4Address?
        var gateway6: IPv6Address?
        /// On-link: the destination itself is the next hop.
        var isConnected: Bool { gateway4 == nil && gateway6 == nil }
    }

    /// IPv4 prefixes to next-hop indices.
    private(set) var routes4 = RouteTable4()
    /// IPv6 prefixes to next-hop indices.
    private(set) var routes6 = RouteTable6()
    /// The next hops routes lead to, by index.
    private(set) var nextHops: [NextHop] = []

    /// Connected subnets first, then configured routes (a configured route for the same
    /// prefix replaces the connected one, as a more specific decision).
    package init(config: PipelineConfig) {
        for (index, interface) in config.interfaces.enumerated() {
            for prefix in interface.ipv4 { routes4.insert(prefix.canonical, nextHop: nextHopIndex(NextHop(interface: index))) }
            for prefix in interface.ipv6 {
                routes6.insert(IPv6Prefix(address: prefix.network, length: prefix.length), nextHop: nextHopIndex(NextHop(interface: index)))
            }
        }
        for route in config.routes4 {
            routes4.insert(route.prefix.canonical, nextHop: nextHopIndex(NextHop(interface: route.interface, gateway4: route.gateway)))
        }
        for route in config.routes6 {
            let prefix = IPv6Prefix(address: route.prefix.network, length: route.prefix.length)
            routes6.insert(prefix, nextHop: nextHopIndex(NextHop(interface: route.interface, gateway6: route.gateway)))
        }
    }

    /// The index of `nextHop` in the next-hop table, adding it when new.
    private func nextHopIndex(_ nextHop: NextHop) -> UInt32 {
        if let index = nextHops.firstIndex(of: nextHop) { return UInt32(index) }
        nextHops.append(nextHop)
        return UInt32(nextHops.count - 1)
    }

    /// The next hop of the longest prefix that holds `destination`, if any.
    @inline(__always)
    func nextHop(_ destination: IPv4Address) -> NextHop? {
        routes4.lookup(destination).map { nextHops[Int($0)] }
    }

    /// The next hop of the longest IPv6 prefix that holds `destination`, if any.
    @inline(__always)
    func nextHop(_ destination: IPv6Address) -> NextHop? {
        routes6.lookup(destination).map { nextHops[Int($0)] }
    }

    /// The interface a packet to `destination` leaves by, if it is routable.
    func egress(of destination: IPv4Address) -> InterfaceIndex? {
        nextHop(destination)?.interface
    }

    /// The interface a packet to the IPv6 `destination` leaves by, if it is routable.
    func egress(of destination: IPv6Address) -> InterfaceIndex? {
        nextHop(destination)?.interface
    }

    /// Every IPv4 route with its next hop, in prefix order (`--dump`).
    func routes() -> [(prefix: IPv4Prefix, nextHop: NextHop)] {
        routes4.routes().map { ($0.0, nextHops[Int($0.1)]) }
    }
}
