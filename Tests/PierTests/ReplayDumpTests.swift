import Foundation
import Testing

/// `pier replay --dump`: the table lines `pier fdb` shares (TableText), fixed here so the live
/// switch's control socket and the replay keep printing the same thing.
struct ReplayDumpTests {
    @Test func twoContainersDump() throws {
        let root = Paths.packageRoot.appendingPathComponent("fixtures")
        let result = try Tool.pier(
            "replay", "--config", root.appendingPathComponent("topologies/two-containers.yaml").path,
            "--in", "c1=" + root.appendingPathComponent("scenarios/ping-c1.pcap").path,
            "--in", "c2=" + root.appendingPathComponent("scenarios/ping-c2.pcap").path, "--dump")
        #expect(result.status == 0, "\(result)")
        let tables = Array(result.lines.drop { !$0.hasPrefix("fdb ") })
        // The containers' MACs and addresses are fixtures/scenarios.py's; the routes are the
        // topology's connected subnets and its gateway; 192.168.1.1 is its static neighbour.
        #expect(tables == [
            "fdb docker0: 2 entries",
            "  02:42:ac:11:00:02 dev c1 age 0s",
            "  02:42:ac:11:00:03 dev c2 age 0s",
            "routes:",
            "  0.0.0.0/0 via 192.168.1.1 dev eth0",
            "  172.17.0.0/16 dev docker0",
            "  192.168.1.0/24 dev eth0",
            "neighbors:",
            "  172.17.0.2 lladdr 02:42:ac:11:00:02 REACHABLE",
            "  192.168.1.1 lladdr 02:00:c0:a8:01:01 PERMANENT",
            // The scenario's routed UDP datagram to 198.51.100.7 (no NAT rules: the reply key
            // is the original reversed), unreplied: netfilter's 30 s.
            "conntrack: 1 entries",
            "  udp      17 30 src=172.17.0.2 dst=198.51.100.7 sport=5000 dport=53 [UNREPLIED] src=198.51.100.7 dst=172.17.0.2 sport=53 dport=5000",
        ], "\(result)")
    }
}
