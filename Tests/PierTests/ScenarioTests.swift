import Foundation
import Testing

/// The L2/L3 scenarios: captures from fixtures/scenarios.py replayed through the topologies in
/// fixtures/topologies; what leaves each port is read back with `pier inspect --json` and every
/// checksum is checked by tshark.
struct ScenarioTests {
    /// A finished replay: each port's output frames (JSON) and the stats.
    struct Run {
        var outputs: [String: [JSON]]
        var stats: JSON
        var files: [String: String]
        /// Holds the output files until the run goes away.
        var directory: TemporaryDirectory
    }

    static func scenario(_ name: String) -> String {
        Paths.packageRoot.appendingPathComponent("fixtures/scenarios/\(name).pcap").path
    }

    static func topology(_ name: String) -> String {
        Paths.packageRoot.appendingPathComponent("fixtures/topologies/\(name).yaml").path
    }

    /// Replays `inputs` (port → capture) through `topology`, writing every port in `ports`.
    static func replay(_ topology: String, inputs: [String: String], ports: [String]) throws -> Run {
        let directory = try TemporaryDirectory()
        var arguments = ["replay", "--config", Self.topology(topology), "--stats-json", directory.path("stats.json")]
        for (port, file) in inputs.sorted(by: { $0.key < $1.key }) { arguments += ["--in", "\(port)=\(file)"] }
        var files: [String: String] = [:]
        for port in ports {
            files[port] = directory.path("\(port).pcap")
            arguments += ["--out", "\(port)=\(directory.path("\(port).pcap"))"]
        }
        let result = try Tool.pier(arguments)
        #expect(result.status == 0, "\(result)")
        var outputs: [String: [JSON]] = [:]
        for (port, file) in files {
            outputs[port] = try Tool.inspectJSON(file)
            try expectChecksumsGood(file)
        }
        let stats = try JSON.parse(String(decoding: try fileBytes(directory.path("stats.json")), as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines))
        return Run(outputs: outputs, stats: stats, files: files, directory: directory)
    }

    /// tshark finds no bad IP, ICMP, UDP or TCP checksum in `file`.
    static func expectChecksumsGood(_ file: String) throws {
        _ = try #require(Tool.tshark, "tshark is not installed (make test-deps installs it): the checksum oracle cannot run")
        let fields = ["ip.checksum.status", "icmp.checksum.status", "udp.checksum.status", "tcp.checksum.status"]
        for (index, frame) in try Tool.tsharkFields(file, fields).enumerated() {
            for (field, values) in zip(fields, frame) {
                #expect(!values.contains("0"), "\(file) frame \(index + 1): tshark says \(field) is bad")
            }
        }
    }

    @Test func twoContainersPingEachOtherAndTheGateway() throws {
        let run = try Self.replay("two-containers",
                                  inputs: ["c1": Self.scenario("ping-c1"), "c2": Self.scenario("ping-c2")],
                                  ports: ["eth0", "c1", "c2", "c3"])
        // c2 sees the ARP broadcast, the unicast echo request, and c1's ARP for the gateway.
        let c2 = try #require(run.outputs["c2"])
        #expect(c2.map { $0["arp.opcode"]?.integer ?? $0["icmp.type"]?.integer ?? -1 } == [1, 8, 1])
        // c3 sees only the two broadcasts: unicast between c1 and c2 went to one port.
        #expect(run.outputs["c3"]?.map { $0["arp.opcode"]?.integer } == [1, 1])
        // c1: c2's ARP reply and echo reply, the gateway's echo reply and ARP reply, and an
        // ICMP time exceeded for the TTL-1 packet.
        let c1 = try #require(run.outputs["c1"])
        #expect(c1.count == 5)
        let fromGateway = c1.filter { $0["eth.src"]?.text == "02:42:ac:11:00:01" }
        #expect(fromGateway.contains { $0["arp.opcode"]?.integer == 2 && $0["arp.src.proto_ipv4"]?.text == "172.17.0.1" })
        #expect(fromGateway.contains { $0["icmp.type"]?.integer == 0 && $0["ip.src"]?.text == "172.17.0.1" })
        #expect(fromGateway.contains { $0["icmp.type"]?.integer == 11 && $0["ip.dst"]?.text == "172.17.0.2" })
        // Off-node traffic leaves the uplink routed: TTL 63, the gateway's MAC, the node's MAC.
        let uplink = try #require(run.outputs["eth0"])
        #expect(uplink.count == 1)
        #expect(uplink.first?["ip.ttl"]?.integer == 63)
        #expect(uplink.first?["eth.dst"]?.text == "02:00:c0:a8:01:01")
        #expect(uplink.first?["eth.src"]?.text == "02:00:c0:a8:01:19")
        #expect(uplink.first?["ip.checksum.status"]?.text == "good")
        #expect(run.stats["drops"]?["ttl-exceeded"]?.integer == 1)
    }

    @Test func entriesAgeByCaptureTime() throws {
        let run = try Self.replay("two-containers",
                                  inputs: ["c1": Self.scenario("ageing-c1"), "c2": Self.scenario("ageing-c2")],
                                  ports: ["c1", "c2", "c3"])
        // At t=10 c2's MAC is known (one port); at t=400 it has aged out (ageing 300): flooded.
        #expect(run.outputs["c2"]?.map { $0["frame.time_epoch"]?.text } == ["1795392010.000000000", "1795392400.000000000"])
        #expect(run.outputs["c3"]?.map { $0["frame.time_epoch"]?.text } == ["1795392000.000000000", "1795392400.000000000"])
    }

    @Test func aStationThatMovesIsRelearned() throws {
        let run = try Self.replay("two-containers",
                                  inputs: ["c1": Self.scenario("move-c1"), "c2": Self.scenario("move-c2"),
                                           "c3": Self.scenario("move-c3")],
                                  ports: ["c1", "c2", "c3"])
        // c3's frame to the station (t=2) goes to c2, where it was last seen, and not to c1.
        #expect(run.outputs["c2"]?.last?["frame.time_epoch"]?.text == "1795392002.000000000")
        #expect(run.outputs["c1"]?.contains { $0["frame.time_epoch"]?.text == "1795392002.000000000" } == false)
        #expect(run.stats["events"]?["fdb-moved"]?.integer == 1)
    }

    @Test func aMACFloodBeyondCapacityIsCountedAndForwardingGoesOn() throws {
        let run = try Self.replay("small-fdb",
                                  inputs: ["c1": Self.scenario("flood-c1"), "c2": Self.scenario("flood-c2")],
                                  ports: ["c1", "c2", "c3"])
        #expect(run.stats["events"]?["fdb-learned"]?.integer == 16)
        #expect(run.stats["events"]?["fdb-full"]?.integer == 85)  // 84 flood sources and c2 itself
        // Every flood frame still reached c2 and c3; c2's frame to a learned station went to c1 only.
        #expect(run.outputs["c2"]?.count == 100)
        #expect(run.outputs["c3"]?.count == 100)
        #expect(run.outputs["c1"]?.count == 1)
    }

    @Test func noRouteAnswersDestinationUnreachable() throws {
        let run = try Self.replay("isolated", inputs: ["c1": Self.scenario("noroute-c1")], ports: ["c1", "c2"])
        let c1 = try #require(run.outputs["c1"])
        #expect(c1.count == 1)
        #expect(c1.first?["icmp.type"]?.integer == 3)
        #expect(c1.first?["icmp.code"]?.integer == 0)
        #expect(c1.first?["ip.src"]?.text == "172.17.0.1")
        #expect(c1.first?["inner"]?["ip.dst"]?.text == "198.51.100.7")
        #expect(run.stats["drops"]?["no-route"]?.integer == 1)
    }

    @Test func anUnresolvedNextHopIsAskedForAndItsFrameHeldUntilTheReply() throws {
        let run = try Self.replay("no-neighbor",
                                  inputs: ["c1": Self.scenario("hold-c1"), "eth0": Self.scenario("hold-eth0")],
                                  ports: ["eth0", "c1"])
        let uplink = try #require(run.outputs["eth0"])
        // First the ARP request for the gateway, then the held packet, routed, once it answered.
        #expect(uplink.count == 2)
        #expect(uplink.first?["arp.opcode"]?.integer == 1)
        #expect(uplink.first?["arp.dst.proto_ipv4"]?.text == "192.168.1.1")
        #expect(uplink.first?["arp.src.proto_ipv4"]?.text == "192.168.1.25")
        #expect(uplink.last?["eth.dst"]?.text == "02:00:c0:a8:01:01")
        #expect(uplink.last?["ip.ttl"]?.integer == 63)
        #expect(run.stats["events"]?["held"]?.integer == 1)
        #expect(run.stats["events"]?["released"]?.integer == 1)
    }

    /// Malformed third-party frames entering a bridge port: each dropped under a named reason,
    /// and the bridge learns nothing from them.
    @Test(arguments: [
        ("tcpdump__ipv4_invalid_hdr_length.pcap", "malformed-ipv4"),
        ("tcpdump__ipv4_invalid_total_length.pcap", "malformed-ipv4"),
        ("tcpdump__arp-too-long-tha.pcap", "malformed-arp"),
    ])
    func malformedFramesAreDroppedAndLearnNothing(capture: String, reason: String) throws {
        let run = try Self.replay("two-containers", inputs: ["c1": Paths.capture(capture)], ports: ["c2"])
        #expect(run.stats["drops"]?[reason]?.integer == 1, "\(run.stats)")
        #expect(run.stats["fdb"]?["docker0"]?["entries"]?.integer == 0)
        #expect(run.outputs["c2"]?.isEmpty == true)
    }
}
