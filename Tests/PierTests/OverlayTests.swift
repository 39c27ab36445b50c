import Foundation
import Testing

/// The overlay (issue 5) end to end: captures from fixtures/overlay_scenarios.py and a
/// third-party VXLAN capture replayed through the node topologies; tshark (told 8472 is VXLAN)
/// decodes and checksums what leaves, and the inner frames are compared byte for byte with
/// what went in.
struct OverlayTests {
    /// The directory every replay of one test writes into, kept until the test ends.
    let directory: TemporaryDirectory

    init() throws { directory = try TemporaryDirectory() }

    /// A finished replay: each port's output file and the stats.
    struct Run {
        var files: [String: String]
        var stats: JSON
    }

    /// Replays `inputs` (port → capture) through `topology`, writing every port in `ports`
    /// under `name` in the test's directory; tshark checks every checksum of every output.
    func replay(_ topology: String, _ name: String, inputs: [String: String], ports: [String]) throws -> Run {
        let stats = directory.path("\(name)-stats.json")
        var arguments = ["replay", "--config", ScenarioTests.topology(topology), "--stats-json", stats]
        for (port, file) in inputs.sorted(by: { $0.key < $1.key }) { arguments += ["--in", "\(port)=\(file)"] }
        var files: [String: String] = [:]
        for port in ports {
            files[port] = directory.path("\(name)-\(port).pcap")
            arguments += ["--out", "\(port)=\(directory.path("\(name)-\(port).pcap"))"]
        }
        let result = try Tool.pier(arguments)
        #expect(result.status == 0, "\(result)")
        for file in files.values { try ScenarioTests.expectChecksumsGood(file) }
        let json = try JSON.parse(String(decoding: try fileBytes(stats), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
        return Run(files: files, stats: json)
    }

    static func overlayCapture(_ name: String) -> String {
        Paths.packageRoot.appendingPathComponent("fixtures/overlay/\(name).pcap").path
    }

    /// The bytes of `frame` with the fields routing may change blanked: the MACs, and the IPv4
    /// TTL and header checksum of an untagged frame.
    static func routingInvariant(_ frame: [UInt8]) -> [UInt8] {
        var bytes = frame
        for index in 0..<12 { bytes[index] = 0 }
        bytes[14 + 8] = 0
        bytes[14 + 10] = 0
        bytes[14 + 11] = 0
        return bytes
    }

    /// True when the IPv4 packet at `ip` in `frame` is a fragment (MF or an offset).
    static func isFragment(_ frame: [UInt8], ip: Int) -> Bool {
        (UInt16(frame[ip + 6]) << 8 | UInt16(frame[ip + 7])) & 0x3FFF != 0
    }

    /// The IPv4 fragments at `ip` in `frames`, glued back: the first one's bytes up to its
    /// payload, then every payload at its offset (the length and flag fields left as they were).
    static func glued(_ frames: [[UInt8]], ip: Int) -> [UInt8] {
        var payload: [UInt8] = []
        var header: [UInt8] = []
        for frame in frames.sorted(by: { ($0[ip + 6] & 0x1F, $0[ip + 7]) < ($1[ip + 6] & 0x1F, $1[ip + 7]) }) {
            let headerEnd = ip + Int(frame[ip] & 0x0F) * 4
            let total = Int(frame[ip + 2]) << 8 | Int(frame[ip + 3])
            if header.isEmpty { header = Array(frame[0..<headerEnd]) }
            payload += frame[headerEnd..<(ip + total)]
        }
        return header + payload
    }

    /// The 1451-byte packet without DF that pod-a sends to node-b's pod (fragmented for the tunnel).
    static func tooBigWithoutDF() throws -> [UInt8] {
        try #require(try readRecords(overlayCapture("pod-a")).records.map(\.bytes).first { $0.count == 14 + 1451 && $0[14 + 6] & 0x40 == 0 })
    }

    /// `routingInvariant` of a glued packet, with the length and fragment fields blanked too.
    static func gluedInvariant(_ frame: [UInt8]) -> [UInt8] {
        var bytes = routingInvariant(frame)
        for index in [14 + 2, 14 + 3, 14 + 6, 14 + 7] { bytes[index] = 0 }
        return bytes
    }

    /// The input frames of pod-a.pcap that node-a must encapsulate, in order: every IPv4 frame
    /// no longer than the MTU (1450 bytes of IPv4).
    static func encapsulatedInputs() throws -> [[UInt8]] {
        try readRecords(overlayCapture("pod-a")).records.map(\.bytes)
            .filter { $0[12] == 0x08 && $0[13] == 0x00 && $0.count - 14 <= 1450 }
    }

    @Test func nodeAEncapsulatesAsFlannelDoes() throws {
        let run = try replay("node-a", "a", inputs: ["pod1": Self.overlayCapture("pod-a")], ports: ["eth0", "pod1", "pod2"])
        let uplink = try #require(run.files["eth0"])
        let fields = ["eth.dst", "eth.src", "ip.src", "ip.dst", "udp.srcport", "udp.dstport", "udp.checksum", "vxlan.vni",
                      "ip.ttl", "ip.checksum.status"]
        let frames = try Tool.tsharkFields(uplink, fields)
        let inputs = try Self.encapsulatedInputs()
        // Thirteen packets whole, and the 1451-byte one without DF in two fragments (1444 and 27
        // bytes: 1,424 bytes of payload, the most under the 1450 MTU in multiples of 8).
        #expect(frames.count == inputs.count + 2)
        #expect(frames.count == 15)
        var ports: [Int] = []
        for (index, frame) in frames.enumerated() {
            let value = Dictionary(uniqueKeysWithValues: zip(fields, frame))
            let toNodeC = value["ip.dst"]?.last?.hasPrefix("10.244.3.") == true
            // Outer: to the peer itself on the uplink's subnet, else to the gateway.
            #expect(value["eth.dst"]?.first == (toNodeC ? "02:00:c0:a8:01:01" : "02:00:c0:a8:01:1e"), "frame \(index + 1)")
            #expect(value["eth.src"] == ["02:00:c0:a8:01:19", "02:aa:00:00:00:01"], "frame \(index + 1)")
            #expect(value["eth.dst"]?.last == (toNodeC ? "02:aa:00:00:00:03" : "02:aa:00:00:00:02"), "frame \(index + 1)")
            #expect(value["ip.src"]?.first == "192.168.1.25")
            #expect(value["ip.dst"]?.first == (toNodeC ? "192.168.9.40" : "192.168.1.30"))
            #expect(value["udp.dstport"]?.first == "8472")
            #expect(value["udp.checksum"]?.first == "0x0000")
            #expect(value["vxlan.vni"] == ["1"])
            #expect(value["ip.ttl"] == ["64", "63"], "outer TTL 64, inner TTL decremented once")
            #expect(value["ip.checksum.status"]?.allSatisfy { $0 == "1" } == true, "frame \(index + 1): tshark says an IPv4 checksum is bad")
            let port = try #require(value["udp.srcport"]?.first.flatMap { Int($0) })
            #expect((49152...65535).contains(port))
            ports.append(port)
        }
        // One flow keeps one port (the first and last ping); the eight UDP flows spread.
        #expect(ports.first == ports.last)
        #expect(Set(ports[1...8]).count >= 5)
        // The inner frame is the input frame apart from MACs, TTL and checksum.
        let outputs = try readRecords(uplink).records.map { Array($0.bytes.dropFirst(50)) }
        for (inner, input) in zip(outputs.filter { !Self.isFragment($0, ip: 14) }, inputs) {
            #expect(Self.routingInvariant(inner) == Self.routingInvariant(input))
            #expect(inner[14 + 8] == input[14 + 8] - 1)
        }
        let fragments = outputs.filter { Self.isFragment($0, ip: 14) }
        #expect(fragments.map(\.count) == [14 + 1444, 14 + 27])
        #expect(Self.gluedInvariant(Self.glued(fragments, ip: 14)) == Self.gluedInvariant(try Self.tooBigWithoutDF()))
        // The DF packet over the MTU: ICMP fragmentation needed, next-hop MTU 1450, back to the pod.
        let pod = try Tool.tsharkFields(try #require(run.files["pod1"]), ["icmp.type", "icmp.code", "icmp.mtu", "eth.dst", "ip.dst", "ip.ttl"])
        let icmp = try #require(pod.first { $0[0] == ["3"] })
        #expect(icmp[1] == ["4"])
        #expect(icmp[2] == ["1450"])
        #expect(icmp[3] == ["0a:58:0a:f4:01:05"])
        #expect(icmp[4].first == "10.244.1.5")
        // The refused packet is quoted as it arrived, before routing decremented its TTL
        // (Linux's ip_forward checks the MTU first).
        let sent = try readRecords(Self.overlayCapture("pod-a")).records.map(\.bytes)
        let refusedTTL = try #require(sent.first { $0.count == 14 + 1451 && $0[14 + 6] & 0x40 != 0 }?[14 + 8])
        #expect(icmp[5].last == String(refusedTTL))
        #expect(run.stats["drops"]?["fragmentation-needed"]?.integer == 1)
        #expect(run.stats["events"]?["fragmented"]?.integer == 1)
        #expect(run.stats["events"]?["encapsulated"]?.integer == 15)
    }

    @Test func roundTripNodeAToNodeBGivesBackTheInnerPackets() throws {
        let a = try replay("node-a", "a", inputs: ["pod1": Self.overlayCapture("pod-a")], ports: ["eth0"])
        let uplink = try #require(a.files["eth0"])
        let b = try replay("node-b", "b", inputs: ["eth0": uplink], ports: ["pod1", "pod2"])
        // node-b takes what node-a sent it (the frame for node-c is not addressed to it).
        let expected = try Self.encapsulatedInputs().filter { $0[14 + 16 ... 14 + 18] == [10, 244, 2] }
        let all = try readRecords(try #require(b.files["pod1"])).records.map(\.bytes)
        let delivered = all.filter { !Self.isFragment($0, ip: 14) }
        #expect(delivered.count == expected.count)
        #expect(delivered.count == 12)
        // node-b reassembles the two fragments before conntrack and sends them on as they came.
        let fragments = all.filter { Self.isFragment($0, ip: 14) }
        #expect(fragments.map(\.count) == [14 + 1444, 14 + 27])
        #expect(Self.gluedInvariant(Self.glued(fragments, ip: 14)) == Self.gluedInvariant(try Self.tooBigWithoutDF()))
        for (output, input) in zip(delivered, expected) {
            // Routed twice: TTL down by two, MACs from cni0 to the pod; the IP packet otherwise intact.
            #expect(Self.routingInvariant(output) == Self.routingInvariant(input))
            #expect(output[14 + 8] == input[14 + 8] - 2)
            #expect(Array(output[0..<12]) == [0x0a, 0x58, 0x0a, 0xf4, 0x02, 0x07, 0x0a, 0x58, 0x0a, 0xf4, 0x02, 0x01])
        }
        #expect(b.stats["events"]?["decapsulated"]?.integer == 14)
        #expect(b.stats["events"]?["reassembled"]?.integer == 1)
        #expect(b.stats["drops"]?["not-for-this-host"]?.integer == 1)
        #expect(try readRecords(try #require(b.files["pod2"])).records.isEmpty)
    }

    @Test func hostileTunnelPacketsAreDroppedWithTheirReasons() throws {
        let table = try String(contentsOfFile: Paths.packageRoot.appendingPathComponent("fixtures/overlay/hostile.txt").path, encoding: .utf8)
        let rows = table.split(separator: "\n").filter { !$0.hasPrefix("#") }.map { $0.split(separator: " ").map(String.init) }
        let run = try replay("node-b", "b", inputs: ["eth0": Self.overlayCapture("hostile")], ports: ["pod1", "pod2"])
        var expected: [String: Int] = [:]
        for row in rows where row[2] != "-" { expected[row[2], default: 0] += 1 }
        #expect(expected.count == 8)
        for (reason, count) in expected {
            #expect(run.stats["drops"]?[reason]?.integer == count, "drop reason \(reason)")
        }
        #expect(run.stats["dropped"]?.integer == expected.values.reduce(0, +))
        // The good packet and the one with every reserved bit set arrive (reserved bits ignored).
        let delivered = try Tool.tsharkFields(try #require(run.files["pod1"]), ["icmp.seq"])
        #expect(delivered.map { $0[0] } == [["1"], ["8"]])
    }

    @Test func thirdPartyVXLANCaptureDecapsToTheRightBridgePortsUnchanged() throws {
        let capture = Paths.capture("tcpdump__vxlan.pcap")
        let run = try replay("tcpdump-vxlan", "v", inputs: ["eth0": capture], ports: ["v1", "v2"])
        // tshark's own decode of the input: which frames are VXLAN (VNI 100) to this node.
        let decoded = try Tool.tsharkFields(capture, ["ip.dst", "vxlan.vni", "eth.dst"])
        let input = try readRecords(capture).records.map(\.bytes)
        var toV1: [[UInt8]] = []
        var toV2: [[UInt8]] = []
        for (index, frame) in decoded.enumerated() where frame[0].first == "192.168.203.1" {
            #expect(frame[1] == ["100"])
            // No IPv4 options in the outer header: the inner frame starts 50 bytes in.
            let inner = Array(input[index].dropFirst(50))
            let innerDestination = frame[2].last
            toV1.append(inner)
            if innerDestination == "ff:ff:ff:ff:ff:ff" { toV2.append(inner) }
        }
        #expect(toV1.count == 5)
        #expect(toV2.count == 1)
        #expect(try readRecords(try #require(run.files["v1"])).records.map(\.bytes) == toV1)
        #expect(try readRecords(try #require(run.files["v2"])).records.map(\.bytes) == toV2)
        #expect(run.stats["events"]?["decapsulated"]?.integer == 5)
        #expect(run.stats["drops"]?["not-for-this-host"]?.integer == 5)
    }

    @Test func ipInIPRoundTripDecodesInTshark() throws {
        let a = try replay("node-a-ipip", "a", inputs: ["pod1": Self.overlayCapture("pod-a")], ports: ["eth0"])
        let uplink = try #require(a.files["eth0"])
        // tshark: IPv4 in IPv4 (protocol 4), outer from node-a to the peer, inner TTL 63.
        let frames = try Tool.tsharkFields(uplink, ["ip.proto", "ip.src", "ip.dst", "ip.ttl", "ip.checksum.status", "eth.dst"])
        #expect(frames.count == 15)  // the 1451-byte packet without DF in two fragments
        for frame in frames {
            #expect(frame[0].first == "4")
            #expect(frame[1] == ["192.168.1.25", "10.244.1.5"])
            #expect(frame[3] == ["64", "63"])
            #expect(frame[4].allSatisfy { $0 == "1" })
            #expect(frame[5].count == 1, "one Ethernet header: the inner one is gone")
        }
        let b = try replay("node-b-ipip", "b", inputs: ["eth0": uplink], ports: ["pod1"])
        let expected = try Self.encapsulatedInputs().filter { $0[14 + 16 ... 14 + 18] == [10, 244, 2] }
        let delivered = try readRecords(try #require(b.files["pod1"])).records.map(\.bytes).filter { !Self.isFragment($0, ip: 14) }
        #expect(delivered.count == 12)
        for (output, input) in zip(delivered, expected) {
            #expect(Self.routingInvariant(output) == Self.routingInvariant(input))
            #expect(output[14 + 8] == input[14 + 8] - 2)
        }
    }

    @Test func hostGatewayRoutesToThePeerWithoutEncapsulation() throws {
        let run = try replay("node-a-host-gw", "h", inputs: ["pod1": Self.overlayCapture("pod-a")], ports: ["eth0"])
        let frames = try Tool.tsharkFields(try #require(run.files["eth0"]), ["eth.dst", "ip.dst", "ip.ttl", "udp.dstport"])
        let toNodeB = frames.filter { $0[1] == ["10.244.2.7"] }
        // Every IPv4 frame for node-b's pods, the 1451-byte ones too (no tunnel, no overlay MTU).
        #expect(toNodeB.count == 14)
        #expect(toNodeB.allSatisfy { $0[0] == ["02:00:c0:a8:01:1e"] && $0[2] == ["63"] && !$0[3].contains("8472") })
        // node-c is no host-gw peer: its pods go by the default route, to the gateway.
        #expect(frames.filter { $0[1] == ["10.244.3.9"] }.map { $0[0] } == [["02:00:c0:a8:01:01"]])
        #expect(run.stats["events"]?["encapsulated"] == nil)
    }

    @Test func hostGatewayPeerOffTheUplinkSubnetIsAConfigError() throws {
        let text = try String(contentsOfFile: ScenarioTests.topology("node-a-host-gw"), encoding: .utf8)
            .replacingOccurrences(of: "ip: 192.168.1.30, podCIDR", with: "ip: 192.168.9.30, podCIDR")
        let file = try directory.write(Array(text.utf8), to: "bad-host-gw.yaml")
        let result = try Tool.pier(["replay", "--config", file, "--in", "pod1=\(Self.overlayCapture("pod-a"))"])
        #expect(result.status == 2)
        #expect(result.stderr.contains("bad-host-gw.yaml:"))
        #expect(result.stderr.contains("overlay.peers[0].ip"))
        #expect(result.stderr.contains("not on eth0's subnet"))
    }

    /// node-a.yaml with `sourcePorts` added under `overlay:`, written to the test's directory.
    func nodeA(sourcePorts: String, name: String) throws -> String {
        let text = try String(contentsOfFile: ScenarioTests.topology("node-a"), encoding: .utf8)
            .replacingOccurrences(of: "  mtu: 1450\n", with: "  mtu: 1450\n  sourcePorts: \(sourcePorts)\n")
        return try directory.write(Array(text.utf8), to: name)
    }

    @Test func configuredSourcePortRangeIsUsed() throws {
        let config = try nodeA(sourcePorts: "{min: 50000, max: 50015}", name: "ports.yaml")
        let out = directory.path("ports-eth0.pcap")
        let result = try Tool.pier(["replay", "--config", config, "--in", "pod1=\(Self.overlayCapture("pod-a"))", "--out", "eth0=\(out)"])
        #expect(result.status == 0, "\(result)")
        let ports = try Tool.tsharkFields(out, ["udp.srcport"]).compactMap { $0[0].first.flatMap { Int($0) } }
        #expect(ports.count == 15)
        #expect(ports.allSatisfy { (50000...50015).contains($0) }, "\(ports)")
        #expect(Set(ports).count >= 4)
    }

    @Test func sourcePortRangeBackwardsIsAConfigError() throws {
        let config = try nodeA(sourcePorts: "{min: 60000, max: 50000}", name: "backwards.yaml")
        let result = try Tool.pier(["replay", "--config", config, "--in", "pod1=\(Self.overlayCapture("pod-a"))"])
        #expect(result.status == 2)
        #expect(result.stderr.contains("backwards.yaml:25: overlay.sourcePorts: expected min no more than max, got min 60000 and max 50000"),
                "\(result)")
    }
}
