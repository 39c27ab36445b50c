import Foundation
import Testing

/// The Linux kernel as the oracle for Services' traffic policies and bridged conntrack:
/// fixtures/kernel_policy.py writes kube-proxy's iptables rules (iptables mode) for an
/// `externalTrafficPolicy: Local` Service with a local endpoint (node port, external IP,
/// load-balancer IP), one without (its DROP "has no local endpoints"), and a Service whose
/// endpoint shares the client pod's Linux bridge (with br_netfilter), runs traffic through
/// them in network namespaces (pt-kc, pt-kd, pt-kr, pt-ko) and captures what enters and
/// leaves every port of the router. Pier replays what entered, through
/// fixtures/topologies/kernel-policy.yaml (the router's MACs, addresses and Services) and
/// through what `pier import` made of the router, and must send out exactly the frames Linux
/// sent, byte for byte: the node port and load-balancer IP keeping the client's address, the
/// silent drop, a pod's DNAT to a pod on its bridge bridged (TTL and source MAC kept) with the
/// bridged reply un-DNATed, the hairpin masqueraded, and a pod's traffic to a Local node port
/// short-circuited to the remote endpoint.
struct KernelPolicyTests {
    static let skipped = Tool.missing(tools: ["ip", "bridge", "iptables-restore", "ethtool", "tcpdump", "python3"])

    @Test(.enabled(if: skipped == nil, "the kernel policy oracle \(skipped ?? "") (network namespaces pt-k*)"))
    func pierTranslatesExactlyAsKubeProxysRules() throws {
        let directory = try TemporaryDirectory()
        let script = Paths.packageRoot.appendingPathComponent("fixtures/kernel_policy.py").path
        let kernel = try Tool.run(try #require(Tool.find("python3")),
                                  [script, directory.path("kernel"), "--import", try #require(Paths.pier)])
        try #require(kernel.status == 0, "\(kernel)")
        // The kernel's own view: the outside host's address through the Local node port and
        // load-balancer IP, c1's own through the Service on its bridge, the bridge's for c2
        // reaching itself.
        #expect(kernel.lines == ["198.51.100.7", "198.51.100.7", "172.17.0.2", "172.17.0.1"], "\(kernel)")
        try Self.expectSameAsLinux(topology: ScenarioTests.topology("kernel-policy"), ports: ["c1": "c1", "c2": "c2", "eth0": "eth0"],
                                   kernel: directory.path("kernel"), in: directory, named: "written")

        // `pier import` of the router reads kube-proxy's chains into the same policies…
        let imported = try String(contentsOfFile: directory.path("kernel/imported.yaml"), encoding: .utf8)
        for line in ["externalTrafficPolicy: Local", "externalIPs: [203.0.113.10]", "status: {loadBalancer: {ingress: [{ip: 203.0.113.20}]}}"] {
            #expect(imported.contains(line), "\(imported)")
        }
        // …and replays as Linux forwarded, given the bridge's hairpin mode and static FDB
        // entries, which the import does not read.
        let bridge = "ip: 172.17.0.1/16, mac: \"02:42:ac:11:00:01\"}"
        #expect(imported.contains(bridge), "\(imported)")
        let completed = imported.replacingOccurrences(of: bridge, with: String(bridge.dropLast()) + ", hairpin: true, fdbStatic: "
            + "[{mac: \"02:42:ac:11:00:02\", port: pt-krc1}, {mac: \"02:42:ac:11:00:03\", port: pt-krc2}]}")
        let topology = try directory.write(Array(completed.utf8), to: "imported.yaml")
        try Self.expectSameAsLinux(topology: topology, ports: ["c1": "pt-krc1", "c2": "pt-krc2", "eth0": "pt-kr2"],
                                   kernel: directory.path("kernel"), in: directory, named: "imported")
    }

    /// Replays the captures of what entered the router (`kernel`/NAME-in.pcap, by capture
    /// name to Pier port) through `topology`, and expects Pier to send out of each port exactly
    /// what Linux sent (`kernel`/NAME-out.pcap), and one SYN dropped as `service-no-local-endpoints`.
    static func expectSameAsLinux(topology: String, ports: [String: String], kernel: String, in directory: TemporaryDirectory,
                                  named name: String) throws {
        let captured = { (capture: String) in "\(kernel)/\(capture).pcap" }
        let output = { (capture: String) in directory.path("\(name)-\(capture).pcap") }
        let stats = directory.path("\(name)-stats.json")
        let result = try Tool.pier(["replay", "--config", topology, "--stats-json", stats]
                                   + ports.sorted(by: <).flatMap { capture, port in
                                       ["--in", "\(port)=\(captured("\(capture)-in"))", "--out", "\(port)=\(output(capture))"]
                                   })
        #expect(result.status == 0, "\(name): \(result)")
        for capture in ports.keys.sorted() {
            let expected = try readRecords(captured("\(capture)-out")).records.map(\.bytes)
            let actual = try readRecords(output(capture)).records.map(\.bytes)
            #expect(expected.count >= 5, "Linux sent \(expected.count) frames out of the router toward \(capture)")
            #expect(actual.count == expected.count, "\(name) \(capture): Pier \(actual.count) frames, Linux \(expected.count)")
            for (index, (mine, theirs)) in zip(actual, expected).enumerated() {
                #expect(mine == theirs, "\(name) \(capture) frame \(index + 1) differs from Linux's")
            }
            try ScenarioTests.expectChecksumsGood(output(capture))
        }
        // The outside host's SYN to the node port without a local endpoint: dropped, as Linux did.
        let json = try JSON.parse(String(decoding: try fileBytes(stats), as: UTF8.self))
        #expect(json["drops"]?["service-no-local-endpoints"]?.integer == 1, "\(name): \(json)")
    }
}
