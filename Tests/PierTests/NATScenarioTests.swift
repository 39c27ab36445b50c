import Foundation
import Testing
import Wire

/// The conntrack and NAT scenarios (issue 4): captures from fixtures/nat_scenarios.py replayed
/// through fixtures/topologies/nat.yaml; every frame written is decoded by `pier inspect
/// --json` and every checksum checked by tshark (ScenarioTests.replay).
struct NATScenarioTests {
    static func capture(_ name: String) -> String {
        Paths.packageRoot.appendingPathComponent("fixtures/nat/\(name).pcap").path
    }

    /// Replays the scenario `name` (its capture per port in `inputs`), writing every port.
    static func replay(_ name: String, inputs: [String]) throws -> ScenarioTests.Run {
        try ScenarioTests.replay("nat", inputs: Dictionary(uniqueKeysWithValues: inputs.map { ($0, capture("\(name)-\($0)")) }),
                                 ports: ["eth0", "c1", "c2", "c3", "c4"])
    }

    /// `pier replay --config nat.yaml` with `extra` options: its standard output lines.
    static func replayOutput(_ name: String, inputs: [String], _ extra: [String]) throws -> [String] {
        var arguments = ["replay", "--config", ScenarioTests.topology("nat")] + extra
        for port in inputs { arguments += ["--in", "\(port)=\(capture("\(name)-\(port)"))"] }
        let result = try Tool.pier(arguments)
        #expect(result.status == 0, "\(result)")
        return result.lines
    }

    @Test func aContainerReachesOutMasqueradedAndTheConnectionWalksToTimeWaitAndExpires() throws {
        let run = try Self.replay("tcp", inputs: ["c1", "eth0"])
        // On the uplink the source is the node IP (the source port was free: kept).
        let uplink = try #require(run.outputs["eth0"])
        #expect(uplink.count == 6)
        #expect(uplink.allSatisfy { $0["ip.src"]?.text == "192.168.1.25" && $0["ip.dst"]?.text == "198.51.100.7" })
        let segments = uplink.filter { $0["tcp.srcport"] != nil }
        #expect(segments.count == 5)  // the sixth frame is the later UDP datagram
        #expect(segments.allSatisfy { $0["tcp.srcport"]?.integer == 40000 })
        // Replies are translated back to the container.
        let c1 = try #require(run.outputs["c1"])
        #expect(c1.map { $0["tcp.flags"]?.text } == ["0x012", "0x018", "0x011"])
        #expect(c1.allSatisfy { $0["ip.dst"]?.text == "172.17.0.2" && $0["tcp.dstport"]?.integer == 40000 })
        #expect(run.stats["events"]?["snat"]?.integer == 2)
        // TIME_WAIT lasts 120 s: the datagram at 200 s finds it expired (swept by capture time).
        #expect(run.stats["events"]?["conntrack-expired"]?.integer == 1)
        #expect(run.stats["conntrack"]?["entries"]?.integer == 1)

        let trace = try Self.replayOutput("tcp", inputs: ["c1", "eth0"], ["--trace"]).filter { $0.contains("conntrack: tcp ") }
        #expect(trace.map { $0.trimmingCharacters(in: .whitespaces) } == [
            "conntrack: tcp SYN_SENT -> SYN_RECV (reply)",
            "conntrack: tcp SYN_RECV -> ESTABLISHED (original)",
            "conntrack: tcp ESTABLISHED -> FIN_WAIT (original)",
            "conntrack: tcp FIN_WAIT -> LAST_ACK (reply)",
            "conntrack: tcp LAST_ACK -> TIME_WAIT (original)",
        ])
        let dump = try Self.replayOutput("tcp", inputs: ["c1", "eth0"], ["--dump"])
        let start = try #require(dump.firstIndex { $0.hasPrefix("conntrack:") })
        #expect(Array(dump[start...]) == [
            "conntrack: 1 entries",
            "  udp      17 30 src=172.17.0.2 dst=198.51.100.7 sport=40001 dport=53 [UNREPLIED] src=198.51.100.7 dst=192.168.1.25 sport=53 dport=40001",
        ])
    }

    @Test func threeContainersFromTheSameSourcePortGetThreeNodePorts() throws {
        let run = try Self.replay("three", inputs: ["c1", "c2", "c3", "eth0"])
        let uplink = try #require(run.outputs["eth0"])
        let ports = uplink.compactMap { $0["tcp.srcport"]?.integer }
        #expect(ports.count == 3)
        #expect(Set(ports).count == 3)
        #expect(ports.first == 5000)  // the first keeps its port, as Linux does when it is free
        #expect(uplink.allSatisfy { $0["ip.src"]?.text == "192.168.1.25" })
        // The reply to port 5000 reaches c1, and only c1.
        #expect(run.outputs["c1"]?.map { $0["tcp.dstport"]?.integer } == [5000])
        #expect(run.outputs["c2"]?.isEmpty == true)
        #expect(run.outputs["c3"]?.isEmpty == true)
    }

    @Test func aPublishedPortReachesTheContainerAndItsRepliesLeaveAsTheNode() throws {
        let run = try Self.replay("published", inputs: ["eth0", "c1", "c2"])
        let c1 = try #require(run.outputs["c1"])
        #expect(c1.count == 2)
        #expect(c1.allSatisfy { $0["ip.dst"]?.text == "172.17.0.2" && $0["tcp.dstport"]?.integer == 80 && $0["ip.src"]?.text == "203.0.113.9" })
        let c2 = try #require(run.outputs["c2"])
        #expect(c2.map { $0["udp.dstport"]?.integer } == [53])
        let uplink = try #require(run.outputs["eth0"])
        #expect(uplink.count == 2)
        #expect(uplink.first?["ip.src"]?.text == "192.168.1.25")
        #expect(uplink.first?["tcp.srcport"]?.integer == 8080)
        #expect(uplink.first?["tcp.flags"]?.text == "0x012")
        // c2's port unreachable about the published UDP datagram leaves as the node's,
        // quoting the datagram the client sent (to the node, port 5353).
        let error = try #require(uplink.last)
        #expect(error["icmp.type"]?.integer == 3)
        #expect(error["ip.src"]?.text == "192.168.1.25")
        #expect(error["ip.dst"]?.text == "203.0.113.9")
        #expect(error["inner"]?["ip.src"]?.text == "203.0.113.9")
        #expect(error["inner"]?["ip.dst"]?.text == "192.168.1.25")
        #expect(error["inner"]?["udp.dstport"]?.integer == 5353)
        #expect(run.stats["events"]?["dnat"]?.integer == 2)
        #expect(run.stats["events"]?["icmp-related-translated"]?.integer == 1)
    }

    @Test func aServiceSpreadsConnectionsKeepsAffinityAndRejectsWithoutEndpoints() throws {
        let run = try Self.replay("service", inputs: ["c4"])
        // 300 connections to web: no endpoint above 40 %.
        var perEndpoint: [String: Int] = [:]
        var sticky: Set<String> = []
        for port in ["c1", "c2", "c3"] {
            for frame in try #require(run.outputs[port]) {
                #expect(frame["tcp.dstport"]?.integer == 8080)
                // Pod to its Service on the same bridge: DNATed, not masqueraded (kube-proxy
                // masquerades only a pod reaching itself); the endpoint sees c4's address.
                #expect(frame["ip.src"]?.text == "172.17.0.5")
                if let source = frame["tcp.srcport"]?.integer, source >= 31000 { sticky.insert(port) } else {
                    perEndpoint[port, default: 0] += 1
                }
            }
        }
        #expect(perEndpoint.values.reduce(0, +) == 300)
        #expect(perEndpoint.count == 3)
        #expect(perEndpoint.values.allSatisfy { $0 <= 120 }, "\(perEndpoint)")
        // ClientIP affinity: five connections, one endpoint.
        #expect(sticky.count == 1)
        // The Service without endpoints: ICMP port unreachable quoting the datagram.
        let c4 = try #require(run.outputs["c4"])
        #expect(c4.count == 1)
        #expect(c4.first?["icmp.type"]?.integer == 3)
        #expect(c4.first?["icmp.code"]?.integer == 3)
        #expect(c4.first?["inner"]?["ip.dst"]?.text == "10.96.0.13")
        #expect(run.stats["drops"]?["service-no-endpoints"]?.integer == 1)
    }

    @Test func aNodePortReachesAnEndpointMasqueradedToTheBridge() throws {
        let run = try Self.replay("nodeport", inputs: ["eth0"])
        let delivered = ["c1", "c2", "c3"].flatMap { run.outputs[$0] ?? [] }
        #expect(delivered.count == 1)
        #expect(delivered.first?["tcp.dstport"]?.integer == 8080)
        #expect(delivered.first?["ip.src"]?.text == "172.17.0.1")
    }

    @Test func hairpinComesBackThroughPier() throws {
        let run = try Self.replay("hairpin", inputs: ["c1"])
        let c1 = try #require(run.outputs["c1"])
        #expect(c1.count == 2)
        // c1 to its own Service: to itself, from the bridge address.
        #expect(c1.first?["ip.src"]?.text == "172.17.0.1")
        #expect(c1.first?["ip.dst"]?.text == "172.17.0.2")
        #expect(c1.first?["tcp.dstport"]?.integer == 8080)
        // Its answer to the bridge address comes back as the Service.
        #expect(c1.last?["ip.src"]?.text == "10.96.0.12")
        #expect(c1.last?["tcp.srcport"]?.integer == 80)
        #expect(c1.last?["tcp.dstport"]?.integer == 33000)
    }

    @Test func icmpErrorsAboutTranslatedDatagramsComeBackTranslated() throws {
        let run = try Self.replay("related", inputs: ["c1", "eth0"])
        let c1 = try #require(run.outputs["c1"])
        #expect(c1.map { $0["icmp.type"]?.integer } == [3, 11, 0])
        #expect(c1.allSatisfy { $0["ip.dst"]?.text == "172.17.0.2" })
        #expect(c1[0]["inner"]?["ip.src"]?.text == "172.17.0.2")
        #expect(c1[0]["inner"]?["udp.srcport"]?.integer == 45000)
        #expect(run.stats["events"]?["icmp-related-translated"]?.integer == 2)
        // Independent oracle: each translated quote is byte for byte what c1 sent (its IP
        // header and first 8 bytes), checksums of the quoted headers included; the quoted UDP
        // checksum of zero stayed zero.
        let directory = try TemporaryDirectory()
        _ = try Self.replayOutput("related", inputs: ["c1", "eth0"], ["--out", "c1=\(directory.path("c1.pcap"))"])
        let sent = try readRecords(Self.capture("related-c1")).records.map(\.bytes)
        let received = try readRecords(directory.path("c1.pcap")).records.map(\.bytes)
        #expect(received.count == 3)
        for (error, original) in zip(received.prefix(2), sent.prefix(2)) {
            let quote = Array(error[(14 + 20 + 8)...].prefix(28))
            #expect(quote == Array(original[14...].prefix(28)))
        }
        #expect(received[1][14 + 20 + 8 + 20 + 6] == 0 && received[1][14 + 20 + 8 + 20 + 7] == 0)
    }

    @Test func anACKOrRSTWithoutAConnectionIsDropped() throws {
        let run = try Self.replay("invalid", inputs: ["c1"])
        #expect(run.outputs["eth0"]?.isEmpty == true)
        #expect(run.stats["drops"]?["conntrack-invalid"]?.integer == 2)
        #expect(run.stats["conntrack"]?["entries"]?.integer == 0)
    }

    /// With `conntrack: {invalid: accept}` the same ACK and RST pass untranslated (the
    /// container's own address leaves the uplink, as Linux forwards an INVALID packet when no
    /// rule drops it), counted as accepted.
    @Test func anInvalidPacketPassesUntranslatedWhenTheTopologyAcceptsThem() throws {
        let directory = try TemporaryDirectory()
        let original = try String(contentsOfFile: ScenarioTests.topology("nat"), encoding: .utf8)
        #expect(original.contains("conntrack: {capacity: 65536}\n"))
        let topology = try directory.write(Array(original.replacingOccurrences(
            of: "conntrack: {capacity: 65536}\n", with: "conntrack: {capacity: 65536, invalid: accept}\n").utf8), to: "nat-accept.yaml")
        let stats = directory.path("stats.json"), uplink = directory.path("eth0.pcap")
        let result = try Tool.pier(["replay", "--config", topology, "--in", "c1=\(Self.capture("invalid-c1"))",
                                    "--out", "eth0=\(uplink)", "--stats-json", stats])
        #expect(result.status == 0, "\(result)")
        let frames = try Tool.inspectJSON(uplink)
        #expect(frames.count == 2)
        #expect(frames.allSatisfy { $0["ip.src"]?.text == "172.17.0.2" && $0["ip.ttl"]?.integer == 63 })
        try ScenarioTests.expectChecksumsGood(uplink)
        let json = try JSON.parse(String(decoding: try fileBytes(stats), as: UTF8.self))
        #expect(json["events"]?["conntrack-invalid-accepted"]?.integer == 2, "\(json)")
        #expect(json["drops"]?["conntrack-invalid"] == nil)
    }
}
