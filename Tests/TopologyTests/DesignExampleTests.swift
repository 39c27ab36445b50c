import Foundation
import Testing
import Topology
import Wire

/// DESIGN.md's example loads, and every field is as written there.
struct DesignExampleTests {
    let topology: Topology

    init() throws {
        topology = try Topology.parse(yaml: designExample, file: "DESIGN.md")
    }

    /// The copy is still the project's DESIGN.md's (`docs/DESIGN.md`, the contracts Pier
    /// implements): a change to the contract's example fails here rather than passing against a
    /// stale copy.
    @Test func theCopyIsDesignMDsExample() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../docs/DESIGN.md").standardizedFileURL.path
        let design = try String(contentsOfFile: path, encoding: .utf8)
        #expect(design.contains(designExample), "DESIGN.md's example differs from Tests/TopologyTests/DesignExample.swift")
    }

    @Test func nodeAndPorts() throws {
        #expect(topology.node == "node-a")
        #expect(topology.ports.map(\.name) == ["eth0", "c1", "c2"])
        #expect(topology.ports.map(\.tap) == ["pier-eth0", "pier-c1", "pier-c2"])
        let eth0 = topology.ports[0]
        #expect(eth0.mac == MACAddress(0x02, 0x00, 0xc0, 0xa8, 0x01, 0x19))
        #expect(eth0.addresses == [IPv4Prefix(address: IPv4Address(192, 168, 1, 25), length: 24)])
        #expect(eth0.addresses6.isEmpty)
        #expect(eth0.gateway == IPv4Address(192, 168, 1, 1))
        #expect(eth0.gateway6 == nil)
        for port in topology.ports.dropFirst() {
            #expect(port.mac == nil && port.addresses.isEmpty && port.gateway == nil)
        }
    }

    @Test func portIndexOrder() throws {
        #expect(topology.portIndex(named: "eth0") == 0)
        #expect(topology.portIndex(named: "c2") == 2)
        #expect(topology.portIndex(named: "docker0") == nil)
        #expect(topology.portID(named: "c1")?.rawValue == 1)
        #expect(topology.portID(named: "nope") == nil)
        let c2 = try #require(topology.portID(named: "c2"))
        #expect(topology.port(c2)?.name == "c2")
        #expect(topology.bridge(containingPort: "c1")?.name == "docker0")
        #expect(topology.bridge(containingPort: "eth0") == nil)
    }

    @Test func neighbors() {
        #expect(topology.neighbors == [
            NeighborConfig(ip: .v4(IPv4Address(192, 168, 1, 1)), mac: MACAddress(0x02, 0x00, 0xc0, 0xa8, 0x01, 0x01)),
        ])
    }

    @Test func bridge() {
        #expect(topology.bridges == [
            BridgeConfig(
                name: "docker0", ports: ["c1", "c2"],
                addresses: [IPv4Prefix(address: IPv4Address(172, 17, 0, 1), length: 16)],
                mac: MACAddress(0x02, 0x42, 0xac, 0x11, 0x00, 0x01), hairpin: false,
                fdb: FDBConfig(capacity: 4096, ageing: 300)),
        ])
    }

    @Test func nat() {
        #expect(topology.nat.masquerade == [
            MasqueradeRule(source: IPv4Prefix(address: IPv4Address(172, 17, 0, 0), length: 16), out: "eth0"),
        ])
        #expect(topology.nat.portMappings == [
            PortMapping(proto: .tcp, hostPort: 3306, to: IPv4Address(172, 17, 0, 5), toPort: 3306),
        ])
    }

    @Test func services() {
        #expect(topology.services == [
            ServiceConfig(
                name: "web", namespace: "default", clusterIP: IPv4Address(10, 96, 0, 10),
                ports: [ServicePort(proto: .tcp, port: 80, targetPort: 8080, nodePort: 30080)],
                endpoints: [IPv4Address(10, 244, 1, 5), IPv4Address(10, 244, 2, 7)],
                sessionAffinity: .none),
        ])
    }

    @Test func overlay() {
        #expect(topology.overlay == OverlayConfig(
            backend: .vxlan, vni: 1, port: 8472, mtu: 1450,
            podCIDR: IPv4Prefix(address: IPv4Address(10, 244, 1, 0), length: 24),
            vtepMAC: MACAddress(0x02, 0xaa, 0, 0, 0, 0x01),
            peers: [
                OverlayPeer(
                    node: "node-b", ip: IPv4Address(192, 168, 9, 30),
                    podCIDR: IPv4Prefix(address: IPv4Address(10, 244, 2, 0), length: 24),
                    vtepMAC: MACAddress(0x02, 0xaa, 0, 0, 0, 0x02)),
            ]))
    }

    @Test func conntrackAndContainers() {
        #expect(topology.conntrack == ConntrackConfig(capacity: 262_144, timeouts: [:]))
        #expect(topology.containers == [
            ContainerConfig(name: "c1", port: "c1", addresses: [IPv4Prefix(address: IPv4Address(172, 17, 0, 2), length: 16)], mode: .bridge),
            ContainerConfig(name: "c2", port: "c2", addresses: [IPv4Prefix(address: IPv4Address(172, 17, 0, 3), length: 16)], mode: .bridge),
            ContainerConfig(name: "c3", mode: .container("c1")),
        ])
        #expect(topology.containers[2].mode.description == "container:c1")
    }
}
