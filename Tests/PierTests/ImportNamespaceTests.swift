import Foundation
import Testing

/// `pier import --netns` against the Linux kernel's own view of a Docker-like node built in a
/// network namespace: an uplink veth with the default route and a static neighbour, a bridge
/// with a container's veth, Docker's nat rules (MASQUERADE of the bridge subnet, a published
/// port in the DOCKER chain, its hairpin MASQUERADE and jumps), and rules Pier cannot express
/// (a chain of its own with a `-m statistic` weight, a MARK). Every namespace and link name
/// starts with `pimimp`.
@Suite(.enabled(if: Tool.missing(tools: ["ip", "iptables", "iptables-save"]) == nil,
                Comment(rawValue: Tool.missing(tools: ["ip", "iptables", "iptables-save"]) ?? "")))
struct ImportNamespaceTests {
    static let setup = """
        ip netns add pimimpnode; ip netns add pimimpc1; ip netns add pimimpout
        ip -n pimimpnode link set lo up
        ip -n pimimpnode link add pimimpeth0 type veth peer name pimimpup netns pimimpout
        ip -n pimimpnode addr add 192.168.77.2/24 dev pimimpeth0
        ip -n pimimpnode link set pimimpeth0 up
        ip -n pimimpout link set pimimpup up
        ip -n pimimpnode route add default via 192.168.77.1
        ip -n pimimpnode neigh replace 192.168.77.1 lladdr 02:00:c0:a8:4d:01 dev pimimpeth0 nud permanent
        ip -n pimimpnode link add pimimpbr0 type bridge
        ip -n pimimpnode link set pimimpbr0 address 02:42:ac:1e:00:01
        ip -n pimimpnode addr add 172.30.0.1/16 dev pimimpbr0
        ip -n pimimpnode link set pimimpbr0 up
        ip -n pimimpnode link add pimimpv1 type veth peer name eth0 netns pimimpc1
        ip -n pimimpnode link set pimimpv1 master pimimpbr0 up
        ip netns exec pimimpnode iptables -t nat -N DOCKER
        ip netns exec pimimpnode iptables -t nat -A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER
        ip netns exec pimimpnode iptables -t nat -A POSTROUTING -s 172.30.0.0/16 ! -o pimimpbr0 -j MASQUERADE
        ip netns exec pimimpnode iptables -t nat -A POSTROUTING -s 172.30.0.2/32 -d 172.30.0.2/32 -p tcp -m tcp --dport 80 -j MASQUERADE
        ip netns exec pimimpnode iptables -t nat -A DOCKER -i pimimpbr0 -j RETURN
        ip netns exec pimimpnode iptables -t nat -A DOCKER ! -i pimimpbr0 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 172.30.0.2:80
        ip netns exec pimimpnode iptables -t nat -N PIMIMPWEIGHT
        ip netns exec pimimpnode iptables -t nat -A PIMIMPWEIGHT -m statistic --mode nth --every 3 --packet 0 -j RETURN
        ip netns exec pimimpnode iptables -t nat -A POSTROUTING -p udp -j MARK --set-xmark 0x1/0xffffffff
        """
    static let cleanup = "ip netns del pimimpnode; ip netns del pimimpc1; ip netns del pimimpout"

    static func shell(_ script: String) throws -> Tool.Result { try Tool.run("/bin/sh", ["-c", script]) }

    @Test func dockerLikeNode() throws {
        _ = try Self.shell(Self.cleanup + " 2>/dev/null")
        let made = try Self.shell("set -e\n" + Self.setup)
        defer { _ = try? Self.shell(Self.cleanup) }
        try #require(made.status == 0, "\(made)")
        let directory = try TemporaryDirectory()
        let output = directory.path("node.yaml")
        let result = try Tool.pier("import", "--netns", "pimimpnode", "-o", output)
        #expect(result.status == 0, "\(result)")
        let yaml = try String(contentsOfFile: output, encoding: .utf8)
        let lines = yaml.split(separator: "\n").map(String.init)
        #expect(lines.first == "node: pimimpnode")
        #expect(lines.contains { $0.hasPrefix("  - {name: pimimpeth0, mac: ") && $0.hasSuffix(", ip: 192.168.77.2/24, gateway: 192.168.77.1}") }, "\(yaml)")
        #expect(lines.contains("  - {name: pimimpv1}"))
        #expect(lines.contains("  - {ip: 192.168.77.1, mac: \"02:00:c0:a8:4d:01\"}"))
        #expect(lines.contains("  - {name: pimimpbr0, ports: [pimimpv1], ip: 172.30.0.1/16, mac: \"02:42:ac:1e:00:01\"}"))
        #expect(lines.contains("    - {source: 172.30.0.0/16, out: pimimpeth0}"))
        #expect(lines.contains("    - {proto: tcp, hostPort: 8080, to: 172.30.0.2:80}"))
        // What cannot be said is named, quoting the rule or object; Docker's plumbing is not.
        let warnings = result.errorLines
        #expect(warnings.contains("pier import: warning: rule \"-A POSTROUTING -p udp -j MARK --set-xmark 0x1/0xffffffff\": not expressed"), "\(result)")
        #expect(warnings.contains("pier import: warning: rule \"-A PIMIMPWEIGHT -m statistic --mode nth --every 3 --packet 0 -j RETURN\": not expressed"))
        #expect(warnings.contains("pier import: warning: chain PIMIMPWEIGHT: not expressed (kube-proxy's and other chains are not imported yet)"))
        #expect(warnings.count == 3, "\(warnings)")
        // The topology loads as it is, and a container's ping enters at the veth's name.
        let replay = try Tool.pier("replay", "--config", output, "--in",
                                   "pimimpv1=" + Paths.packageRoot.appendingPathComponent("fixtures/scenarios/ping-c1.pcap").path)
        #expect(replay.status == 0, "\(replay)")
        #expect(replay.lines.first?.hasPrefix("replay: 6 frames in") == true)
    }
}
