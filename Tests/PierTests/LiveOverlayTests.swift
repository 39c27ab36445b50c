import Foundation
import Testing

/// The overlay live: pods on two nodes, each node a network namespace, the nodes' uplinks
/// joined by a veth underlay. Node A is always `pier switch`; node B is a second `pier
/// switch`, or the Linux kernel with its own VXLAN device, plain host-gw routes or an `ipip`
/// tunnel, set up as flannel (or Calico) would. Neither node has a default route: pods reach
/// each other only through the overlay. The kernels' ping and TCP in the pods, and the
/// kernel's tunnel device counters, are the oracle. Names start with `plx`.
@Suite(.serialized, .enabled(if: Live.available, "live tests need root, ip, ping, python3 and /dev/net/tun"))
struct LiveOverlayTests {
    /// Two Pier nodes over VXLAN: ping and 4 MB of TCP each way between their pods (TTL 62:
    /// each node routes once); the uplink capture decodes in tshark as VXLAN, VNI 1, from one
    /// node IP to the other, every checksum good. With `--offload` the switches say the uplink
    /// carries UDP-tunnel GSO (super-frames cross whole: far fewer, larger frames), and TCP
    /// flows (the capture then holds partial TCP checksums, as tcpdump would show them).
    @Test(arguments: [false, true])
    func twoPierNodesOverVXLAN(offload: Bool) throws {
        let underlay = try OverlayUnderlay(tag: offload ? "w" : "v", subnet: offload ? 88 : 80)
        let capture = underlay.directory.path("a-eth0.pcap")
        let a = try underlay.pierNode(0, backend: "vxlan", extra: ["--capture", "eth0=\(capture)"] + (offload ? ["--offload"] : []))
        let b = try underlay.pierNode(1, backend: "vxlan", extra: offload ? ["--offload"] : [])
        defer { a.stop(); b.stop() }
        try underlay.pingAndTransfer()
        #expect(a.stop() == 0 && b.stop() == 0, "\(a.log)\n\(b.log)")
        for live in [a, b] {
            #expect(live.log.contains("encapsulated ") && live.log.contains("decapsulated "), "\(live.log)")
        }
        // The pods' MTU is 1,500, the overlay's 1,450: the first transfer (a1 to b1) got
        // through because A sent fragmentation-needed and a1's kernel lowered its path MTU
        // (which then also lowers the MSS a1 offers b1 for the second).
        #expect(a.log.contains("fragmentation-needed "), "\(a.log)")
        #expect(a.log.contains("port eth0: offloads checksums, TSO, UDP-tunnel GSO") == offload, "\(a.log)")
        let frames = try Tool.tsharkFields(capture, ["ip.src", "ip.dst", "udp.dstport", "vxlan.vni", "ip.checksum.status", "tcp.checksum.status"])
        let tunnelled = frames.filter { $0[3] == ["1"] }
        #expect(tunnelled.count > (offload ? 50 : 1_000), "VXLAN frames on A's uplink: \(tunnelled.count) of \(frames.count)")
        let nodes = [underlay.nodeIP(0), underlay.nodeIP(1)]
        for frame in tunnelled {
            #expect(Set(frame[0].prefix(1) + frame[1].prefix(1)) == Set(nodes) && frame[2] == ["8472"], "\(frame)")
            #expect(!frame[4].contains("0") && (offload || !frame[5].contains("0")), "a bad checksum (tshark status 0): \(frame)")
        }
    }

    /// Two Pier nodes with the other backends: IP-in-IP (tshark sees protocol 4 between the
    /// node IPs), flannel's UDP (port 8285) and host-gw (pod addresses on the underlay, no
    /// tunnel); ping and TCP both ways as over VXLAN.
    @Test(arguments: ["ipip", "udp", "host-gw"])
    func twoPierNodes(backend: String) throws {
        let tag = ["ipip": "pi", "udp": "pu", "host-gw": "ph"][backend]!
        let underlay = try OverlayUnderlay(tag: tag, subnet: ["ipip": 84, "udp": 85, "host-gw": 86][backend]!)
        let capture = underlay.directory.path("a-eth0.pcap")
        let a = try underlay.pierNode(0, backend: backend, extra: ["--capture", "eth0=\(capture)"])
        let b = try underlay.pierNode(1, backend: backend)
        defer { a.stop(); b.stop() }
        try underlay.pingAndTransfer()
        #expect(a.stop() == 0 && b.stop() == 0, "\(a.log)\n\(b.log)")
        let frames = try Tool.tsharkFields(capture, ["ip.src", "ip.dst", "ip.proto", "udp.dstport", "ip.checksum.status"])
        let nodes = Set([underlay.nodeIP(0), underlay.nodeIP(1)])
        let outer = frames.filter { Set($0[0].prefix(1) + $0[1].prefix(1)) == nodes }
        switch backend {
        case "ipip":
            #expect(outer.filter { $0[2] == ["4", "6"] }.count > 1_000, "IP-in-IP TCP frames: \(outer.count) of \(frames.count)")
        case "udp":
            #expect(outer.filter { $0[2].first == "17" && $0[3].first == "8285" }.count > 1_000, "UDP-encapsulated frames: \(outer.count) of \(frames.count)")
        default:
            let pods = Set([underlay.podIP(0), underlay.podIP(1)])
            let routed = frames.filter { $0[2] == ["6"] && Set($0[0] + $0[1]) == pods }
            #expect(routed.count > 1_000 && outer.isEmpty, "host-gw: pod to pod TCP frames, one IP header: \(routed.count) of \(frames.count)")
        }
        #expect(frames.allSatisfy { !$0[4].contains("0") }, "a bad IPv4 checksum on A's uplink")
    }

    /// NAT and the overlay together, as on a Kubernetes node with flannel and kube-proxy:
    /// both nodes masquerade their pods' traffic leaving by the uplink, and node A has a
    /// Service over a pod of its own (a2) and a pod on node B (b1), with a node port. Pod a1's
    /// connections to the cluster IP are served by both, and both see a1's own address: b1's
    /// connection leaves by the tunnel (not masqueraded), a2's is DNATed and switched back into
    /// its own bridge through conntrack, as br_netfilter and kube-proxy do (only a pod reaching
    /// itself is masqueraded). A host on
    /// the underlay (node B's namespace, 192.168.87.30) reaches both through A's node port;
    /// b1 then sees A's tunnel address, as kube-proxy's masquerade to flannel.1 gives.
    @Test func serviceAcrossNodesOverVXLAN() throws {
        let underlay = try OverlayUnderlay(tag: "s", subnet: 87)
        let service = """
            nat:
              masquerade:
                - {source: 10.87.1.0/24, out: eth0}
            services:
              - name: web
                clusterIP: 10.96.87.10
                ports: [{proto: tcp, port: 80, targetPort: 8080, nodePort: 30080}]
                endpoints: [\(underlay.podIP(0, 2)), \(underlay.podIP(1))]
            """
        let a = try underlay.pierNode(0, backend: "vxlan", pods: 2, more: service)
        let b = try underlay.pierNode(1, backend: "vxlan", more: "nat:\n  masquerade:\n    - {source: 10.87.2.0/24, out: eth0}")
        defer { a.stop(); b.stop() }
        try Live.ipAll([["-n", underlay.node(1), "addr", "add", "192.168.87.30/24", "dev", "plxsbbr"]])
        let reached = try Live.wait(seconds: 8) { try Live.exec(underlay.pod(0), ["ping", "-c", "1", "-W", "1", underlay.podIP(1)]).status == 0 }
        #expect(reached, "pod a1 never reached pod b1")
        let servers = try [(underlay.pod(0, 2), "a2"), (underlay.pod(1), "b1")].map { namespace, name in
            let server = try LiveProgram(namespace, ["python3", "-c", Scripts.namedServer, "8080", name], log: underlay.directory.path("\(name).log"))
            #expect(Live.wait(seconds: 5) { server.output.contains("listening") }, "\(name): \(server.output)")
            return server
        }
        let client = try LiveProgram(underlay.pod(0), ["python3", "-c", Scripts.namedClient, "10.96.87.10", "80", "4"],
                                     log: underlay.directory.path("client.log"))
        #expect(client.finish() == 0, "\(client.output)")
        #expect(client.answers.sorted() == ["a2", "a2", "b1", "b1"], "\(client.output)")
        #expect(servers[0].peers == [underlay.podIP(0), underlay.podIP(0)], "a2 (same bridge): \(servers[0].output)")
        #expect(servers[1].peers == [underlay.podIP(0), underlay.podIP(0)], "b1 (across the tunnel): \(servers[1].output)")
        let outside = try LiveProgram(underlay.node(1), ["python3", "-c", Scripts.namedClient, underlay.nodeIP(0), "30080", "4"],
                                      log: underlay.directory.path("outside.log"))
        #expect(outside.finish() == 0, "\(outside.output)")
        #expect(outside.answers.sorted() == ["a2", "a2", "b1", "b1"], "node port: \(outside.output)")
        #expect(Array(servers[1].peers.dropFirst(2)) == ["10.87.1.0", "10.87.1.0"], "b1 via the node port: \(servers[1].output)")
        #expect(a.stop() == 0 && b.stop() == 0, "\(a.log)\n\(b.log)")
    }

    /// bench/live-overlay-iperf.sh runs end to end (a smoke check: its numbers are not judged).
    @Test(.enabled(if: Live.kernelHas("vxlan", "id", "1", "dstport", "8472")))
    func benchScriptSmoke() throws {
        guard Tool.find("iperf3") != nil, Tool.find("bridge") != nil else {
            Issue.record("iperf3 or iproute2's bridge is not installed (make test-deps installs them)")
            return
        }
        let script = Paths.packageRoot.appendingPathComponent("bench/live-overlay-iperf.sh").path
        // Without Open vSwitch's daemons even where it is installed: a smoke check needs no peer of
        // that weight (PIER_BENCH_OVS=0).
        let result = try Tool.run("/bin/bash", [script, "1", try #require(Paths.pier)], environment: ["PIER_BENCH_OVS": "0"])
        #expect(result.status == 0, "\(result)")
        for prefix in ["  two pier switch nodes (no offloads)", "  two pier switch nodes --offload", "  two linux nodes"] {
            let line = result.lines.first { $0.hasPrefix(prefix) } ?? ""
            let number = line.split(separator: ":").dropFirst().first?.split(separator: " ").first.flatMap { Double($0) }
            #expect((number ?? 0) > 0, "no throughput for \(prefix) in \(result)")
        }
    }

    /// The Linux kernel as node B, for each backend as flannel or Calico set it up: `vxlan`
    /// (a VXLAN device, id 1, port 8472, with flannel's onlink route, static neighbour and FDB
    /// entries pointing at Pier's VTEP), `host-gw` (a route to A's pod subnet via A's node
    /// IP) and `ipip` (an ipip tunnel device to A). Ping and 4 MB of TCP both ways between
    /// the pod behind Pier and the pod behind the kernel; the kernel's tunnel device counts
    /// the packets it received from Pier and sent to it.
    @Test(.enabled(if: Live.kernelHas("vxlan", "id", "1", "dstport", "8472")), arguments: ["vxlan", "host-gw"])
    func kernelAsThePeerNode(backend: String) throws {
        try kernelPeer(backend: backend, offload: false)
    }

    /// The same with `--offload`: over VXLAN partial checksums cross the tunnel both ways;
    /// over host-gw 64 KB TSO segments are routed whole to the kernel.
    @Test(.enabled(if: Live.kernelHas("vxlan", "id", "1", "dstport", "8472")), arguments: ["vxlan", "host-gw"])
    func kernelAsThePeerNodeWithOffload(backend: String) throws {
        try kernelPeer(backend: backend, offload: true)
    }

    /// The same with an `ipip` tunnel device (Calico's tunl0), on kernels that have one.
    @Test(.enabled(if: Live.kernelHas("ipip"))) func kernelAsThePeerNodeOverIPIP() throws {
        try kernelPeer(backend: "ipip", offload: false)
    }

    private func kernelPeer(backend: String, offload: Bool) throws {
        let tag = ["vxlan": "kx", "host-gw": "kh", "ipip": "ki"][backend]! + (offload ? "o" : "")
        let underlay = try OverlayUnderlay(tag: tag, subnet: ["vxlan": 81, "host-gw": 82, "ipip": 83][backend]! + (offload ? 10 : 0))
        try underlay.kernelNode(1, backend: backend)
        let a = try underlay.pierNode(0, backend: backend, extra: offload ? ["--offload"] : [])
        defer { a.stop() }
        try underlay.pingAndTransfer()
        #expect(a.stop() == 0, "\(a.log)")
        if backend != "host-gw" {
            #expect(a.log.contains("encapsulated ") && a.log.contains("decapsulated "), "\(a.log)")
            let stats = try Live.exec(underlay.node(1), ["cat", "/sys/class/net/\(underlay.tunnel)/statistics/rx_packets",
                                                         "/sys/class/net/\(underlay.tunnel)/statistics/tx_packets"])
            let counts = stats.lines.compactMap { Int($0) }
            // With --offload over VXLAN super-frames cross whole: the device counts GSO packets.
            let least = offload && backend == "vxlan" ? 50 : 1_000
            #expect(counts.count == 2 && counts.allSatisfy { $0 > least }, "the kernel's \(backend) device: \(counts)")
        } else {
            #expect(!a.log.contains("encapsulated "), "host-gw encapsulates nothing: \(a.log)")
        }
    }
}

/// Two nodes on one machine for the overlay tests. Node `i` (0 is A, 1 is B) is namespace
/// `plx-<tag><a|b>` with node IP 192.168.<subnet>.<10 + 10i> on the underlay (a veth between
/// the node namespaces) and pod subnet 10.<subnet>.<i + 1>.0/24; its pod is namespace
/// `plx-<tag><a|b>1` at 10.<subnet>.<i + 1>.2. A Pier node's uplink TAP and its veth end
/// meet on a kernel bridge in the node namespace, as in the two-node live test.
final class OverlayUnderlay {
    let tag: String
    let subnet: Int
    /// What every namespace and device name starts with (`plx`; other suites pass their own).
    let prefix: String
    let directory: TemporaryDirectory
    private var configs: [String] = []

    init(tag: String, subnet: Int, prefix: String = "plx") throws {
        self.tag = tag
        self.subnet = subnet
        self.prefix = prefix
        directory = try TemporaryDirectory()
        cleanUp()
        try Live.ipAll([
            ["netns", "add", node(0)], ["netns", "add", node(1)],
            ["-n", node(0), "link", "add", veth(0), "type", "veth", "peer", "name", veth(1), "netns", node(1)],
        ])
    }

    deinit { cleanUp() }

    private func cleanUp() {
        for config in configs { _ = try? Tool.pier("down", config) }
        for i in 0...1 {
            _ = try? Live.ip("netns", "delete", pod(i))
            _ = try? Live.ip("netns", "delete", node(i))
        }
    }

    private func letter(_ i: Int) -> String { i == 0 ? "a" : "b" }
    /// Node `i`'s namespace.
    func node(_ i: Int) -> String { "\(prefix)-\(tag)\(letter(i))" }
    /// Node `i`'s pod `n` namespace (1-based).
    func pod(_ i: Int, _ n: Int = 1) -> String { "\(prefix)-\(tag)\(letter(i))\(n)" }
    /// Node `i`'s end of the underlay veth.
    func veth(_ i: Int) -> String { "\(prefix)\(tag)\(letter(i))v" }
    /// Node `i`'s address on the underlay.
    func nodeIP(_ i: Int) -> String { "192.168.\(subnet).\(10 + 10 * i)" }
    /// Node `i`'s pod subnet.
    func podCIDR(_ i: Int) -> String { "10.\(subnet).\(i + 1).0/24" }
    /// Node `i`'s pod `n` address.
    func podIP(_ i: Int, _ n: Int = 1) -> String { "10.\(subnet).\(i + 1).\(n + 1)" }
    /// Node `i`'s VTEP MAC.
    func vtepMAC(_ i: Int) -> String { String(format: "02:aa:00:00:%02x:%02x", subnet, i + 1) }
    /// The kernel node's tunnel device (B).
    var tunnel: String { "\(prefix)\(tag)bt" }

    /// Writes node `i`'s topology (the other node its one peer, `pods` pods, `more` YAML
    /// appended: nat, services), makes its uplink TAP on a kernel bridge with its veth end,
    /// runs `pier up` and starts `pier switch` in the node's namespace.
    func pierNode(_ i: Int, backend: String, pods: Int = 1, more: String = "", extra: [String] = []) throws -> SwitchProcess {
        let other = 1 - i
        let path = directory.path("\(letter(i)).yaml")
        let port = backend == "vxlan" ? "\n  vni: 1\n  port: 8472\n  vtepMAC: \(vtepMAC(i))" : ""
        let vtep = backend == "vxlan" ? ", vtepMAC: \(vtepMAC(other))" : ""
        try """
            node: \(node(i))
            ports:
              - {name: eth0, tap: \(prefix)\(tag)\(letter(i))up, mac: 02:00:c0:a8:\(String(format: "%02x", subnet)):\(10 + 10 * i), ip: \(nodeIP(i))/24}
            \((1...pods).map { "  - {name: c\($0), tap: \(prefix)\(tag)\(letter(i))\($0)}" }.joined(separator: "\n"))
            bridges:
              - {name: cni0, ports: [\((1...pods).map { "c\($0)" }.joined(separator: ", "))], ip: 10.\(subnet).\(i + 1).1/24, mac: 0a:58:0a:\(String(format: "%02x", subnet)):0\(i + 1):01}
            overlay:
              backend: \(backend)\(port)
              podCIDR: \(podCIDR(i))
              peers:
                - {node: \(node(other)), ip: \(nodeIP(other)), podCIDR: \(podCIDR(other))\(vtep)}
            containers:
            \((1...pods).map { "  - {name: \(pod(i, $0)), port: c\($0), ip: \(podIP(i, $0))/24}" }.joined(separator: "\n"))
            \(more)
            """.write(toFile: path, atomically: true, encoding: .utf8)
        configs.append(path)
        let ns = node(i), bridge = "\(prefix)\(tag)\(letter(i))br", tap = "\(prefix)\(tag)\(letter(i))up"
        try Live.ipAll([
            ["-n", ns, "link", "add", bridge, "type", "bridge"],
            ["-n", ns, "link", "set", bridge, "up"],
            ["-n", ns, "link", "set", veth(i), "master", bridge, "up"],
            ["-n", ns, "tuntap", "add", "dev", tap, "mode", "tap"],
            ["-n", ns, "link", "set", tap, "master", bridge, "up"],
        ])
        let up = try Tool.pier("up", path)
        #expect(up.status == 0, "\(up)")
        return try SwitchProcess(config: path, log: directory.path("\(letter(i)).log"), ports: 1 + pods, namespace: ns, extra: extra)
    }

    /// Makes node `i` a Linux node: its veth end with the node IP, a bridge with the pod
    /// gateway and a pod namespace behind it, forwarding on, and the route to the other
    /// node's pod subnet as `backend` programs it.
    func kernelNode(_ i: Int, backend: String) throws {
        let other = 1 - i, ns = node(i), bridge = "\(prefix)\(tag)\(letter(i))br", podVeth = "\(prefix)\(tag)\(letter(i))1"
        var commands: [[String]] = [
            ["netns", "add", pod(i)],
            ["-n", ns, "addr", "add", "\(nodeIP(i))/24", "dev", veth(i)],
            ["-n", ns, "link", "set", veth(i), "up"],
            ["-n", ns, "link", "add", bridge, "type", "bridge"],
            ["-n", ns, "addr", "add", "10.\(subnet).\(i + 1).1/24", "dev", bridge],
            ["-n", ns, "link", "set", bridge, "up"],
            ["-n", ns, "link", "add", podVeth, "type", "veth", "peer", "name", "eth0", "netns", pod(i)],
            ["-n", ns, "link", "set", podVeth, "master", bridge, "up"],
            ["netns", "exec", ns, "sysctl", "-qw", "net.ipv4.ip_forward=1"],
            ["-n", pod(i), "addr", "add", "\(podIP(i))/24", "dev", "eth0"],
            ["-n", pod(i), "link", "set", "eth0", "up"],
            ["-n", pod(i), "link", "set", "lo", "up"],
            ["-n", pod(i), "route", "add", "default", "via", "10.\(subnet).\(i + 1).1"],
        ]
        let otherNetwork = "10.\(subnet).\(other + 1).0"
        switch backend {
        case "vxlan":
            // What flannel programs: flannel.1 with the VTEP MAC and podCIDR.network/32, an
            // onlink route via the peer's podCIDR.network, its ARP entry, its FDB entry.
            commands += [
                ["-n", ns, "link", "add", tunnel, "address", vtepMAC(i), "type", "vxlan", "id", "1", "dstport", "8472",
                 "local", nodeIP(i), "dev", veth(i), "nolearning"],
                ["-n", ns, "addr", "add", "10.\(subnet).\(i + 1).0/32", "dev", tunnel],
                ["-n", ns, "link", "set", tunnel, "up"],
                ["-n", ns, "neigh", "add", otherNetwork, "lladdr", vtepMAC(other), "dev", tunnel, "nud", "permanent"],
                ["-n", ns, "route", "add", podCIDR(other), "via", otherNetwork, "dev", tunnel, "onlink"],
            ]
        case "host-gw":
            commands += [["-n", ns, "route", "add", podCIDR(other), "via", nodeIP(other), "dev", veth(i)]]
        case "ipip":
            commands += [
                ["-n", ns, "link", "add", tunnel, "type", "ipip", "local", nodeIP(i), "remote", nodeIP(other), "dev", veth(i)],
                ["-n", ns, "link", "set", tunnel, "up"],
                ["-n", ns, "route", "add", podCIDR(other), "dev", tunnel],
            ]
        default:
            Issue.record("no kernel setup for backend \(backend)")
        }
        try Live.ipAll(commands)
        if backend == "vxlan" {
            let bridgeTool = try #require(Tool.find("bridge"), "iproute2's bridge tool")
            let fdb = try Tool.run(bridgeTool, ["-n", ns, "fdb", "append", vtepMAC(other), "dev", tunnel, "dst", nodeIP(other)])
            #expect(fdb.status == 0, "bridge fdb append: \(fdb)")
        }
    }

    /// Pod A pings pod B and back (waiting first for the overlay's ARP), with TTL 62 (each
    /// node routes once), then 4 MB of TCP each way arrive identical (SHA-256).
    func pingAndTransfer(bytes: Int = 4_000_000) throws {
        let reached = try Live.wait(seconds: 8) { try Live.exec(pod(0), ["ping", "-c", "1", "-W", "1", podIP(1)]).status == 0 }
        #expect(reached, "pod A never reached pod B")
        for (from, to) in [(0, 1), (1, 0)] {
            let ping = try Live.exec(pod(from), ["ping", "-c", "3", "-i", "0.2", "-W", "2", podIP(to)])
            #expect(ping.stdout.contains("3 received") && ping.stdout.contains("ttl=62"), "\(pod(from)) -> \(podIP(to)): \(ping)")
        }
        for (from, to, port) in [(0, 1, 5011), (1, 0, 5012)] {
            let data = directory.path("data-\(port)")
            try writeRandomFile(data, count: bytes)
            let received = directory.path("received-\(port)")
            let server = try LiveProgram(pod(to), ["python3", "-c", Scripts.sink, String(port), received], log: directory.path("sink-\(port).log"))
            let client = try Live.exec(pod(from), ["python3", "-c", Scripts.send, podIP(to), String(port), data])
            #expect(client.status == 0, "\(pod(from)) -> \(pod(to)): \(client)")
            #expect(server.finish() == 0, "\(server.output)")
            #expect(try Live.sha256(received) == Live.sha256(data), "\(pod(from)) -> \(pod(to))")
        }
    }
}
