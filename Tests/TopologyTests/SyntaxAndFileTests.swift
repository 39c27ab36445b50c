import Foundation
import Testing
import Topology

/// YAML syntax errors, `check` listing every problem, and loading files.
struct SyntaxAndFileTests {
    @Test(arguments: [
        // A key indented less than its siblings ends the mapping where a key cannot be.
        ("bad indentation", "node: n\nports:\n  - name: p0\n   tap: x\n", 4),
        // A flow list left open: the next line is where a `,` or `]` was expected.
        ("unclosed flow list", "node: n\nports: [{name: p0}\nbridges: []\n", 3),
        // A tab where indentation is expected.
        ("tab", "node: n\nports:\n\t- name: p0\n", 3),
        ("two documents", "node: n\nports: [{name: p0}]\n---\nnode: m\n", 3),
    ])
    func syntaxError(rule: String, yaml: String, line: Int) throws {
        let error = try #require(loadError(yaml), "\(rule)")
        #expect(error.line == line, "\(rule): \(error)")
        #expect(error.path.isEmpty)
        #expect(error.description.hasPrefix("topo.yaml:\(line): "))
        #expect(!error.description.contains("\n"))
    }

    @Test func syntaxErrorSaysWhat() throws {
        let error = try #require(loadError("node: n\nports:\n  - name: p0\n   tap: x\n"))
        #expect(error.problem.hasPrefix("invalid YAML: "))
        #expect(error.problem.contains("column"))
        let tab = try #require(loadError("node: n\nports:\n\t- name: p0\n"))
        #expect(tab.problem.hasPrefix("invalid YAML: a tab cannot indent YAML, use spaces (column 1"))
    }

    @Test func duplicateKey() throws {
        let error = try #require(loadError("node: n\nports: [{name: p0}]\nnode: m\n"))
        #expect(error.line == 1)
        #expect(error.problem == #"expected each key once in a mapping, got the key "node" here and again later in the same mapping"#)
    }

    @Test func checkListsEveryProblemInFileOrder() {
        let yaml = """
            node: n
            ports:
              - {name: eth0, mac: 01:00:00:00:00:01}
              - {name: eth1, speed: 10}
            overlay: {backend: vxlan, vni: 99999999, podCIDR: 10.244.1.0/24}
            """
        let problems = Topology.check(yaml: yaml, file: "topo.yaml")
        #expect(problems.map(\.line) == [3, 4, 5])
        #expect(problems.map(\.path) == ["ports[0].mac", "ports[1].speed", "overlay.vni"])
        #expect(Topology.check(yaml: designExample, file: "DESIGN.md").isEmpty)
    }

    @Test func checksBetweenValuesWaitForReading() {
        // The bad address is reported; the unknown bridge port, which might be the port
        // whose name could not be read, is not.
        let yaml = """
            node: n
            ports: [{name: "c 1"}]
            bridges: [{name: br0, ports: [c1]}]
            """
        let problems = Topology.check(yaml: yaml, file: "topo.yaml")
        #expect(problems.map(\.path) == ["ports[0].name"])
    }

    @Test func fixtureLoads() throws {
        let path = Self.fixtures + "/two-containers.yaml"
        let topology = try Topology.load(path: path)
        #expect(topology.node == "node-a")
        #expect(topology.ports.map(\.name) == ["eth0", "c1", "c2", "c3"])
        #expect(topology.ports[0].mac?.description == "02:00:c0:a8:01:19")
        #expect(topology.ports[0].addresses.map(\.description) == ["192.168.1.25/24"])
        #expect(topology.ports[0].gateway?.description == "192.168.1.1")
        #expect(topology.neighbors.map(\.ip.description) == ["192.168.1.1"])
        #expect(topology.neighbors.map(\.mac.description) == ["02:00:c0:a8:01:01"])
        let bridge = try #require(topology.bridges.first)
        #expect(bridge.name == "docker0" && bridge.ports == ["c1", "c2", "c3"])
        #expect(bridge.addresses.map(\.description) == ["172.17.0.1/16"])
        #expect(bridge.mac?.description == "02:42:ac:11:00:01")
        #expect(bridge.fdb == FDBConfig(capacity: 4096, ageing: 300))
        #expect(topology.containers.map(\.name) == ["c1", "c2"])
    }

    @Test func everyFixtureTopologyLoads() throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: Self.fixtures)
        for name in names where name.hasSuffix(".yaml") || name.hasSuffix(".json") {
            #expect(Topology.check(path: Self.fixtures + "/" + name).isEmpty, "\(name)")
        }
    }

    @Test func missingFile() {
        #expect(throws: ConfigError(file: "/nonexistent/topo.yaml", line: 0, path: "", problem: "no such file")) {
            try Topology.load(path: "/nonexistent/topo.yaml")
        }
        #expect(ConfigError(file: "t.yaml", line: 0, path: "", problem: "no such file").description == "t.yaml: no such file")
    }

    @Test func loadNamesTheFile() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("pier-topology-\(getpid()).yaml").path
        try "node: n\nports:\n  - name: p0\n    mtu: 9000\n".write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let error = #expect(throws: ConfigError.self) { try Topology.load(path: path) }
        #expect(error?.description == "\(path):4: ports[0].mtu: unknown key (expected one of: name, bridge, netns, tap, mac, ip, gateway)")
    }

    /// `fixtures/topologies` in the repository.
    static let fixtures = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("fixtures/topologies").path
}
