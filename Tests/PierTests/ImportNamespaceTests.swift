import Foundation
import Testing

/// `pier import --netns` against the Linux kernel's own view of a Docker-like node built in a
/// network namespace: an uplink veth with the default route and a static neighbour, a bridge
/// with a container's veth, Docker's nat rules (MASQUERADE of the bridge subnet, a published
/// port in the DOCKER chain, its hairpin MASQUERADE and jumps), and rules Pier cannot express
/// (a chain of its own with a `-m statistic` weight, a MARK, an IPv6 MASQUERADE). Every namespace and link name
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
        ip netns exec pimimpnode ip6tables -t nat -A POSTROUTING -s fd00:ac1e::/64 -j MASQUERADE
        """
    static let cleanup = "ip netns del pimimpnode; ip netns del pimimpc1; ip netns del pimimpout"

    static func shell(_ script: String) throws -> Tool.Result { try Tool.run("/bin/sh", ["-c", script]) }

    /// What `pier import --netns NETNS` made of the namespaces `setup` builds (removed again
    /// by `cleanup`, before and after): its run, the topology's text, and the file (in
    /// `directory`, which the caller keeps).
    static func importing(_ netns: String, setup: String, cleanup: String, into directory: TemporaryDirectory)
        throws -> (result: Tool.Result, yaml: String, path: String) {
        _ = try shell(cleanup + " 2>/dev/null")
        let made = try shell("set -e\n" + setup)
        defer { _ = try? shell(cleanup) }
        try #require(made.status == 0, "\(made)")
        let path = directory.path("node.yaml")
        let result = try Tool.pier("import", "--netns", netns, "-o", path)
        #expect(result.status == 0, "\(result)")
        return (result, try String(contentsOfFile: path, encoding: .utf8), path)
    }

    /// Replays a container's ping into `port` of the topology at `path`: it must load as it is.
    static func replays(_ path: String, port: String) throws {
        let capture = Paths.packageRoot.appendingPathComponent("fixtures/scenarios/ping-c1.pcap").path
        let replay = try Tool.pier("replay", "--config", path, "--in", "\(port)=" + capture)
        #expect(replay.status == 0, "\(replay)")
        #expect(replay.lines.first?.hasPrefix("replay: 6 frames in") == true)
    }

    @Test func dockerLikeNode() throws {
        let directory = try TemporaryDirectory()
        let (result, yaml, output) = try Self.importing("pimimpnode", setup: Self.setup, cleanup: Self.cleanup, into: directory)
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
        #expect(warnings.contains("pier import: warning: chain PIMIMPWEIGHT: not a chain Docker or kube-proxy writes, not expressed"))
        #expect(warnings.contains("pier import: warning: rule \"-A POSTROUTING -s fd00:ac1e::/64 -j MASQUERADE\" (ip6tables): IPv6 nat is not imported"))
        #expect(warnings.count == 4, "\(warnings)")
        // The topology loads as it is, and a container's ping enters at the veth's name.
        try Self.replays(output, port: "pimimpv1")
    }

    /// A node with kube-proxy's chains in iptables mode for a ClusterIP and NodePort Service
    /// with ClientIP affinity over two endpoints, a UDP Service whose weight is not
    /// kube-proxy's, and flannel's VXLAN device with a peer (route, neighbour, FDB entry).
    static let kubeSetup = """
        ip netns add pimimpkube; ip netns add pimimpkout
        ip -n pimimpkube link set lo up
        ip -n pimimpkube link add pimimpk0 type veth peer name pimimpkup netns pimimpkout
        ip -n pimimpkube link set pimimpk0 address 02:00:c0:a8:4e:02
        ip -n pimimpkube addr add 192.168.78.2/24 dev pimimpk0
        ip -n pimimpkube link set pimimpk0 up
        ip -n pimimpkube route add default via 192.168.78.1
        ip -n pimimpkube link add pimcni0 type bridge
        ip -n pimimpkube link set pimcni0 address 02:00:0a:f4:01:01
        ip -n pimimpkube addr add 10.244.1.1/24 dev pimcni0
        ip -n pimimpkube link set pimcni0 up
        ip -n pimimpkube link add pimflannel.1 type vxlan id 1 local 192.168.78.2 dev pimimpk0 dstport 8472 nolearning
        ip -n pimimpkube link set pimflannel.1 address 02:aa:00:00:00:01 mtu 1450 up
        ip -n pimimpkube addr add 10.244.1.0/32 dev pimflannel.1
        ip -n pimimpkube neigh replace 10.244.2.0 lladdr 02:aa:00:00:00:02 dev pimflannel.1 nud permanent
        ip netns exec pimimpkube bridge fdb append 02:aa:00:00:00:02 dev pimflannel.1 dst 192.168.78.3
        ip -n pimimpkube route add 10.244.2.0/24 via 10.244.2.0 dev pimflannel.1 onlink
        ip netns exec pimimpkube iptables-restore -n <<'RULES'
        *nat
        :KUBE-SERVICES - [0:0]
        :KUBE-NODEPORTS - [0:0]
        :KUBE-POSTROUTING - [0:0]
        :KUBE-MARK-MASQ - [0:0]
        :KUBE-SVC-WEBHTTP - [0:0]
        :KUBE-EXT-WEBHTTP - [0:0]
        :KUBE-SEP-WEB1 - [0:0]
        :KUBE-SEP-WEB2 - [0:0]
        :KUBE-SVC-DNSUDP - [0:0]
        :KUBE-SEP-DNS1 - [0:0]
        :KUBE-SEP-DNS2 - [0:0]
        -A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
        -A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
        -A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING
        -A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000
        -A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN
        -A KUBE-POSTROUTING -j MARK --set-xmark 0x4000/0x0
        -A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully
        -A KUBE-SERVICES -d 10.96.0.10/32 -p tcp -m comment --comment "default/web:http cluster IP" -m tcp --dport 80 -j KUBE-SVC-WEBHTTP
        -A KUBE-SERVICES -d 10.96.0.53/32 -p udp -m comment --comment "kube-system/dns:dns cluster IP" -m udp --dport 53 -j KUBE-SVC-DNSUDP
        -A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS
        -A KUBE-NODEPORTS -p tcp -m comment --comment "default/web:http" -m tcp --dport 30080 -j KUBE-EXT-WEBHTTP
        -A KUBE-EXT-WEBHTTP -m comment --comment "masquerade traffic for default/web:http external destinations" -j KUBE-MARK-MASQ
        -A KUBE-EXT-WEBHTTP -j KUBE-SVC-WEBHTTP
        -A KUBE-SVC-WEBHTTP ! -s 10.244.0.0/16 -d 10.96.0.10/32 -p tcp -m comment --comment "default/web:http cluster IP" -m tcp --dport 80 -j KUBE-MARK-MASQ
        -A KUBE-SVC-WEBHTTP -m comment --comment "default/web:http -> 10.244.1.5:8080" -m recent --name KUBE-SEP-WEB1 --mask 255.255.255.255 --rsource --rcheck --seconds 10800 --reap -j KUBE-SEP-WEB1
        -A KUBE-SVC-WEBHTTP -m comment --comment "default/web:http -> 10.244.2.7:8080" -m recent --name KUBE-SEP-WEB2 --mask 255.255.255.255 --rsource --rcheck --seconds 10800 --reap -j KUBE-SEP-WEB2
        -A KUBE-SVC-WEBHTTP -m comment --comment "default/web:http -> 10.244.1.5:8080" -m statistic --mode random --probability 0.50000000000 -j KUBE-SEP-WEB1
        -A KUBE-SVC-WEBHTTP -m comment --comment "default/web:http -> 10.244.2.7:8080" -j KUBE-SEP-WEB2
        -A KUBE-SEP-WEB1 -s 10.244.1.5/32 -m comment --comment "default/web:http" -j KUBE-MARK-MASQ
        -A KUBE-SEP-WEB1 -p tcp -m comment --comment "default/web:http" -m recent --set --name KUBE-SEP-WEB1 --mask 255.255.255.255 --rsource -m tcp -j DNAT --to-destination 10.244.1.5:8080
        -A KUBE-SEP-WEB2 -s 10.244.2.7/32 -m comment --comment "default/web:http" -j KUBE-MARK-MASQ
        -A KUBE-SEP-WEB2 -p tcp -m comment --comment "default/web:http" -m recent --set --name KUBE-SEP-WEB2 --mask 255.255.255.255 --rsource -m tcp -j DNAT --to-destination 10.244.2.7:8080
        -A KUBE-SVC-DNSUDP -m comment --comment "kube-system/dns:dns -> 10.244.1.9:53" -m statistic --mode random --probability 0.30000000000 -j KUBE-SEP-DNS1
        -A KUBE-SVC-DNSUDP -m comment --comment "kube-system/dns:dns -> 10.244.2.9:53" -j KUBE-SEP-DNS2
        -A KUBE-SEP-DNS1 -p udp -m comment --comment "kube-system/dns:dns" -m udp -j DNAT --to-destination 10.244.1.9:53
        -A KUBE-SEP-DNS2 -p udp -m comment --comment "kube-system/dns:dns" -m udp -j DNAT --to-destination 10.244.2.9:53
        COMMIT
        RULES
        """
    static let kubeCleanup = "ip netns del pimimpkube; ip netns del pimimpkout"

    @Test func kubeProxyAndFlannelNode() throws {
        let directory = try TemporaryDirectory()
        let (result, yaml, output) = try Self.importing("pimimpkube", setup: Self.kubeSetup, cleanup: Self.kubeCleanup, into: directory)
        #expect(yaml.contains("""
            services:
              - name: web
                namespace: default
                clusterIP: 10.96.0.10
                ports: [{proto: tcp, port: 80, targetPort: 8080, nodePort: 30080}]
                endpoints: [10.244.1.5, 10.244.2.7]
                sessionAffinity: ClientIP
              - name: dns
                namespace: kube-system
                clusterIP: 10.96.0.53
                ports: [{proto: udp, port: 53, targetPort: 53}]
                endpoints: [10.244.1.9, 10.244.2.9]
                sessionAffinity: None
            overlay:
              backend: vxlan
              vni: 1
              port: 8472
              mtu: 1450
              podCIDR: 10.244.1.0/24
              vtepMAC: "02:aa:00:00:00:01"
              peers:
                - {node: node-192-168-78-3, ip: 192.168.78.3, podCIDR: 10.244.2.0/24, vtepMAC: "02:aa:00:00:00:02"}

            """), "\(yaml)")
        // The weight that is not kube-proxy's is the one warning: it is named and quoted.
        #expect(result.errorLines.count == 1, "\(result)")
        #expect(result.errorLines.first?.hasPrefix("pier import: warning: rule \"-A KUBE-SVC-DNSUDP ") == true)
        #expect(result.errorLines.first?.contains("-m statistic --mode random --probability 0.2999") == true)
        try Self.replays(output, port: "pimimpk0")
    }
}
