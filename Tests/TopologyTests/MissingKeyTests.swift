import Testing
import Topology

/// Required keys: missing ones are errors at the line of the mapping that lacks them.
struct MissingKeyTests {
    static let cases: [Failure] = [
        Failure("node", """
            ports: [{name: p0}]
            """, line: 1, path: "node", says: "missing (expected the node's name"),
        Failure("ports", """
            node: n
            bridges: []
            """, line: 1, path: "ports", says: "missing (expected a list of ports"),
        Failure("no ports", """
            node: n
            ports: []
            """, line: 2, path: "ports", says: "expected at least one port, got an empty list"),
        Failure("port name", """
            node: n
            ports:
              - name: p0
              - tap: pier-x
            """, line: 4, path: "ports[1].name", says: "missing (expected a port name like eth0)"),
        Failure("empty port name", """
            node: n
            ports:
              - name:
                tap: pier-x
            """, line: 3, path: "ports[0].name", says: "missing (expected a port name like eth0)"),
        Failure("bridge name", """
            node: n
            ports: [{name: p0}]
            bridges:
              - ports: [p0]
            """, line: 4, path: "bridges[0].name", says: "missing (expected a bridge name like docker0)"),
        Failure("neighbor mac", """
            node: n
            ports: [{name: p0}]
            neighbors:
              - ip: 10.0.0.1
            """, line: 4, path: "neighbors[0].mac", says: "missing (expected a MAC address"),
        Failure("service cluster IP", """
            node: n
            ports: [{name: p0}]
            services:
              - name: web
                ports: [{port: 80}]
            """, line: 4, path: "services[0].clusterIP", says: "missing (expected an IPv4 address like 10.96.0.10)"),
        Failure("overlay pod subnet", """
            node: n
            ports: [{name: p0}]
            overlay:
              backend: vxlan
            """, line: 3, path: "overlay.podCIDR", says: "missing (expected this node's pod subnet"),
        Failure("masquerade out", """
            node: n
            ports: [{name: p0}]
            nat:
              masquerade: [{source: 10.0.0.0/8}]
            """, line: 4, path: "nat.masquerade[0].out", says: "missing (expected the name of the port"),
    ]

    @Test(arguments: cases)
    func missingKey(_ failure: Failure) {
        failure.check()
    }

    @Test func emptyDocument() throws {
        let error = try #require(loadError("# nothing here\n"))
        #expect(error.line == 1 && error.path.isEmpty)
        #expect(error.description == "topo.yaml:1: expected a mapping with node and ports, got an empty document")
    }

    @Test func documentNotAMapping() throws {
        let error = try #require(loadError("- node: n\n"))
        #expect(error.line == 1 && error.path.isEmpty)
        #expect(error.problem == "expected a mapping with node and ports, got a list")
    }
}
