import Testing
import Topology

/// `pier delete` and SIGHUP's reload.
struct DeleteReloadTests {
    /// One delete and the changes it must make to `everyKey`'s topology.
    struct Case: CustomTestStringConvertible, Sendable {
        let kind: ObjectKind
        let name: String
        let changes: [String]
        var testDescription: String { "\(kind) \(name)" }
        init(_ kind: ObjectKind, _ name: String, _ changes: String...) {
            self.kind = kind
            self.name = name
            self.changes = changes
        }
    }

    static let deletes: [Case] = [
        Case(.port, "c5", "removed port c5"),
        Case(.container, "c6", "removed container c6"),
        Case(.bridge, "empty0", "removed bridge empty0"),
        Case(.neighbor, "fd00:1:0::1", "removed neighbor fd00:1::1"),
        Case(.service, "headless", "removed service default/headless"),
        Case(.service, "shop/web", "removed service shop/web"),
        Case(.portmapping, "3306", "removed portmapping tcp/3306"),
        Case(.portmapping, "udp/53", "removed portmapping udp/53"),
        Case(.masquerade, "172.17.0.0/16", "removed masquerade 172.17.0.0/16"),
        Case(.peer, "node-c", "removed peer node-c"),
        Case(.overlay, "", "removed peer node-b", "removed peer node-c", "removed overlay"),
    ]

    @Test(arguments: deletes)
    func deletesEachKind(_ delete: Case) throws {
        let running = try Topology.parse(yaml: everyKey, file: "every.yaml")
        let (result, changes) = try running.deleting(delete.kind, name: delete.name)
        #expect(changes.map(\.description) == delete.changes)
        // Gone: deleting it again is an error.
        #expect(deleteError(result, delete.kind, delete.name) != nil)
        #expect(deleteError(running, delete.kind, delete.name) == nil)
    }

    @Test func deletingAPortTakesItOutOfItsBridge() throws {
        let running = try Topology.parse(yaml: everyKey, file: "every.yaml")
        // c4 is docker0's by its own bridge: key and has a permanent FDB entry there.
        let (result, changes) = try running.deleting(.port, name: "c4")
        #expect(changes.map(\.description) == ["removed port c4", "replaced bridge docker0"])
        #expect(result.bridges[0].fdbStatic.isEmpty)
        #expect(result.ports(ofBridge: "docker0") == ["c1", "c2", "c5"])
    }

    @Test func deletingAPortAContainerUsesIsAnError() throws {
        let running = try designTopology()
        #expect(throws: ConfigError(file: "delete", line: 0, path: "containers[1].port (running)",
                                    problem: #"unknown port "c2" (expected one of: eth0, c1) (after deleting port "c2": delete or change what refers to it first)"#)) {
            try running.deleting(.port, name: "c2")
        }
        let (withoutContainer, _) = try running.deleting(.container, name: "c2")
        let (result, changes) = try withoutContainer.deleting(.port, name: "c2")
        #expect(changes.map(\.description) == ["removed port c2", "replaced bridge docker0"])
        #expect(result.bridges[0].ports == ["c1"])
    }

    @Test func deletingWhatIsNotThereIsAnError() throws {
        let running = try designTopology()
        #expect(throws: ConfigError(file: "delete", line: 0, path: "ports",
                                    problem: #"no port "c9" to delete (expected one of: eth0, c1, c2)"#)) {
            try running.deleting(.port, name: "c9")
        }
        #expect(throws: ConfigError(file: "delete", line: 0, path: "services",
                                    problem: #"no service "default/api" to delete (expected one of: default/web)"#)) {
            try running.deleting(.service, name: "api")
        }
        let error = try #require(deleteError(running, .conntrack, ""))
        #expect(error.description.hasPrefix("delete: conntrack: the conntrack settings cannot be deleted"))
        var bare = running
        bare.overlay = nil
        #expect(deleteError(bare, .overlay, "")?.description == "delete: overlay: there is no overlay to delete")
        #expect(deleteError(bare, .peer, "node-b")?.description == #"delete: overlay.peers: no peer "node-b" to delete (there are none)"#)
    }

    /// The file before and after an edit, and a running topology that `pier apply` changed.
    static let edited = designExample
        .replacingOccurrences(of: "  - {ip: 192.168.1.1, mac: 02:00:c0:a8:01:01}\n", with: "")
        .replacingOccurrences(of: "    endpoints: [10.244.1.5, 10.244.2.7]", with: "    endpoints: [10.244.1.5]")
        .replacingOccurrences(of: "  - name: c2\n    tap: pier-c2\n", with: "  - name: c2\n    tap: pier-c2\n  - {name: c4, bridge: docker0, tap: pier-c4}\n")

    @Test func reloadAppliesTheDifferenceOnly() throws {
        let old = try designTopology()
        let (running, _) = try old.applying(yaml: "services: [{name: extra, clusterIP: 10.96.0.99, ports: [{port: 53, proto: udp}]}]",
                                            file: "apply.yaml")
        let (result, file, changes) = try running.reloading(from: old, yaml: Self.edited, file: "topo.yaml")
        #expect(changes.map(\.description) == ["added port c4", "removed neighbor 192.168.1.1", "replaced service default/web"])
        #expect(file == (try Topology.parse(yaml: Self.edited, file: "topo.yaml")))
        #expect(result.services.map(\.name) == ["web", "extra"], "the object pier apply added stays")
        #expect(result.services[0].endpoints.count == 1)
        #expect(result.neighbors.isEmpty)
        #expect(result.ports(ofBridge: "docker0") == ["c1", "c2", "c4"])
        // The same through values, and a reload with nothing edited is no change.
        #expect(try running.reloading(from: old, to: file).changes == changes)
        #expect(try result.reloading(from: file, to: file).changes.isEmpty)
    }

    @Test func reloadKeepsWhatApplyReplacedUnlessTheFileChangedIt() throws {
        let old = try designTopology()
        let (running, _) = try old.applying(yaml: "conntrack: {capacity: 10}", file: "apply.yaml")
        #expect(try running.reloading(from: old, to: old).topology.conntrack.capacity == 10)
        var new = old
        new.conntrack.capacity = 20
        let (result, changes) = try running.reloading(from: old, to: new)
        #expect(changes.map(\.description) == ["replaced conntrack"])
        #expect(result.conntrack.capacity == 20)
    }

    @Test func reloadErrorsPointIntoTheFile() throws {
        let old = try designTopology()
        let (running, _) = try old.applying(yaml: "services: [{name: extra, clusterIP: 10.96.0.99, ports: [{port: 53}]}]", file: "apply.yaml")
        let text = designExample.replacingOccurrences(
            of: "    sessionAffinity: None       # or ClientIP\n",
            with: "    sessionAffinity: None       # or ClientIP\n  - {name: other, clusterIP: 10.96.0.99, ports: [{port: 80}]}\n")
        let line = text.split(separator: "\n", omittingEmptySubsequences: false).firstIndex { $0.contains("name: other") }.map { $0 + 1 }
        do {
            _ = try running.reloading(from: old, yaml: text, file: "topo.yaml")
            Issue.record("reloaded without an error")
        } catch {
            #expect(error.line == line)
            #expect(error.path == "services[1].clusterIP")
            #expect(error.problem == "cluster IP 10.96.0.99 is already extra's, services[1].clusterIP (running); expected one service per cluster IP")
        }
        #expect(throws: ConfigError.self) { try running.reloading(from: old, yaml: "node: [", file: "topo.yaml") }
        var renamed = old
        renamed.node = "node-z"
        #expect(throws: ConfigError.self) { try running.reloading(from: old, to: renamed) }
    }
}

/// The error that deleting `kind` `name` from `running` throws, or nil.
private func deleteError(_ running: Topology, _ kind: ObjectKind, _ name: String) -> ConfigError? {
    do {
        _ = try running.deleting(kind, name: name)
        return nil
    } catch {
        return error
    }
}
