import Foundation
import Testing

/// IPv6 NAT without root: the captures fixtures/kernel_nat6.py took around Linux's router
/// (fixtures/nat6: what entered it, and what ip6tables MASQUERADE and DNAT sent out) replayed
/// through fixtures/topologies/kernel-nat6.yaml. Pier must send exactly Linux's frames (every
/// byte) and list the connections as `conntrack -L -o extended` does. KernelNAT6Tests runs the
/// same comparison against a fresh kernel run.
struct IPv6NATScenarioTests {
    static func fixture(_ name: String) -> String {
        Paths.packageRoot.appendingPathComponent("fixtures/nat6/\(name).pcap").path
    }

    @Test func replayMatchesLinuxIP6TablesByteForByte() throws {
        let directory = try TemporaryDirectory()
        let result = try Tool.pier(["replay", "--config", ScenarioTests.topology("kernel-nat6"),
                                    "--in", "c1=\(Self.fixture("inside-in"))", "--in", "eth0=\(Self.fixture("outside-in"))",
                                    "--out", "c1=\(directory.path("c1.pcap"))", "--out", "eth0=\(directory.path("eth0.pcap"))",
                                    "--dump"])
        #expect(result.status == 0, "\(result)")
        for (ours, linux) in [("eth0", "outside-out"), ("c1", "inside-out")] {
            let expected = try readRecords(Self.fixture(linux)).records.map(\.bytes)
            let actual = try readRecords(directory.path("\(ours).pcap")).records.map(\.bytes)
            #expect(expected.count == 13 && actual.count == expected.count, "\(ours): Pier \(actual.count) frames, Linux \(expected.count)")
            for (index, (mine, theirs)) in zip(actual, expected).enumerated() {
                #expect(mine == theirs, "\(ours) frame \(index + 1) differs from Linux's")
            }
            try ScenarioTests.expectChecksumsGood(directory.path("\(ours).pcap"))
        }
        let lines = result.lines.filter { $0.hasPrefix("  ipv6 ") }.map { $0.dropFirst(2) }
        #expect(lines == [
            "ipv6     10 udp      17 119 src=fd00:88::3 dst=2001:db8:7::7 sport=45000 dport=53 src=2001:db8:7::7 dst=2001:db8:1::19 sport=53 dport=45000 [ASSURED]",
            "ipv6     10 tcp      6 119 TIME_WAIT src=fd00:88::3 dst=2001:db8:7::7 sport=40000 dport=80 src=2001:db8:7::7 dst=2001:db8:1::19 sport=80 dport=40000 [ASSURED]",
            "ipv6     10 udp      17 29 src=fd00:88::3 dst=2001:db8:7::7 sport=45001 dport=33434 [UNREPLIED] src=2001:db8:7::7 dst=2001:db8:1::19 sport=33434 dport=45001",
            "ipv6     10 icmpv6   58 29 src=fd00:88::3 dst=2001:db8:7::7 type=128 code=0 id=7 src=2001:db8:7::7 dst=2001:db8:1::19 type=129 code=0 id=7",
            "ipv6     10 tcp      6 120 TIME_WAIT src=2001:db8:7::7 dst=2001:db8:1::19 sport=51000 dport=8080 src=fd00:88::3 dst=2001:db8:7::7 sport=80 dport=51000 [ASSURED]",
        ], "\(result.stdout)")
    }
}
