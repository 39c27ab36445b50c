import Testing
import Topology
import Wire

/// JSON topologies, the forms `ip:` and `gateway:` take, and the defaults.
struct FormsAndDefaultsTests {
    @Test func jsonLoads() throws {
        let json = """
        {
          "node": "node-j",
          "ports": [
            {"name": "eth0", "mac": "02:00:00:00:00:01", "ip": ["10.0.0.2/24", "fd00::2/64"],
             "gateway": ["10.0.0.1", "fd00::1"]},
            {"name": "c1"}
          ],
          "bridges": [{"name": "br0", "ports": ["c1"], "ip": "172.18.0.1/16", "hairpin": true,
                       "fdb": {"capacity": 16, "ageing": 0}}],
          "services": [{"name": "dns", "namespace": "kube-system", "clusterIP": "10.96.0.10",
                        "ports": [{"proto": "udp", "port": 53}], "sessionAffinity": "ClientIP"}],
          "conntrack": {"capacity": 1024, "timeouts": {"udp": 10, "tcp_established": 7440}, "invalid": "accept"}
        }
        """
        let topology = try Topology.parse(yaml: json, file: "topo.json")
        #expect(topology.node == "node-j")
        let eth0 = try #require(topology.ports.first)
        #expect(eth0.addresses == [IPv4Prefix("10.0.0.2/24")].compactMap { $0 })
        #expect(eth0.addresses6 == [IPv6Prefix("fd00::2/64")].compactMap { $0 })
        #expect(eth0.gateway == IPv4Address("10.0.0.1"))
        #expect(eth0.gateway6 == IPv6Address("fd00::1"))
        #expect(topology.bridges[0].hairpin)
        #expect(topology.bridges[0].fdb == FDBConfig(capacity: 16, ageing: 0))
        #expect(topology.services[0].namespace == "kube-system")
        #expect(topology.services[0].ports == [ServicePort(proto: .udp, port: 53, targetPort: 53)])
        #expect(topology.services[0].sessionAffinity == .clientIP)
        #expect(topology.conntrack.capacity == 1024)
        #expect(topology.conntrack.timeouts == [.udp: 10, .tcpEstablished: 7440])
        #expect(topology.conntrack.seconds(for: .udp) == 10)
        #expect(topology.conntrack.seconds(for: .udpStream) == 120)
        #expect(topology.conntrack.invalid == .accept)
    }

    @Test func defaults() throws {
        let yaml = """
        node: n
        ports:
          - name: c1
        bridges:
          - name: br0
            ports: [c1]
        services:
          - {name: web, clusterIP: 10.96.0.1, ports: [{port: 80}]}
        nat:
          portMappings: [{hostPort: 8080, to: 172.17.0.5:80}]
        overlay: {backend: vxlan, podCIDR: 10.244.1.0/24}
        containers:
          - {name: c1, port: c1}
        """
        let topology = try Topology.parse(yaml: yaml, file: "topo.yaml")
        let bridge = topology.bridges[0]
        #expect(bridge.hairpin == false)
        #expect(bridge.fdb == FDBConfig(capacity: 4096, ageing: 300))
        #expect(bridge.fdbStatic.isEmpty && bridge.addresses.isEmpty && bridge.mac == nil)
        let service = topology.services[0]
        #expect(service.namespace == "default")
        #expect(service.sessionAffinity == .none)
        #expect(service.endpoints.isEmpty)
        #expect(service.ports == [ServicePort(proto: .tcp, port: 80, targetPort: 80, nodePort: nil)])
        #expect(topology.nat.portMappings[0].proto == .tcp)
        #expect(topology.nat.masquerade.isEmpty)
        let overlay = try #require(topology.overlay)
        #expect(overlay.vni == 1 && overlay.port == 8472 && overlay.mtu == 1450 && overlay.peers.isEmpty)
        #expect(topology.conntrack == ConntrackConfig(capacity: 262_144, timeouts: [:]))
        #expect(topology.containers[0].mode == .bridge)
        #expect(topology.neighbors.isEmpty)
    }

    @Test(arguments: [
        ("vxlan", 8472 as UInt16?), ("udp", 8285), ("host-gw", nil), ("ipip", nil),
    ])
    func overlayPortDefaultsByBackend(backend: String, port: UInt16?) throws {
        let yaml = "node: n\nports: [{name: p0}]\noverlay: {backend: \(backend), podCIDR: 10.244.1.0/24}\n"
        #expect(try Topology.parse(yaml: yaml, file: "topo.yaml").overlay?.port == port)
    }

    @Test func minimal() throws {
        let topology = try Topology.parse(yaml: "node: n\nports: [{name: p0}]\n", file: "topo.yaml")
        #expect(topology == Topology(node: "n", ports: [PortConfig(name: "p0")]))
    }

    @Test func singleAndListForms() throws {
        let yaml = """
        node: n
        ports:
          - {name: a, ip: 10.0.0.1/24, gateway: 10.0.0.254}
          - {name: b, ip: fd00:1::1/64, gateway: fe80::1}
          - {name: c, ip: [10.0.2.1/24, 10.0.3.1/24, "fd00:2::1/64"]}
        """
        let ports = try Topology.parse(yaml: yaml, file: "topo.yaml").ports
        #expect(ports[0].addresses.map(\.description) == ["10.0.0.1/24"])
        #expect(ports[0].gateway?.description == "10.0.0.254")
        #expect(ports[1].addresses6.map(\.description) == ["fd00:1::1/64"])
        #expect(ports[1].gateway6?.description == "fe80::1")  // link-local: on-link by definition
        #expect(ports[2].addresses.map(\.description) == ["10.0.2.1/24", "10.0.3.1/24"])
        #expect(ports[2].addresses6.map(\.description) == ["fd00:2::1/64"])
    }

    @Test func extensionsAndOtherModes() throws {
        let yaml = """
        node: n
        ports: [{name: p1}, {name: p2}]
        neighbors:
          - {ip: "fd00::1", mac: 02:00:00:00:00:09}
        bridges:
          - name: br0
            ports: [p1, p2]
            fdbStatic:
              - {mac: 02:42:ac:11:00:02, port: p2}
        conntrack:
          timeouts: {tcp_syn_sent: 1, tcp_syn_recv: 2, tcp_established: 3, tcp_fin_wait: 4, tcp_close_wait: 5, tcp_last_ack: 6, tcp_time_wait: 7, tcp_close: 8, udp: 9, udp_stream: 10, icmp: 11}
        containers:
          - {name: a, mode: none}
          - {name: b, mode: container:a}
        """
        let topology = try Topology.parse(yaml: yaml, file: "topo.yaml")
        #expect(topology.neighbors[0].ip == .v6(IPv6Address(high: 0xFD00 << 48, low: 1)))
        #expect(topology.bridges[0].fdbStatic == [StaticFDBEntry(mac: MACAddress(0x02, 0x42, 0xac, 0x11, 0, 0x02), port: "p2")])
        #expect(topology.conntrack.timeouts.count == ConntrackConfig.Timeout.allCases.count)
        #expect(topology.conntrack.seconds(for: .icmp) == 11)
        #expect(topology.containers.map(\.mode) == [.isolated, .container("a")])
    }

    @Test func bridgeInsideOwnPodCIDRIsFlannelsLayout() throws {
        // flannel's cni0 takes the first address of the node's pod subnet: not an overlap.
        let yaml = """
        node: n
        ports: [{name: eth0, ip: 192.168.1.25/24}, {name: veth1}]
        bridges: [{name: cni0, ports: [veth1], ip: 10.244.1.1/24}]
        overlay: {backend: host-gw, podCIDR: 10.244.1.0/24}
        """
        #expect(throws: Never.self) { try Topology.parse(yaml: yaml, file: "topo.yaml") }
    }

    @Test func anchorsAndAliases() throws {
        let yaml = """
        node: n
        ports:
          - &uplink {name: eth0, ip: 192.168.1.25/24}
        neighbors:
          - {ip: 192.168.1.1, mac: &gw 02:00:c0:a8:01:01}
          - {ip: 192.168.1.2, mac: *gw}
        """
        let topology = try Topology.parse(yaml: yaml, file: "topo.yaml")
        #expect(topology.neighbors.map(\.mac) == [topology.neighbors[0].mac, topology.neighbors[0].mac])
    }
}
