import Foundation
import Testing

/// The Linux kernel as the oracle for Pier's IPv6 NAT: fixtures/kernel_nat6.py runs an IPv6
/// container's TCP connection, UDP exchange, a UDP probe answered by ICMPv6 port unreachable
/// and a ping through Linux's own ip6tables MASQUERADE, and a connection from the outside to
/// a port published through ip6tables DNAT, in network namespaces (pv-c, pv-r, pv-o),
/// capturing what enters and leaves the router on each side. Pier replays what entered,
/// through fixtures/topologies/kernel-nat6.yaml (the router's MACs and addresses), and must
/// send out exactly the frames Linux sent: every byte, no field ignored (addresses, ports,
/// hop limit, every checksum, the ICMPv6 error's quoted packet and its checksum). No port
/// clash happens in the run, so the ports Linux keeps are the ones Pier keeps.
struct KernelNAT6Tests {
    static let skipped = Tool.missing(tools: ["ip", "ip6tables", "ethtool", "tcpdump", "python3"])

    @Test(.enabled(if: skipped == nil, "the kernel IPv6 NAT oracle \(skipped ?? "") (network namespaces pv-*)"))
    func pierTranslatesIPv6ExactlyAsLinuxMasqueradeAndDNAT() throws {
        let directory = try TemporaryDirectory()
        let script = Paths.packageRoot.appendingPathComponent("fixtures/kernel_nat6.py").path
        let kernel = try Tool.run(try #require(Tool.find("python3")), [script, directory.path("kernel")])
        try #require(kernel.status == 0, "\(kernel)")
        let captured = { (name: String) in directory.path("kernel/\(name).pcap") }
        let result = try Tool.pier(["replay", "--config", ScenarioTests.topology("kernel-nat6"),
                                    "--in", "c1=\(captured("inside-in"))", "--in", "eth0=\(captured("outside-in"))",
                                    "--out", "c1=\(directory.path("c1.pcap"))", "--out", "eth0=\(directory.path("eth0.pcap"))",
                                    "--dump"])
        #expect(result.status == 0, "\(result)")
        // Masqueraded TCP, UDP, probe and ping, the published port's TCP, and the ICMPv6 error, translated.
        #expect(result.stdout.contains("snat 4, dnat 1, icmp-related-translated 1"), "\(result.stdout)")
        #expect(result.stdout.contains("ipv6     10 icmpv6   58 "), "\(result.stdout)")
        for (ours, linux) in [("eth0", "outside-out"), ("c1", "inside-out")] {
            let expected = try readRecords(captured(linux)).records.map(\.bytes)
            let actual = try readRecords(directory.path("\(ours).pcap")).records.map(\.bytes)
            // Masqueraded: TCP (4 or more), UDP, probe or its error, ping; published: TCP (4 or more).
            #expect(expected.count >= 11, "Linux sent \(expected.count) frames out of the router toward \(ours)")
            #expect(actual.count == expected.count, "\(ours): Pier \(actual.count) frames, Linux \(expected.count)")
            for (index, (mine, theirs)) in zip(actual, expected).enumerated() {
                #expect(mine == theirs, "\(ours) frame \(index + 1) differs from Linux's")
            }
        }
    }
}
