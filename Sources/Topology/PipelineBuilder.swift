import Dataplane
import Wire

extension PipelineConfig {
    /// The pipeline a validated topology describes: each port in `ports` order; each bridge
    /// with its members, FDB settings, static entries and (when it has an `ip`) its own L3
    /// interface; each port outside a bridge with an `ip` as a routed interface; connected
    /// routes for every interface subnet (added by the route stage) and a default route via
    /// each `gateway`; the static neighbours; MASQUERADE, published ports, Services and the
    /// conntrack settings.
    ///
    /// An interface without a `mac` gets a locally administered one made from its first
    /// IPv4 address, the way the DESIGN example writes them: 02:00:a.b.c.d for a port (the
    /// node IP 192.168.1.25 is 02:00:c0:a8:01:19) and 02:42:a.b.c.d for a bridge, as Docker
    /// derives container MACs.
    ///
    /// `slots` numbers the ports (`PortSlots`): by default in `ports` order; a running switch
    /// that changes keeps each remaining port's number, so its counters, learned MACs and
    /// connections stay where they were.
    public init(_ topology: Topology, slots: PortSlots? = nil) {
        let slots = slots ?? PortSlots(topology)
        var ports = slots.names.map { PipelineConfig.Port(name: $0 ?? "") }
        var interfaces: [PipelineConfig.Interface] = []
        var bridges: [PipelineConfig.Bridge] = []
        var routes4: [PipelineConfig.Route4] = []
        var routes6: [PipelineConfig.Route6] = []
        let portIndex = slots.ids

        for (bridgeIndex, bridge) in topology.bridges.enumerated() {
            let members = topology.ports(ofBridge: bridge.name).compactMap { portIndex[$0] }
            for member in members { ports[Int(member.rawValue)].bridge = bridgeIndex }
            var interface: InterfaceIndex?
            if !bridge.addresses.isEmpty || !bridge.addresses6.isEmpty {
                interface = interfaces.count
                interfaces.append(PipelineConfig.Interface(
                    name: bridge.name, mac: bridge.mac ?? Self.derivedMAC(prefix: 0x0242, from: bridge.addresses),
                    ipv4: bridge.addresses, ipv6: bridge.addresses6, attachment: .bridge(bridgeIndex)))
            }
            bridges.append(PipelineConfig.Bridge(
                name: bridge.name, ports: members, interface: interface, hairpin: bridge.hairpin,
                fdbCapacity: bridge.fdb.capacity, ageingSeconds: Int64(bridge.fdb.ageing),
                staticEntries: bridge.fdbStatic.compactMap { entry in
                    portIndex[entry.port].map { PipelineConfig.StaticEntry(mac: entry.mac, port: $0) }
                }))
        }
        for port in topology.ports {
            guard let id = portIndex[port.name] else { continue }
            let index = Int(id.rawValue)
            guard ports[index].bridge == nil, !port.addresses.isEmpty || !port.addresses6.isEmpty || port.mac != nil else { continue }
            let interface = interfaces.count
            ports[index].interface = interface
            interfaces.append(PipelineConfig.Interface(
                name: port.name, mac: port.mac ?? Self.derivedMAC(prefix: 0x0200, from: port.addresses),
                ipv4: port.addresses, ipv6: port.addresses6,
                attachment: .port(id)))
            if let gateway = port.gateway {
                routes4.append(PipelineConfig.Route4(prefix: IPv4Prefix(address: .any, length: 0), interface: interface, gateway: gateway))
            }
            if let gateway = port.gateway6 {
                routes6.append(PipelineConfig.Route6(prefix: IPv6Prefix(address: .any, length: 0), interface: interface, gateway: gateway))
            }
        }
        var neighbors4: [(IPv4Address, MACAddress)] = []
        var neighbors6: [(IPv6Address, MACAddress)] = []
        for neighbor in topology.neighbors {
            switch neighbor.ip {
            case .v4(let address): neighbors4.append((address, neighbor.mac))
            case .v6(let address): neighbors6.append((address, neighbor.mac))
            }
        }
        self.init(ports: ports, bridges: bridges, interfaces: interfaces, routes4: routes4, routes6: routes6,
                  neighbors4: neighbors4, neighbors6: neighbors6)
        nat = Self.natRules(topology, portIndex: portIndex)
        conntrack = Self.conntrackSettings(topology.conntrack)
        if let overlay = topology.overlay { addOverlay(overlay) }
    }

    /// `nat:` and `services:` in the Dataplane's terms (a rule naming an unknown port cannot
    /// come from a validated topology and is left out).
    static func natRules(_ topology: Topology, portIndex: [String: PortID]) -> NATRules {
        let podCIDRs = podCIDRs(topology)
        var rules = NATRules(
            masquerade: topology.nat.masquerade.compactMap { rule in
                guard case .v4(let source) = rule.source else { return nil }
                return portIndex[rule.out].map { NATRules.Masquerade(source: source, out: $0) }
            },
            portMappings: topology.nat.portMappings.compactMap {
                guard case .v4(let to) = $0.to else { return nil }
                return NATRules.PortMapping(proto: $0.proto.ipProtocol, hostPort: $0.hostPort, to: to, toPort: $0.toPort)
            },
            services: topology.services.map { natService($0, node: topology.node, podCIDRs: podCIDRs) })
        rules.podCIDRs = podCIDRs
        addIPv6(topology, portIndex: portIndex, to: &rules)
        return rules
    }

    /// `conntrack:` in the Dataplane's terms: capacity and every timeout in seconds.
    static func conntrackSettings(_ config: ConntrackConfig) -> ConntrackSettings {
        var settings = ConntrackSettings(capacity: config.capacity,
                                         tcpTimeouts: TCPState.allCases.map { Int64(config.seconds(for: .init(tcp: $0))) },
                                         udpTimeout: Int64(config.seconds(for: .udp)), udpStreamTimeout: Int64(config.seconds(for: .udpStream)),
                                         icmpTimeout: Int64(config.seconds(for: .icmp)))
        settings.dropInvalid = config.invalid == .drop
        return settings
    }

    /// `PP:PP:a:b:c:d` from the first IPv4 address, or `PP:PP:00:00:00:01` without one.
    static func derivedMAC(prefix: UInt16, from addresses: [IPv4Prefix]) -> MACAddress {
        MACAddress(rawValue: UInt64(prefix) << 32 | UInt64(addresses.first?.address.rawValue ?? 1))
    }
}
