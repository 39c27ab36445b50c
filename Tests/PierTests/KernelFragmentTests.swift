import Foundation
import Testing

/// The Linux kernel as the oracle for reassembly before conntrack: fixtures/kernel_frag.py
/// sends fragmented UDP through Linux's own MASQUERADE in network namespaces (pf-c, pf-r,
/// pf-o) and captures what enters and leaves the router: a container's 4,000-byte datagram in
/// three fragments, then three 4,000-byte replies from the outside, one fragmented by the
/// sender's kernel, one whose three fragments arrive out of order (last, first, middle), one
/// in four fragments of unequal sizes arriving last first. Linux reassembles each datagram,
/// translates it and sends it on in its original fragments, in offset order, with the
/// original identification. Pier replays what entered through kernel-nat.yaml (the router's
/// MACs and addresses) and must send exactly the frames Linux sent, byte for byte: no field is
/// ignored (Linux keeps the IPv4 identification of the fragments it refragments, and so does
/// Pier; only IPv6 refragmenting draws a new one).
struct KernelFragmentTests {
    static let skipped = Tool.missing(tools: ["ip", "iptables", "ethtool", "tcpdump", "python3"])

    @Test(.enabled(if: skipped == nil, "the kernel fragment oracle \(skipped ?? "") (network namespaces pf-*)"))
    func pierReassemblesTranslatesAndRefragmentsAsLinux() throws {
        let directory = try TemporaryDirectory()
        let script = Paths.packageRoot.appendingPathComponent("fixtures/kernel_frag.py").path
        let kernel = try Tool.run(try #require(Tool.find("python3")), [script, directory.path("kernel")])
        try #require(kernel.status == 0, "\(kernel)")
        let captured = { (name: String) in directory.path("kernel/\(name).pcap") }
        let stats = directory.path("stats.json")
        let result = try Tool.pier(["replay", "--config", ScenarioTests.topology("kernel-nat"), "--stats-json", stats,
                                    "--in", "c1=\(captured("inside-in"))", "--in", "eth0=\(captured("outside-in"))",
                                    "--out", "c1=\(directory.path("c1.pcap"))", "--out", "eth0=\(directory.path("eth0.pcap"))"])
        #expect(result.status == 0, "\(result)")
        // Out toward the outside: the container's datagram in 3 fragments; toward the container:
        // 3 + 3 + 4 fragments of the replies.
        for (ours, linux, count) in [("eth0", "outside-out", 3), ("c1", "inside-out", 10)] {
            let expected = try readRecords(captured(linux)).records.map(\.bytes)
            let actual = try readRecords(directory.path("\(ours).pcap")).records.map(\.bytes)
            #expect(expected.count == count, "Linux sent \(expected.count) frames out of the router toward \(ours)")
            #expect(actual.count == expected.count, "\(ours): Pier \(actual.count) frames, Linux \(expected.count)")
            for (index, (mine, theirs)) in zip(actual, expected).enumerated() {
                #expect(mine == theirs, "\(ours) frame \(index + 1) differs from Linux's")
            }
            try ScenarioTests.expectChecksumsGood(directory.path("\(ours).pcap"))
        }
        let json = try JSON.parse(String(decoding: try fileBytes(stats), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
        #expect(json["events"]?["reassembled"]?.integer == 4)
        #expect(json["events"]?["fragmented"]?.integer == 4)
    }
}
