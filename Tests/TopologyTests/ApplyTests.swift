import Testing
import Topology
import Wire

/// `pier apply`: a fragment adds or replaces named objects and settings, checked whole.
struct ApplyTests {
    /// One fragment and the changes it must make to DESIGN.md's example.
    struct Case: CustomTestStringConvertible, Sendable {
        let yaml: String
        let changes: [String]
        var testDescription: String { changes.joined(separator: ", ") }
        init(_ yaml: String, _ changes: String...) {
            self.yaml = yaml
            self.changes = changes
        }
    }

    static let adds: [Case] = [
        Case("ports: [{name: c9}]", "added port c9"),
        Case("containers: [{name: c9, mode: none}]", "added container c9"),
        Case("bridges: [{name: br9, ip: 10.9.0.1/24}]", "added bridge br9"),
        Case("neighbors: [{ip: 192.168.1.2, mac: 02:00:00:00:00:02}]", "added neighbor 192.168.1.2"),
        Case("services: [{name: api, namespace: shop, clusterIP: 10.96.0.11, ports: [{port: 443}]}]", "added service shop/api"),
        Case("nat: {portMappings: [{proto: udp, hostPort: 3306, to: 172.17.0.5:3306}]}", "added portmapping udp/3306"),
        Case("nat: {masquerade: [{source: 10.244.0.0/16, out: eth0}]}", "added masquerade 10.244.0.0/16"),
        Case("overlay: {peers: [{node: node-c, ip: 192.168.9.31, podCIDR: 10.244.3.0/24}]}", "added peer node-c"),
    ]

    static let replaces: [Case] = [
        Case("ports: [{name: c1, tap: pier-c1b}]", "replaced port c1"),
        Case("containers: [{name: c1, port: c1, ip: 172.17.0.9/16}]", "replaced container c1"),
        Case("bridges: [{name: docker0, ports: [c1, c2], ip: 172.17.0.1/16, mac: 02:42:ac:11:00:01, hairpin: true}]", "replaced bridge docker0"),
        Case("neighbors: [{ip: 192.168.1.1, mac: 02:00:c0:a8:01:02}]", "replaced neighbor 192.168.1.1"),
        Case("services: [{name: web, clusterIP: 10.96.0.10, ports: [{port: 80, targetPort: 8080, nodePort: 30080}], endpoints: [10.244.1.5]}]",
             "replaced service default/web"),
        Case("nat: {portMappings: [{hostPort: 3306, to: 172.17.0.6:3306}]}", "replaced portmapping tcp/3306"),
        Case("nat: {masquerade: [{source: 172.17.0.0/16, out: c1}]}", "replaced masquerade 172.17.0.0/16"),
        Case("overlay: {peers: [{node: node-b, ip: 192.168.9.31, podCIDR: 10.244.2.0/24}]}", "replaced peer node-b"),
        Case("conntrack: {timeouts: {udp: 5}}", "replaced conntrack"),
        Case("overlay: {mtu: 1400}", "replaced overlay"),
    ]

    @Test(arguments: adds + replaces)
    func changesEachKind(_ change: Case) throws {
        let running = try designTopology()
        let (result, changes) = try running.applying(yaml: change.yaml, file: "change.yaml")
        #expect(changes.map(\.description) == change.changes)
        #expect(result != running)
        // Applying it again is no change: the objects are now equal to the fragment's.
        let again = try result.applying(yaml: change.yaml, file: "change.yaml")
        #expect(again.changes.isEmpty)
        #expect(again.topology == result)
    }

    @Test func aThirdContainerWithItsPortAndAService() throws {
        let fragment = """
            node: node-a
            ports:
              - {name: c3, bridge: docker0, netns: /run/netns/c3, tap: eth0}
            containers:
              - {name: c4, port: c3, ip: 172.17.0.4/16}
            services:
              - {name: api, clusterIP: 10.96.0.20, ports: [{port: 80}], endpoints: [172.17.0.4]}
            """
        let running = try designTopology()
        let (result, changes) = try running.applying(yaml: fragment, file: "change.yaml")
        #expect(changes == [TopologyChange(.added, .port, "c3"), TopologyChange(.added, .service, "default/api"),
                            TopologyChange(.added, .container, "c4")])
        #expect(result.ports.map(\.name) == ["eth0", "c1", "c2", "c3"], "added ports go last: port numbers do not move")
        #expect(result.ports[3] == PortConfig(name: "c3", tap: "eth0", bridge: "docker0", netns: "/run/netns/c3"))
        #expect(result.ports(ofBridge: "docker0") == ["c1", "c2", "c3"])
        #expect(result.bridge(containingPort: "c3")?.name == "docker0")
        #expect(result.bridges == running.bridges, "the bridge itself is untouched")
        #expect(result.services.map(\.name) == ["web", "api"])
        #expect(running.ports.count == 3, "the running topology is a value, untouched")
    }

    @Test func overlaySettingsKeepWhatIsNotGiven() throws {
        let running = try designTopology()
        let (result, _) = try running.applying(yaml: "overlay: {vni: 9, peers: [{node: node-c, ip: 192.168.9.31, podCIDR: 10.244.3.0/24}]}",
                                               file: "change.yaml")
        let overlay = try #require(result.overlay)
        #expect(overlay.vni == 9)
        #expect(overlay.mtu == 1450 && overlay.port == 8472 && overlay.podCIDR == running.overlay?.podCIDR)
        #expect(overlay.peers.map(\.node) == ["node-b", "node-c"])
    }

    @Test func anOverlayAddedNeedsItsBackendAndPodCIDR() throws {
        var running = try designTopology()
        running.overlay = nil
        let error = try #require(applyError("overlay: {mtu: 1400}", to: running))
        #expect(error.path == "overlay.backend" && error.line == 1, "\(error)")
        let (result, changes) = try running.applying(yaml: "overlay: {backend: host-gw, podCIDR: 10.244.1.0/24}", file: "change.yaml")
        #expect(changes.map(\.description) == ["added overlay"])
        #expect(result.overlay?.port == nil)
    }

    @Test func conntrackTimeoutsMergeOneByOne() throws {
        let running = try Topology.parse(yaml: everyKey, file: "every.yaml")
        let (result, _) = try running.applying(yaml: "conntrack: {timeouts: {udp: 5}}", file: "change.yaml")
        #expect(result.conntrack.timeouts == [.tcpEstablished: 7440, .udp: 5])
        #expect(result.conntrack.capacity == 1000 && result.conntrack.invalid == .accept)
    }

    @Test func anEmptyFragmentChangesNothing() throws {
        let running = try designTopology()
        for empty in ["", "{}", "node: node-a", "ports: []"] {
            let (result, changes) = try running.applying(yaml: empty, file: "change.yaml")
            #expect(changes.isEmpty && result == running, "\(empty)")
        }
    }

    /// Bad fragments fail with the fragment's file, line and key path, like a bad file.
    static let failures: [Failure] = [
        Failure("YAML syntax error", """
            ports:
              - {name: c3
            """, line: 3, path: "", says: "invalid YAML"),
        Failure("unknown key", """
            ports:
              - name: c3
                speed: 10
            """, line: 3, path: "ports[0].speed", says: "unknown key (expected one of: name, bridge, netns, tap, mac, ip, gateway)"),
        Failure("node name mismatch", """
            node: node-b
            ports: [{name: c3}]
            """, line: 1, path: "node", says: #"this switch is node "node-a", got "node-b"; expected node: node-a"#),
        Failure("a port in two bridges, both in the fragment", """
            ports:
              - {name: c3, bridge: docker0}
            bridges:
              - name: br1
                ports: [c3]
            """, line: 5, path: "bridges[0].ports[0]",
            says: #"port "c3" would be in two bridges, br1 here and docker0 at ports[0].bridge (line 2); expected a port to join one bridge at most"#),
        Failure("a port in two bridges, one running", """
            bridges:
              - {name: br1, ports: [c1]}
            """, line: 2, path: "bridges[0].ports[0]",
            says: #"port "c1" is already a port of bridge docker0, bridges[0].ports[0] (running); expected a port to join one bridge at most"#),
        Failure("a port naming a bridge that lists another port", """
            ports:
              - {name: c1, bridge: br1}
            bridges:
              - {name: br1}
            """, line: 2, path: "ports[0].bridge",
            says: #"port "c1" would be in two bridges, br1 here and docker0 at bridges[0].ports[0] (running)"#),
        Failure("an unknown bridge", """
            ports:
              - {name: c3, bridge: br9}
            """, line: 2, path: "ports[0].bridge", says: #"unknown bridge "br9" (expected one of: docker0)"#),
        Failure("an overlapping subnet", """
            bridges:
              - name: br1
                ip: 172.17.5.1/24
            """, line: 3, path: "bridges[0].ip",
            says: "subnet 172.17.5.1/24 overlaps 172.17.0.1/16 at bridges[0].ip.v4[0] (running); expected subnets that do not overlap"),
        Failure("a Service with a clashing cluster IP", """
            services:
              - name: api
                clusterIP: 10.96.0.10
                ports: [{port: 443}]
            """, line: 3, path: "services[0].clusterIP",
            says: "cluster IP 10.96.0.10 is already web's, services[0].clusterIP (running); expected one service per cluster IP"),
        Failure("a Service replaced with another's cluster IP", """
            services:
              - {name: api, clusterIP: 10.96.0.20, ports: [{port: 443}]}
              - {name: web, clusterIP: 10.96.0.20, ports: [{port: 80}]}
            """, line: 3, path: "services[1].clusterIP", says: "cluster IP 10.96.0.20 is already api's, services[0].clusterIP (line 2)"),
        Failure("a duplicate within the fragment", """
            services:
              - {name: api, clusterIP: 10.96.0.20, ports: [{port: 443}]}
              - {name: api, clusterIP: 10.96.0.21, ports: [{port: 443}]}
            """, line: 3, path: "services[1].name", says: "duplicate service default/api, also services[0].name (line 2)"),
        Failure("a node port taken by a running Service", """
            nat:
              portMappings: [{proto: tcp, hostPort: 30080, to: 172.17.0.5:80}]
            """, line: 2, path: "nat.portMappings[0].hostPort",
            says: "host port tcp/30080 is already a node port at services[0].ports[0].nodePort (running)"),
        Failure("a masquerade out of an unknown port", """
            nat:
              masquerade:
                - {source: 10.0.0.0/8, out: eth9}
            """, line: 3, path: "nat.masquerade[0].out", says: #"unknown port "eth9" (expected one of: eth0, c1, c2)"#),
        Failure("a bad value", """
            services:
              - {name: api, clusterIP: 10.96.0.300, ports: [{port: 443}]}
            """, line: 2, path: "services[0].clusterIP", says: #"got "10.96.0.300""#),
        Failure("a running port replaced to name an unknown bridge", """
            ports:
              - {name: c1, bridge: nowhere}
            """, line: 2, path: "ports[0].bridge", says: #"unknown bridge "nowhere""#),
    ]

    @Test(arguments: failures)
    func badFragment(_ failure: Failure) throws {
        let running = try designTopology()
        guard let error = applyError(failure.yaml, to: running) else {
            Issue.record("\(failure.rule): applied without an error")
            return
        }
        #expect(error.file == "change.yaml")
        #expect(error.line == failure.line, "\(error)")
        #expect(error.path == failure.path, "\(error)")
        for text in failure.says {
            #expect(error.problem.contains(text), "\(error)")
        }
        let path = failure.path.isEmpty ? "" : " \(failure.path):"
        #expect(error.description == "change.yaml:\(failure.line):\(path) \(error.problem)")
    }

    @Test func aConflictWithARunningObjectNamesItAsRunning() throws {
        // The conflict is reported at the fragment's container, naming the running one.
        let running = try designTopology()
        let error = try #require(applyError("containers: [{name: c9, port: c1}]", to: running))
        #expect(error.description == #"change.yaml:1: containers[0].port: port "c1" is already container c1's, containers[0].port (running); expected one container per port"#)
    }
}
