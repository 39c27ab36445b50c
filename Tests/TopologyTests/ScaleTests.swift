import Foundation
import Testing
import Topology
import Wire

/// A node with 10,000 Services: one more is applied, and the whole file loads, without any
/// check that compares every pair. Timings are printed, not asserted: this is a debug build.
/// Measured in a release build (best of several runs, 2 shared cores): applying one Service
/// 3.7 ms, deleting one 6.9 ms, a reload with one fewer 23 ms, loading or applying the whole
/// 1.8 MB file 0.92-0.94 s (a quarter of it Yams composing the document, a tenth parsing
/// IPv4 addresses), `yaml()` of it 0.43 s.
struct ScaleTests {
    static let count = 10_000

    /// DESIGN.md's example with `count` Services, each with its own cluster IP and node port.
    static func manyServices() throws -> Topology {
        var topology = try designTopology()
        topology.services = (0..<count).map { index in
            ServiceConfig(name: "svc-\(index)", clusterIP: IPv4Address(rawValue: 0x0A60_0000 + UInt32(index) + 100),
                          ports: [ServicePort(port: 80, targetPort: 8080, nodePort: index < 2000 ? UInt16(30100 + index) : nil)],
                          endpoints: [IPv4Address(10, 244, 1, 5)])
        }
        return topology
    }

    @Test func oneServiceAppliedAmongTenThousand() throws {
        let running = try Self.manyServices()
        let fragment = "services: [{name: api, clusterIP: 10.97.0.1, ports: [{port: 443, nodePort: 29000}]}]"
        let start = ContinuousClock.now
        let (result, changes) = try running.applying(yaml: fragment, file: "change.yaml")
        let elapsed = ContinuousClock.now - start
        print("note: applying one Service to \(Self.count): \(elapsed)")
        #expect(changes.map(\.description) == ["added service default/api"])
        #expect(result.services.count == Self.count + 1)
        // A clash with the last of them is still found, and placed.
        let clash = "services: [{name: api, clusterIP: \(running.services.last?.clusterIP.description ?? ""), ports: [{port: 443}]}]"
        #expect(applyError(clash, to: running)?.description
                == "change.yaml:1: services[0].clusterIP: cluster IP 10.96.39.115 is already svc-9999's, services[9999].clusterIP (running); expected one service per cluster IP")
    }

    @Test func tenThousandServicesLoadAndReload() throws {
        let topology = try Self.manyServices()
        let text = topology.yaml()
        var start = ContinuousClock.now
        let loaded = try Topology.parse(yaml: text, file: "big.yaml")
        print("note: loading \(Self.count) Services (\(text.utf8.count) bytes): \(ContinuousClock.now - start)")
        #expect(loaded == topology)
        start = ContinuousClock.now
        let (result, changes) = try topology.applying(yaml: text, file: "big.yaml")
        print("note: applying the same \(Self.count) Services: \(ContinuousClock.now - start)")
        #expect(changes.isEmpty && result == topology)
        var edited = topology
        edited.services.removeFirst()
        start = ContinuousClock.now
        let reload = try topology.reloading(from: topology, to: edited)
        print("note: reloading with one Service fewer: \(ContinuousClock.now - start)")
        #expect(reload.changes.map(\.description) == ["removed service default/svc-0"])
    }
}
