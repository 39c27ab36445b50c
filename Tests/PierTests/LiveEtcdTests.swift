import Foundation
import PierTestSupport
import Testing

/// `overlay.etcd` live (issue 14): Pier nodes that find each other through flannel's leases in
/// a real etcd, each node a network namespace, the nodes' uplinks on a kernel bridge in an
/// underlay namespace where etcd runs (192.168.77.2:2379). The topologies name no peers. The
/// kernels' ping and TCP in the pods, etcdctl and a Linux node programmed from a lease are the
/// oracles. Names start with `pe`.
@Suite(.serialized, .enabled(if: Live.available && EtcdServer.unavailableReason == nil,
                             "live etcd tests need root, ip, ping, python3, /dev/net/tun, etcd and etcdctl"))
struct LiveEtcdTests {
    /// Three nodes with two pods each: every pod pings every other pod, 4 MB of TCP between two
    /// nodes arrive identical; `pier get peer` shows each peer's lease. A fourth node joins:
    /// node 1's pod reaches its pod within 1 s of its lease appearing in etcd, and every pod
    /// reaches it. It stops and the test revokes its lease: the others drop it (no peer, no
    /// route; a ping gets Pier's destination unreachable as Linux would send without a route).
    @Test func nodesFindEachOtherThroughEtcd() throws {
        let cluster = try EtcdCluster()
        let nodes = try (1...3).map { try cluster.pierNode($0) }
        defer { for node in nodes { node.stop() } }
        try cluster.expectAllReach(nodes: [1, 2, 3])
        try cluster.transfer(from: (1, 1), to: (3, 2))
        let peers = try Tool.pier("get", "--node", cluster.name(1), "peer")
        #expect(peers.stdout.contains("node: 10.77.2.0-24") && peers.stdout.contains("lease: {id: ")
                && peers.stdout.contains("key: /coreos.com/network/subnets/10.77.3.0-24"), "\(peers)")

        let fourth = try cluster.pierNode(4, waitForPorts: false)
        defer { fourth.stop() }
        let key = "/coreos.com/network/subnets/10.77.4.0-24"
        #expect(Live.wait(seconds: 10) { (try? cluster.etcd.ctl("get", key, "--keys-only"))?.contains(key) == true })
        let appeared = Date()
        let reached = try Live.wait(seconds: 5) {
            try Live.exec(cluster.pod(1, 1), ["ping", "-c", "1", "-W", "0.2", cluster.podIP(4, 1)]).status == 0
        }
        let delay = Date().timeIntervalSince(appeared)
        FileHandle.standardError.write(Data("etcd join: node 1's pod reached node 4's \(String(format: "%.3f", delay)) s after its lease appeared\n".utf8))
        #expect(reached && delay < 1.0, "node 1's pod reached node 4's \(delay) s after its lease appeared\n\(nodes[0].log)")
        try cluster.expectAllReach(nodes: [1, 2, 3, 4])

        #expect(fourth.stop() == 0)
        let lease = try cluster.leaseID(key)
        try cluster.etcd.ctl("lease", "revoke", lease)
        let dropped = Live.wait(seconds: 2) {
            nodes.allSatisfy { node in (try? Tool.pier("get", "--node", cluster.name(nodes.firstIndex { $0 === node }! + 1), "peer"))?.stdout.contains("10.77.4.0-24") == false }
        }
        #expect(dropped, "\(nodes[0].log)")
        let routes = try cluster.routes(node: 1)
        #expect(!routes.contains("10.77.4.0/24") && routes.contains("10.77.2.0/24"), "\(routes)")
        let ping = try Live.exec(cluster.pod(1, 1), ["ping", "-c", "1", "-W", "1", cluster.podIP(4, 1)])
        #expect(ping.status != 0 && ping.stdout.contains("From 10.77.1.1") && ping.stdout.contains("Unreachable"), "\(ping)")
        #expect(nodes[0].log.contains("change: removed peer 10.77.4.0-24"), "\(nodes[0].log)")
        for node in nodes { #expect(node.stop() == 0, "\(node.log)") }
    }

    /// etcd killed for 10 s during a ping every 20 ms and a TCP transfer between two nodes: no
    /// ping lost, the transfer identical; each switch says once that etcd is gone and once that
    /// it is back. A third node started while etcd is down leases its subnet once etcd is back,
    /// and the first two learn it. A malformed lease and one outside the network are logged
    /// once each and change nothing.
    @Test func etcdDownForTenSeconds() throws {
        let cluster = try EtcdCluster()
        try cluster.etcd.put("/coreos.com/network/subnets/10.77.9.0-24", "{not json")
        try cluster.etcd.put("/coreos.com/network/subnets/10.78.1.0-24",
                             #"{"PublicIP":"192.168.77.99","BackendType":"vxlan","BackendData":{"VNI":1,"VtepMAC":"02:aa:00:00:00:99"}}"#)
        let nodes = try (1...2).map { try cluster.pierNode($0, pods: 1) }
        defer { for node in nodes { node.stop() } }
        try cluster.expectAllReach(nodes: [1, 2], pods: 1)
        let pinger = try LiveProgram(cluster.pod(1, 1), ["ping", "-i", "0.02", "-c", "650", "-W", "1", cluster.podIP(2, 1)],
                                     log: cluster.directory.path("ping.log"))
        Thread.sleep(forTimeInterval: 0.5)
        cluster.etcd.stop()
        let third = try cluster.pierNode(3, pods: 1, waitForPorts: false)
        defer { third.stop() }
        try cluster.transfer(from: (1, 1), to: (2, 1), bytes: 8_000_000)
        Thread.sleep(forTimeInterval: 9)
        try cluster.etcd.start()
        #expect(pinger.finish() == 0 && pinger.output.contains("650 received"), "\(pinger.output)")
        // Both first nodes learn the third. Each watcher retries at most 5 s apart, and its first
        // retry may find etcd still starting (under load, seconds): allow two retries and more.
        let learned = try Live.wait(seconds: 20) {
            try [1, 2].allSatisfy { try Live.exec(cluster.pod($0, 1), ["ping", "-c", "1", "-W", "0.3", cluster.podIP(3, 1)]).status == 0 }
        }
        #expect(learned, "\(nodes[0].log)\n\(third.log)")
        try cluster.expectAllReach(nodes: [1, 2, 3], pods: 1)
        for node in nodes {
            let log = node.log
            #expect(log.components(separatedBy: "etcd: etcd unreachable").count == 2, "\(log)")
            #expect(log.components(separatedBy: "etcd: etcd reachable again").count == 2, "\(log)")
            #expect(log.components(separatedBy: "10.77.9.0-24 ignored").count == 2, "\(log)")
            #expect(log.components(separatedBy: "10.78.1.0-24 ignored: subnet 10.78.1.0/24 is not a /24 of the network 10.77.0.0/16").count == 2, "\(log)")
        }
        #expect(third.log.contains("waiting for etcd"), "\(third.log)")
        for node in nodes + [third] { #expect(node.stop() == 0, "\(node.log)") }
    }

    /// A Linux kernel node (namespace pe-n5): the test writes its lease exactly as flanneld does
    /// and programs its VXLAN device (VNI 1, port 8472), onlink routes, neighbours and FDB
    /// entries from the Pier nodes' leases, as flanneld does on a lease event. Pods behind Pier
    /// and the pod behind the kernel ping each other both ways, and TCP crosses identical.
    @Test(.enabled(if: Live.kernelHas("vxlan", "id", "1", "dstport", "8472")))
    func kernelNodeFromAFlannelLease() throws {
        let cluster = try EtcdCluster()
        let nodes = try (1...2).map { try cluster.pierNode($0, pods: 1) }
        defer { for node in nodes { node.stop() } }
        try cluster.kernelNode(5)
        let reached = try Live.wait(seconds: 5) {
            try Live.exec(cluster.pod(1, 1), ["ping", "-c", "1", "-W", "0.3", cluster.podIP(5, 1)]).status == 0
        }
        #expect(reached, "\(nodes[0].log)")
        for (from, to) in [(1, 5), (5, 1), (2, 5), (5, 2)] {
            let ping = try Live.exec(cluster.pod(from, 1), ["ping", "-c", "3", "-i", "0.2", "-W", "2", cluster.podIP(to, 1)])
            #expect(ping.stdout.contains("3 received") && ping.stdout.contains("ttl=62"), "\(from) -> \(to): \(ping)")
        }
        try cluster.transfer(from: (5, 1), to: (1, 1))
        try cluster.transfer(from: (2, 1), to: (5, 1))
        for node in nodes { #expect(node.stop() == 0, "\(node.log)") }
    }
}

/// The nodes of the etcd tests. Namespace `pe-u` is the underlay: bridge `peu` with address
/// 192.168.77.2/24, where etcd listens. Node `i` is namespace `pe-n<i>`: a veth to the underlay
/// bridge, on a kernel bridge of its own with Pier's uplink TAP; the kernel bridge has
/// 192.168.77.<10i+1> (the switch reaches etcd through it), Pier's uplink 192.168.77.<10i>.
/// Node `i`'s pods `pe-n<i>p<k>` are 10.77.<i>.<k+1> on its cni0 bridge 10.77.<i>.1/24.
final class EtcdCluster {
    let directory: TemporaryDirectory
    let etcd: EtcdServer
    private var configs: [String] = []
    private var nodeCount = 0
    static let underlay = "pe-u"

    init() throws {
        directory = try TemporaryDirectory()
        Self.cleanUp()
        try Live.ipAll([
            ["netns", "add", Self.underlay],
            ["-n", Self.underlay, "link", "add", "peu", "type", "bridge"],
            ["-n", Self.underlay, "addr", "add", "192.168.77.2/24", "dev", "peu"],
            ["-n", Self.underlay, "link", "set", "peu", "up"],
            ["-n", Self.underlay, "link", "set", "lo", "up"],
        ])
        etcd = try EtcdServer(host: "192.168.77.2", namespace: Self.underlay)
        try etcd.put("/coreos.com/network/config", #"{"Network":"10.77.0.0/16","SubnetLen":24,"Backend":{"Type":"vxlan","VNI":1,"Port":8472}}"#)
    }

    deinit {
        etcd.stop()
        for config in configs { _ = try? Tool.pier("down", config) }
        Self.cleanUp()
    }

    /// Removes every namespace these tests make (leftovers of an interrupted run too).
    static func cleanUp() {
        for i in 1...5 {
            for k in 1...2 { _ = try? Live.ip("netns", "delete", "pe-n\(i)p\(k)") }
            _ = try? Live.ip("netns", "delete", "pe-n\(i)")
        }
        _ = try? Live.ip("netns", "delete", underlay)
    }

    /// Node `i`'s namespace and node name.
    func name(_ i: Int) -> String { "pe-n\(i)" }
    /// Node `i`'s pod `k` namespace.
    func pod(_ i: Int, _ k: Int) -> String { "pe-n\(i)p\(k)" }
    /// Node `i`'s pod `k` address.
    func podIP(_ i: Int, _ k: Int) -> String { "10.77.\(i).\(k + 1)" }
    /// Node `i`'s node IP.
    func nodeIP(_ i: Int) -> String { "192.168.77.\(10 * i)" }
    /// Node `i`'s VTEP MAC.
    func vtepMAC(_ i: Int) -> String { String(format: "02:aa:00:00:4d:%02x", i) }

    /// Joins node `i`'s namespace to the underlay; returns its veth end's name there.
    private func joinUnderlay(_ i: Int) throws -> String {
        let veth = "pen\(i)v"
        try Live.ipAll([
            ["netns", "add", name(i)],
            ["-n", Self.underlay, "link", "add", "peu\(i)", "type", "veth", "peer", "name", veth, "netns", name(i)],
            ["-n", Self.underlay, "link", "set", "peu\(i)", "master", "peu", "up"],
            ["-n", name(i), "link", "set", "lo", "up"],
        ])
        return veth
    }

    /// Writes node `i`'s topology (overlay.etcd, no peers), makes its namespace, runs `pier up`
    /// and starts `pier switch` there.
    func pierNode(_ i: Int, pods: Int = 2, waitForPorts: Bool = true) throws -> SwitchProcess {
        let veth = try joinUnderlay(i)
        let path = directory.path("n\(i).yaml")
        try """
            node: \(name(i))
            ports:
              - {name: eth0, tap: pen\(i)up, mac: 02:00:c0:a8:4d:\(String(format: "%02x", 10 * i)), ip: \(nodeIP(i))/24}
            \((1...pods).map { "  - {name: c\($0), tap: pen\(i)p\($0)}" }.joined(separator: "\n"))
            bridges:
              - {name: cni0, ports: [\((1...pods).map { "c\($0)" }.joined(separator: ", "))], ip: 10.77.\(i).1/24, mac: 0a:58:0a:4d:0\(i):01}
            overlay:
              backend: vxlan
              vtepMAC: \(vtepMAC(i))
              podCIDR: 10.77.\(i).0/24
              etcd: {endpoints: [http://192.168.77.2:2379]}
            containers:
            \((1...pods).map { "  - {name: \(pod(i, $0)), port: c\($0), ip: \(podIP(i, $0))/24}" }.joined(separator: "\n"))
            """.write(toFile: path, atomically: true, encoding: .utf8)
        configs.append(path)
        let ns = name(i), bridge = "pen\(i)br", tap = "pen\(i)up"
        try Live.ipAll([
            ["-n", ns, "link", "add", bridge, "type", "bridge"],
            ["-n", ns, "addr", "add", "192.168.77.\(10 * i + 1)/24", "dev", bridge],
            ["-n", ns, "link", "set", bridge, "up"],
            ["-n", ns, "link", "set", veth, "master", bridge, "up"],
            ["-n", ns, "tuntap", "add", "dev", tap, "mode", "tap"],
            ["-n", ns, "link", "set", tap, "master", bridge, "up"],
        ])
        let up = try Tool.pier("up", path)
        #expect(up.status == 0, "\(up)")
        return try SwitchProcess(config: path, log: directory.path("n\(i).log"), ports: waitForPorts ? 1 + pods : 0, namespace: ns)
    }

    /// Makes node `i` a Linux node as flanneld would: writes its lease (flannel's JSON), then
    /// programs flannel.1 (VXLAN, VNI 1, port 8472) from every other lease in etcd.
    func kernelNode(_ i: Int) throws {
        let veth = try joinUnderlay(i)
        let ns = name(i), bridge = "pen\(i)br", podVeth = "pen\(i)p1", tunnel = "pen\(i)t"
        try Live.ipAll([
            ["netns", "add", pod(i, 1)],
            ["-n", ns, "addr", "add", "\(nodeIP(i))/24", "dev", veth],
            ["-n", ns, "link", "set", veth, "up"],
            ["-n", ns, "link", "add", bridge, "type", "bridge"],
            ["-n", ns, "addr", "add", "10.77.\(i).1/24", "dev", bridge],
            ["-n", ns, "link", "set", bridge, "up"],
            ["-n", ns, "link", "add", podVeth, "type", "veth", "peer", "name", "eth0", "netns", pod(i, 1)],
            ["-n", ns, "link", "set", podVeth, "master", bridge, "up"],
            ["netns", "exec", ns, "sysctl", "-qw", "net.ipv4.ip_forward=1"],
            ["-n", pod(i, 1), "addr", "add", "\(podIP(i, 1))/24", "dev", "eth0"],
            ["-n", pod(i, 1), "link", "set", "eth0", "up"],
            ["-n", pod(i, 1), "link", "set", "lo", "up"],
            ["-n", pod(i, 1), "route", "add", "default", "via", "10.77.\(i).1"],
            ["-n", ns, "link", "add", tunnel, "address", vtepMAC(i), "type", "vxlan", "id", "1", "dstport", "8472",
             "local", nodeIP(i), "dev", veth, "nolearning"],
            ["-n", ns, "addr", "add", "10.77.\(i).0/32", "dev", tunnel],
            ["-n", ns, "link", "set", tunnel, "up"],
        ])
        let lease = try etcd.grant(ttl: 600)
        try etcd.put("/coreos.com/network/subnets/10.77.\(i).0-24",
                     #"{"PublicIP":"\#(nodeIP(i))","BackendType":"vxlan","BackendData":{"VNI":1,"VtepMAC":"\#(vtepMAC(i))"}}"#, lease: lease)
        // flanneld's handling of each other lease: neighbour, FDB entry, onlink route.
        let listing = try etcd.ctl("get", "/coreos.com/network/subnets/", "--prefix")
        let lines = listing.split(separator: "\n").map(String.init)
        let bridgeTool = try #require(Tool.find("bridge"), "iproute2's bridge tool")
        for index in stride(from: 0, to: lines.count - 1, by: 2) where !lines[index].hasSuffix("10.77.\(i).0-24") {
            let subnet = String(lines[index].split(separator: "/").last!).replacingOccurrences(of: "-", with: "/")
            let value = try JSONSerialization.jsonObject(with: Data(lines[index + 1].utf8)) as? [String: Any]
            let publicIP = try #require(value?["PublicIP"] as? String)
            let mac = try #require((value?["BackendData"] as? [String: Any])?["VtepMAC"] as? String)
            let network = String(subnet.split(separator: "/")[0])
            try Live.ipAll([
                ["-n", ns, "neigh", "replace", network, "lladdr", mac, "dev", tunnel, "nud", "permanent"],
                ["-n", ns, "route", "replace", subnet, "via", network, "dev", tunnel, "onlink"],
            ])
            let fdb = try Tool.run(bridgeTool, ["-n", ns, "fdb", "append", mac, "dev", tunnel, "dst", publicIP])
            #expect(fdb.status == 0, "bridge fdb append: \(fdb)")
        }
    }

    /// Node `i`'s route table, as the control socket's `routes` table gives it.
    func routes(node i: Int) throws -> String {
        let ask = """
            import socket, sys
            s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
            s.sendall(b'{"v":1,"op":"table","name":"routes"}\\n')
            data = b""
            while not data.endswith(b"\\n"):
                chunk = s.recv(65536)
                if not chunk: break
                data += chunk
            print(data.decode())
            """
        return try Tool.run("/usr/bin/python3", ["-c", ask, "/run/pier/\(name(i)).sock"]).stdout
    }

    /// The lease ID (hexadecimal) `key` is attached to.
    func leaseID(_ key: String) throws -> String {
        let json = try etcd.ctl("get", key, "-w", "json")
        let decimal = json.components(separatedBy: "\"lease\":").dropFirst().first?.prefix { $0.isNumber } ?? ""
        return String(try #require(UInt64(decimal)), radix: 16)
    }

    /// Every pod of `nodes` pings every other (waiting first for the first path to come up).
    func expectAllReach(nodes: [Int], pods: Int = 2) throws {
        let all = nodes.flatMap { node in (1...pods).map { (node, $0) } }
        for (i, k) in all {
            for (j, l) in all where (i, k) != (j, l) {
                let ok = try Live.wait(seconds: 8) { try Live.exec(pod(i, k), ["ping", "-c", "1", "-W", "1", podIP(j, l)]).status == 0 }
                #expect(ok, "\(pod(i, k)) -> \(podIP(j, l))")
            }
        }
    }

    /// `bytes` random bytes over TCP from one pod to another arrive identical (SHA-256).
    func transfer(from: (Int, Int), to: (Int, Int), bytes: Int = 4_000_000) throws {
        let port = 5100 + from.0 * 10 + to.0
        let data = directory.path("data-\(port)"), received = directory.path("received-\(port)")
        try writeRandomFile(data, count: bytes)
        let server = try LiveProgram(pod(to.0, to.1), ["python3", "-c", Scripts.sink, String(port), received],
                                     log: directory.path("sink-\(port).log"))
        let client = try Live.exec(pod(from.0, from.1), ["python3", "-c", Scripts.send, podIP(to.0, to.1), String(port), data])
        #expect(client.status == 0, "\(client)")
        #expect(server.finish() == 0, "\(server.output)")
        #expect(try Live.sha256(received) == Live.sha256(data), "\(pod(from.0, from.1)) -> \(pod(to.0, to.1))")
    }
}
