import Testing
import Topology

/// A port's `bridge:` and `netns:` (issue 8): a port that names its bridge, and a TAP device
/// in another network namespace.
struct PortKeysTests {
    @Test func designMDsIssue8PortLoads() throws {
        let yaml = designExample.replacingOccurrences(
            of: "  - name: c2\n    tap: pier-c2\n",
            with: "  - name: c2\n    tap: pier-c2\n  - name: c4\n    bridge: docker0\n    netns: /run/netns/c4\n    tap: eth0\n")
        let topology = try Topology.parse(yaml: yaml, file: "topo.yaml")
        let c4 = try #require(topology.ports.last)
        #expect(c4 == PortConfig(name: "c4", tap: "eth0", bridge: "docker0", netns: "/run/netns/c4"))
        #expect(topology.ports(ofBridge: "docker0") == ["c1", "c2", "c4"])
        #expect(topology.bridge(containingPort: "c4")?.name == "docker0")
        #expect(topology.bridge(containingPort: "eth0") == nil)
        #expect(topology.ports(ofBridge: "nope").isEmpty)
    }

    @Test func aPortMayBothBeListedAndNameItsBridge() throws {
        let topology = try Topology.parse(yaml: """
            node: n
            ports: [{name: c1, bridge: br0}, {name: c2, bridge: br0}, {name: c3}]
            bridges:
              - {name: br0, ports: [c3, c1], fdbStatic: [{mac: 02:00:00:00:00:01, port: c2}]}
            """, file: "topo.yaml")
        #expect(topology.ports(ofBridge: "br0") == ["c3", "c1", "c2"])
    }

    @Test func oneTAPNamePerNamespace() throws {
        let topology = try Topology.parse(yaml: """
            node: n
            ports:
              - {name: c1, netns: /run/netns/c1, tap: eth0}
              - {name: c2, netns: /run/netns/c2, tap: eth0}
              - {name: c3, tap: eth0}
            """, file: "topo.yaml")
        #expect(topology.ports.map(\.netns) == ["/run/netns/c1", "/run/netns/c2", nil])
    }

    static let failures: [Failure] = [
        Failure("netns not absolute", """
            node: n
            ports:
              - {name: c1, netns: run/netns/c1, tap: eth0}
            """, line: 3, path: "ports[0].netns",
            says: #"expected an absolute path to a network namespace like /run/netns/c4 or /proc/1234/ns/net, got "run/netns/c1""#),
        Failure("netns without tap", """
            node: n
            ports:
              - name: c1
                netns: /run/netns/c1
            """, line: 4, path: "ports[0].netns", says: "expected tap: (the device's name inside the namespace) too"),
        Failure("unknown bridge", """
            node: n
            ports:
              - {name: c1, bridge: br9}
            bridges: [{name: br0}, {name: br1}]
            """, line: 3, path: "ports[0].bridge", says: #"unknown bridge "br9" (expected one of: br0, br1)"#),
        Failure("no bridges at all", """
            node: n
            ports:
              - {name: c1, bridge: br9}
            """, line: 3, path: "ports[0].bridge", says: #"unknown bridge "br9" (there are no bridges)"#),
        Failure("listed by another bridge", """
            node: n
            ports:
              - {name: c1}
              - {name: c2, bridge: br1}
            bridges:
              - {name: br0, ports: [c1, c2]}
              - {name: br1}
            """, line: 6, path: "bridges[0].ports[1]",
            says: #"port "c2" would be in two bridges, br0 here and br1 at ports[1].bridge (line 4); expected a port to join one bridge at most"#),
        Failure("a bridged port with an address", """
            node: n
            ports:
              - {name: c1, bridge: br0, ip: 10.0.0.2/24}
            bridges: [{name: br0}]
            """, line: 3, path: "ports[0].ip",
            says: "port c1 is a port of bridge br0, ports[0].bridge (line 3), and bridge ports are layer 2 only"),
        Failure("one TAP name twice in a namespace", """
            node: n
            ports:
              - {name: c1, netns: /run/netns/x, tap: eth0}
              - {name: c2, netns: /run/netns/x, tap: eth0}
            """, line: 4, path: "ports[1].tap", says: #"duplicate TAP device "eth0" in /run/netns/x, also ports[0].tap (line 3)"#),
        Failure("a static entry on a port of another bridge", """
            node: n
            ports: [{name: c1, bridge: br0}, {name: c2, bridge: br1}]
            bridges:
              - {name: br0, fdbStatic: [{mac: 02:00:00:00:00:01, port: c2}]}
              - {name: br1}
            """, line: 4, path: "bridges[0].fdbStatic[0].port", says: #"port "c2" is not a port of bridge br0 (expected one of: c1)"#),
    ]

    @Test(arguments: failures)
    func badPortKeys(_ failure: Failure) {
        failure.check()
    }
}
