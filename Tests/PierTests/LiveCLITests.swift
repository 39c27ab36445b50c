import Foundation
import Testing

/// The live verbs' bad usage and failures, which need no root: exit 2 for bad input, exit 1
/// for a runtime failure, one line on stderr each.
struct LiveCLITests {
    static let topology = Paths.packageRoot.appendingPathComponent("fixtures/topologies/live-demo.yaml").path

    @Test func switchWithAMissingTopology() throws {
        let result = try Tool.pier("switch", "--config", "/nonexistent/plv.yaml")
        #expect(result.status == 2)
        #expect(result.errorLines == ["pier: /nonexistent/plv.yaml: no such file"], "\(result)")
    }

    @Test func captureOfAPortTheTopologyLacks() throws {
        let result = try Tool.pier("switch", "--config", Self.topology, "--capture", "zz=/tmp/plv-never.pcap")
        #expect(result.status == 2)
        #expect(result.errorLines == ["pier: --capture zz=…: \(Self.topology) has no port zz (ports: c1, c2)"], "\(result)")
    }

    @Test func topologyWithoutTapPorts() throws {
        let path = Paths.packageRoot.appendingPathComponent("fixtures/topologies/isolated.yaml").path
        let result = try Tool.pier("switch", "--config", path)
        #expect(result.status == 2)
        #expect(result.errorLines == ["pier: \(path): no port has a tap: device to serve"], "\(result)")
    }

    @Test func fdbWithNoSwitchForTheNode() throws {
        let result = try Tool.pier("fdb", "--node", "plv-nobody")
        #expect(result.status == 1)
        #expect(result.errorLines.count == 1 && result.errorLines[0].hasPrefix("pier: /run/pier/plv-nobody.sock: "), "\(result)")
    }

    @Test func negativeStatsInterval() throws {
        let result = try Tool.pier("switch", "--config", Self.topology, "--stats-interval", "-1")
        #expect(result.status == 2, "\(result)")
        #expect(result.errorLines.count == 1, "\(result)")
    }
}
