import Foundation
import Testing

/// The Linux kernel as the oracle for Pier's NAT: fixtures/kernel_nat.py runs a container's
/// TCP connection, UDP exchange, a UDP probe answered by ICMP port unreachable and a ping
/// through Linux's own MASQUERADE, and a connection from the outside to a published port
/// through its DNAT, in network namespaces (pnat-c, pnat-r, pnat-o), capturing
/// what enters and leaves the router on each side. Pier replays what entered, through
/// fixtures/topologies/kernel-nat.yaml (the router's MACs and addresses), and must send out
/// exactly the frames Linux sent: the same bytes, translated addresses, ports, TTL and every
/// checksum, the ICMP error's quoted datagram included.
struct KernelNATTests {
    static let skipped = Tool.missing(tools: ["ip", "iptables", "ethtool", "tcpdump", "python3"])

    @Test(.enabled(if: skipped == nil, "the kernel NAT oracle \(skipped ?? "") (network namespaces pnat-*)"))
    func pierTranslatesExactlyAsLinuxMasquerade() throws {
        let directory = try TemporaryDirectory()
        let script = Paths.packageRoot.appendingPathComponent("fixtures/kernel_nat.py").path
        let kernel = try Tool.run(try #require(Tool.find("python3")), [script, directory.path("kernel")])
        try #require(kernel.status == 0, "\(kernel)")
        let captured = { (name: String) in directory.path("kernel/\(name).pcap") }
        let result = try Tool.pier(["replay", "--config", ScenarioTests.topology("kernel-nat"),
                                    "--in", "c1=\(captured("inside-in"))", "--in", "eth0=\(captured("outside-in"))",
                                    "--out", "c1=\(directory.path("c1.pcap"))", "--out", "eth0=\(directory.path("eth0.pcap"))"])
        #expect(result.status == 0, "\(result)")
        for (ours, linux) in [("eth0", "outside-out"), ("c1", "inside-out")] {
            let expected = try readRecords(captured(linux)).records.map(\.bytes)
            let actual = try readRecords(directory.path("\(ours).pcap")).records.map(\.bytes)
            // Masqueraded: TCP (4 or more), UDP, probe, ping; published: TCP (4 or more).
            #expect(expected.count >= 11, "Linux sent \(expected.count) frames out of the router toward \(ours)")
            #expect(actual.count == expected.count, "\(ours): Pier \(actual.count) frames, Linux \(expected.count)")
            for (index, (mine, theirs)) in zip(actual, expected).enumerated() {
                #expect(mine == theirs, "\(ours) frame \(index + 1) differs from Linux's")
            }
            try ScenarioTests.expectChecksumsGood(directory.path("\(ours).pcap"))
        }
    }
}
