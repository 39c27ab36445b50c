import Foundation
import Testing

/// The Linux kernel as the oracle for Services' traffic policies and bridged conntrack:
/// fixtures/kernel_policy.py writes kube-proxy's iptables rules (iptables mode) for an
/// `externalTrafficPolicy: Local` Service with a local endpoint, one without (its DROP "has no
/// local endpoints"), and a Service whose endpoint shares the client pod's Linux bridge (with
/// br_netfilter), runs traffic through them in network namespaces (pt-kc, pt-kd, pt-kr, pt-ko)
/// and captures what enters and leaves every port of the router. Pier replays what entered,
/// through fixtures/topologies/kernel-policy.yaml (the router's MACs, addresses and Services),
/// and must send out exactly the frames Linux sent, byte for byte: the node port keeping the
/// client's address, the silent drop, a pod's DNAT to a pod on its bridge bridged (TTL and
/// source MAC kept) with the bridged reply un-DNATed, the hairpin masqueraded, and a pod's
/// traffic to a Local node port short-circuited to the remote endpoint.
struct KernelPolicyTests {
    static let skipped = Tool.missing(tools: ["ip", "bridge", "iptables-restore", "ethtool", "tcpdump", "python3"])

    @Test(.enabled(if: skipped == nil, "the kernel policy oracle \(skipped ?? "") (network namespaces pt-k*)"))
    func pierTranslatesExactlyAsKubeProxysRules() throws {
        let directory = try TemporaryDirectory()
        let script = Paths.packageRoot.appendingPathComponent("fixtures/kernel_policy.py").path
        let kernel = try Tool.run(try #require(Tool.find("python3")), [script, directory.path("kernel")])
        try #require(kernel.status == 0, "\(kernel)")
        // The kernel's own view: the outside host's address through the Local node port, c1's
        // own through the Service on its bridge, the bridge's for c2 reaching itself.
        #expect(kernel.lines == ["198.51.100.7", "172.17.0.2", "172.17.0.1"], "\(kernel)")
        let captured = { (name: String) in directory.path("kernel/\(name).pcap") }
        let ports = ["c1", "c2", "eth0"]
        let result = try Tool.pier(["replay", "--config", ScenarioTests.topology("kernel-policy")]
                                   + ports.flatMap { ["--in", "\($0)=\(captured("\($0)-in"))", "--out", "\($0)=\(directory.path("\($0).pcap"))"] }
                                   + ["--stats-json", directory.path("stats.json")])
        #expect(result.status == 0, "\(result)")
        for port in ports {
            let expected = try readRecords(captured("\(port)-out")).records.map(\.bytes)
            let actual = try readRecords(directory.path("\(port).pcap")).records.map(\.bytes)
            #expect(expected.count >= 5, "Linux sent \(expected.count) frames out of the router toward \(port)")
            #expect(actual.count == expected.count, "\(port): Pier \(actual.count) frames, Linux \(expected.count)")
            for (index, (mine, theirs)) in zip(actual, expected).enumerated() {
                #expect(mine == theirs, "\(port) frame \(index + 1) differs from Linux's")
            }
            try ScenarioTests.expectChecksumsGood(directory.path("\(port).pcap"))
        }
        // The outside host's SYN to the node port without a local endpoint: dropped, as Linux did.
        let stats = try JSON.parse(String(decoding: try fileBytes(directory.path("stats.json")), as: UTF8.self))
        #expect(stats["drops"]?["service-no-local-endpoints"]?.integer == 1, "\(stats)")
    }
}
