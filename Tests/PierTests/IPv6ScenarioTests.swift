import Foundation
import Testing

/// IPv6 on the node's interfaces: neighbour discovery (RFC 4861) and ICMPv6 echo answered by
/// docker0's and the uplink's addresses, next hops learned from advertisements, routing with
/// the hop limit decremented. The frames come from fixtures/scenarios.py (checksummed there,
/// independently of Pier); tshark decodes what Pier writes and validates every checksum.
struct IPv6ScenarioTests {
    /// The fields read back from each output frame.
    static let fields = [
        "eth.dst", "ipv6.src", "ipv6.dst", "ipv6.hlim", "icmpv6.type", "icmpv6.checksum.status",
        "icmpv6.nd.na.target_address", "icmpv6.nd.ns.target_address", "icmpv6.opt.linkaddr",
        "icmpv6.nd.na.flag.r", "icmpv6.nd.na.flag.s", "icmpv6.nd.na.flag.o", "udp.checksum.status",
    ]

    /// One frame as tshark decoded it: field name to its first value ("" when absent).
    typealias Decoded = [String: String]

    static func decode(_ file: String) throws -> [Decoded] {
        try Tool.tsharkFields(file, fields).map { frame in
            Dictionary(uniqueKeysWithValues: zip(fields, frame.map { $0.first ?? "" }))
        }
    }

    @Test func neighbourDiscoveryEchoAndRoutingOverIPv6() throws {
        _ = try #require(Tool.tshark, "tshark is not installed (make test-deps installs it)")
        let run = try ScenarioTests.replay("dual-stack",
                                           inputs: ["c1": ScenarioTests.scenario("ipv6-c1"),
                                                    "eth0": ScenarioTests.scenario("ipv6-eth0")],
                                           ports: ["eth0", "c1", "c2"])
        let c1 = try Self.decode(try #require(run.files["c1"]))
        let eth0 = try Self.decode(try #require(run.files["eth0"]))
        let c2 = try Self.decode(try #require(run.files["c2"]))
        for frame in c1 + eth0 + c2 where !frame["icmpv6.type", default: ""].isEmpty {
            #expect(frame["icmpv6.checksum.status"] == "1", "\(frame)")
        }
        for frame in c1 + eth0 + c2 where !frame["udp.checksum.status", default: ""].isEmpty {
            #expect(frame["udp.checksum.status"] == "1", "\(frame)")
        }

        // c1 gets: the echo reply from the gateway, the advertisement answering its
        // solicitation (solicited, router, override; docker0's MAC), and the answer to the
        // duplicate address probe, to all-nodes and not solicited (RFC 4861 §7.2.4).
        #expect(c1.count == 3)
        let reply = try #require(c1.first { $0["icmpv6.type"] == "129" })
        #expect(reply["ipv6.src"] == "fd00:17::1" && reply["ipv6.dst"] == "fd00:17::2")
        let advertisements = c1.filter { $0["icmpv6.type"] == "136" }
        #expect(advertisements.count == 2)
        let solicited = try #require(advertisements.first { $0["ipv6.dst"] == "fd00:17::2" })
        #expect(solicited["icmpv6.nd.na.target_address"] == "fd00:17::1")
        #expect(solicited["icmpv6.opt.linkaddr"] == "02:42:ac:11:00:01")
        #expect(solicited["ipv6.hlim"] == "255")
        #expect(solicited["eth.dst"] == "02:42:ac:11:00:02")
        #expect([solicited["icmpv6.nd.na.flag.r"], solicited["icmpv6.nd.na.flag.s"], solicited["icmpv6.nd.na.flag.o"]] == ["1", "1", "1"])
        let probeAnswer = try #require(advertisements.first { $0["ipv6.dst"] == "ff02::1" })
        #expect(probeAnswer["icmpv6.nd.na.flag.s"] == "0")
        #expect(probeAnswer["eth.dst"] == "33:33:00:00:00:01")

        // The uplink: Pier's solicitation for the unknown router, the first UDP packet, held
        // until the router advertised itself, its answer to the router's valid solicitation
        // (the hop-limit-64 one is dropped), and the second UDP packet: both routed with hop
        // limit 63 to the router's MAC, in the order they came.
        #expect(eth0.count == 4)
        let solicitation = try #require(eth0.first { $0["icmpv6.type"] == "135" })
        #expect(solicitation["icmpv6.nd.ns.target_address"] == "fd00:1::1")
        #expect(solicitation["ipv6.dst"] == "ff02::1:ff00:1")
        #expect(solicitation["eth.dst"] == "33:33:ff:00:00:01")
        #expect(solicitation["icmpv6.opt.linkaddr"] == "02:00:c0:a8:01:19")
        let answer = try #require(eth0.first { $0["icmpv6.type"] == "136" })
        #expect(answer["icmpv6.nd.na.target_address"] == "fd00:1::19" && answer["ipv6.dst"] == "fd00:1::1")
        let routed = eth0.filter { $0["ipv6.dst"] == "2001:db8::7" }
        #expect(routed.count == 2)
        #expect(routed.allSatisfy { $0["ipv6.hlim"] == "63" && $0["eth.dst"] == "02:00:c0:a8:01:01" })
        #expect(eth0.map { $0["icmpv6.type"] ?? "" } == ["135", "", "136", ""], "solicitation, released packet, answer, packet")

        // The solicitations are multicast: they flood to c2 as well (Pier does not proxy them).
        #expect(c2.map { $0["icmpv6.type"] } == ["135", "135"])
        #expect((run.stats["drops"]?["neighbor-unresolved"]?.integer ?? 0) == 0)
        #expect(run.stats["events"]?["held"]?.integer == 1)
        #expect(run.stats["events"]?["released"]?.integer == 1)
        #expect(run.stats["drops"]?["malformed-transport"]?.integer == 1)
        #expect(run.stats["events"]?["neighbors-learned"]?.integer == 2)
    }

    /// ICMPv6 errors (RFC 4443): time exceeded for a packet out of hop limit, destination
    /// unreachable (no route) where nothing routes the destination, each from the bridge's
    /// address back to the sender, quoting the packet as it arrived; none about an ICMPv6
    /// error or about a packet from the unspecified address (§2.4(e)). tshark checks the
    /// checksums and decodes the quoted packet.
    @Test(arguments: [("dual-stack", "ipv6-errors-c1", "3", 3), ("ipv6-bridge-only", "ipv6-noroute-c1", "1", 1)])
    func icmpv6Errors(topology: String, scenario: String, type: String, sent: Int) throws {
        _ = try #require(Tool.tshark, "tshark is not installed (make test-deps installs it)")
        let run = try ScenarioTests.replay(topology, inputs: ["c1": ScenarioTests.scenario(scenario)], ports: ["c1"])
        let fields = ["eth.src", "eth.dst", "ipv6.src", "ipv6.dst", "ipv6.hlim", "icmpv6.type", "icmpv6.code",
                      "icmpv6.checksum.status", "udp.srcport"]
        let frames = try Tool.tsharkFields(try #require(run.files["c1"]), fields)
        #expect(frames.count == 1, "one error for \(sent) packets: \(frames)")
        let error = Dictionary(uniqueKeysWithValues: zip(fields, try #require(frames.first)))
        #expect(error["eth.src"] == ["02:42:ac:11:00:01"] && error["eth.dst"] == ["02:42:ac:11:00:02"])
        // The error's own header, then the quoted packet's: as sent, hop limit not decremented.
        #expect(error["ipv6.src"] == ["fd00:17::1", "fd00:17::2"])
        #expect(error["ipv6.dst"] == ["fd00:17::2", "2001:db8::7"])
        #expect(error["ipv6.hlim"] == ["64", type == "3" ? "1" : "64"])
        #expect(error["icmpv6.type"] == [type] && error["icmpv6.code"] == ["0"])
        #expect(error["icmpv6.checksum.status"] == ["1"])
        #expect(error["udp.srcport"] == [type == "3" ? "5001" : "5003"])
        #expect(run.stats["events"]?["icmp-errors-sent"]?.integer == 1)
        let reason = type == "3" ? "ttl-exceeded" : "no-route"
        #expect(run.stats["drops"]?[reason]?.integer == sent)
    }
}
