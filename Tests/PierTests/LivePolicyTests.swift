import Foundation
import Testing

/// Services' traffic policies live (issue 16): `pier switch` between two containers made by
/// `pier up` and an `outside` host behind the node's upstream router. The kernel's TCP stack
/// is the oracle: the address each server sees its client come from (`getpeername`), and
/// how a connection fails. Namespaces, TAP devices and veths start with `pt`; each test stops
/// only the processes it started, by PID.
@Suite(.serialized, .enabled(if: Live.available, "live tests need root, ip, python3 and /dev/net/tun"))
struct LivePolicyTests {
    /// `externalTrafficPolicy: Local` from the outside host: through the node port, c2 (the
    /// one endpoint on this node) answers every connection and sees the outside host's own
    /// address; the Service whose only endpoint is on another node does not answer at all
    /// (kube-proxy's DROP, "has no local endpoints": the client times out, nothing refuses).
    @Test func externalTrafficPolicyLocalKeepsTheClientAddress() throws {
        let node = try PolicyNode(tag: "l")
        let live = try node.start()
        defer { live.stop() }
        let server = try node.serve(node.container(2), port: 8080, name: "c2")
        defer { server.stop() }
        let client = try node.connect(from: node.outside, to: PolicyNode.nodeIP, port: 30080, count: 3)
        #expect(client.finish() == 0, "\(client.output)")
        #expect(client.answers == ["c2", "c2", "c2"], "\(client.output)")
        #expect(server.peers == Array(repeating: PolicyNode.outsideIP, count: 3), "c2 saw \(server.peers): \(server.output)")
        let refused = try Live.exec(node.outside, ["python3", "-c", Self.attempt, PolicyNode.nodeIP, "30081"])
        #expect(refused.lines == ["timed out"], "\(refused)")
        #expect(live.stop() == 0, "\(live.log)")
        #expect(live.log.contains("service-no-local-endpoints"), "\(live.log)")
    }

    /// A pod reaching a Service whose endpoint shares its bridge: c2 sees c1's own address
    /// (DNAT, no masquerade), and c1 gets its answers (the switched reply un-DNATed). c2
    /// reaching itself through the same Service is masqueraded to the bridge's address.
    @Test func aPodReachingAServiceOnItsOwnBridgeKeepsItsAddress() throws {
        let node = try PolicyNode(tag: "b")
        let live = try node.start()
        defer { live.stop() }
        let server = try node.serve(node.container(2), port: 8080, name: "c2")
        defer { server.stop() }
        let client = try node.connect(from: node.container(1), to: PolicyNode.podServiceIP, port: 80, count: 3)
        #expect(client.finish() == 0, "\(client.output)")
        #expect(client.answers == ["c2", "c2", "c2"], "\(client.output)")
        #expect(server.peers == Array(repeating: node.address(1), count: 3), "c2 saw \(server.peers): \(server.output)")
        let conntrack = try Tool.pier("conntrack", "--node", node.name)
        let entries = conntrack.lines.filter { $0.contains("dst=\(PolicyNode.podServiceIP) ") }
        #expect(entries.count >= 3, "\(conntrack)")
        #expect(entries.allSatisfy { $0.contains(" src=\(node.address(2)) dst=\(node.address(1)) sport=8080 ") }, "\(conntrack)")
        let hairpin = try node.connect(from: node.container(2), to: PolicyNode.podServiceIP, port: 80, count: 1)
        #expect(hairpin.finish() == 0, "\(hairpin.output)")
        #expect(server.peers.last == node.gateway, "c2 to itself: \(server.peers)")
        #expect(live.stop() == 0, "\(live.log)")
    }

    /// `python3 -c ATTEMPT HOST PORT`: one connection with a 2 s timeout; prints `connected`,
    /// `refused` or `timed out`.
    static let attempt = """
        import socket, sys
        try:
            socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=2)
            print("connected")
        except ConnectionRefusedError:
            print("refused")
        except (socket.timeout, TimeoutError):
            print("timed out")
        """
}

/// One node for the policy tests. Namespace `pt-<tag>r` plays the node's upstream router: it
/// runs `pier switch`, holds the uplink's TAP device (`pt<tag>up`, the router's side
/// 192.168.78.1/24) and routes to the `outside` host (`pt-<tag>o`, 203.0.113.10) over a veth;
/// it has no route to the pods. Pods `pt-<tag>1`, `pt-<tag>2` (172.30.78.2–3 on cni0,
/// 172.30.78.1) are made by `pier up`. Services: `local-web` (node port 30080, Local, one
/// endpoint c2 here and one on another node), `remote-web` (node port 30081, Local, its only
/// endpoint elsewhere), `pod-web` (10.96.78.12:80 → c2:8080).
final class PolicyNode {
    static let nodeIP = "192.168.78.25"
    static let routerIP = "192.168.78.1"
    static let outsideIP = "203.0.113.10"
    static let podServiceIP = "10.96.78.12"
    let tag: String
    let directory: TemporaryDirectory
    let config: String
    private var processes: [Process] = []

    /// Makes the router, the outside host and the pods.
    init(tag: String) throws {
        self.tag = tag
        directory = try TemporaryDirectory()
        config = directory.path("node.yaml")
        try """
            node: pt-\(tag)
            ports:
              - {name: eth0, tap: pt\(tag)up, mac: "02:00:c0:a8:4e:19", ip: \(PolicyNode.nodeIP)/24, gateway: \(PolicyNode.routerIP)}
              - {name: c1, tap: pt\(tag)1}
              - {name: c2, tap: pt\(tag)2}
            bridges:
              - {name: cni0, ports: [c1, c2], ip: 172.30.78.1/24, mac: "02:42:ac:1e:4e:01"}
            nat:
              masquerade:
                - {source: 172.30.78.0/24, out: eth0}
            services:
              - name: local-web
                clusterIP: 10.96.78.10
                ports: [{proto: tcp, port: 80, targetPort: 8080, nodePort: 30080}]
                externalTrafficPolicy: Local
                endpoints:
                  - {addresses: [172.30.78.3], nodeName: pt-\(tag)}
                  - {addresses: [10.244.9.9], nodeName: elsewhere}
              - name: remote-web
                clusterIP: 10.96.78.11
                ports: [{proto: tcp, port: 80, targetPort: 8080, nodePort: 30081}]
                externalTrafficPolicy: Local
                endpoints: [{addresses: [10.244.9.9], nodeName: elsewhere}]
              - name: pod-web
                clusterIP: \(PolicyNode.podServiceIP)
                ports: [{proto: tcp, port: 80, targetPort: 8080}]
                endpoints: [172.30.78.3]
            containers:
              - {name: pt-\(tag)1, port: c1, ip: 172.30.78.2/24}
              - {name: pt-\(tag)2, port: c2, ip: 172.30.78.3/24}
            """.write(toFile: config, atomically: true, encoding: .utf8)
        cleanUp()
        let router = "pt-\(tag)r", outside = "pt-\(tag)o"
        try Live.ipAll([
            ["netns", "add", router], ["netns", "add", outside],
            ["-n", router, "tuntap", "add", "dev", "pt\(tag)up", "mode", "tap"],
            ["-n", router, "addr", "add", "\(PolicyNode.routerIP)/24", "dev", "pt\(tag)up"],
            ["-n", router, "link", "set", "pt\(tag)up", "up"],
            ["-n", router, "link", "add", "pt\(tag)rv", "type", "veth", "peer", "name", "eth0", "netns", outside],
            ["-n", router, "addr", "add", "203.0.113.1/24", "dev", "pt\(tag)rv"],
            ["-n", router, "link", "set", "pt\(tag)rv", "up"],
            ["netns", "exec", router, "sysctl", "-qw", "net.ipv4.ip_forward=1"],
            ["-n", outside, "addr", "add", "\(PolicyNode.outsideIP)/24", "dev", "eth0"],
            ["-n", outside, "link", "set", "eth0", "up"],
            ["-n", outside, "link", "set", "lo", "up"],
            ["-n", outside, "route", "add", "default", "via", "203.0.113.1"],
        ])
        let up = try Tool.pier("up", config)
        #expect(up.status == 0, "pier up: \(up)")
    }

    deinit {
        for process in processes where process.isRunning { kill(process.processIdentifier, SIGKILL) }
        cleanUp()
    }

    private func cleanUp() {
        _ = try? Tool.pier("down", config)
        for ns in ["pt-\(tag)r", "pt-\(tag)o"] { _ = try? Live.ip("netns", "delete", ns) }
    }

    /// The node's name (control socket /run/pier/NAME.sock).
    var name: String { "pt-\(tag)" }
    /// The outside host's namespace.
    var outside: String { "pt-\(tag)o" }
    /// Pod `n`'s namespace.
    func container(_ n: Int) -> String { "pt-\(tag)\(n)" }
    /// Pod `n`'s address.
    func address(_ n: Int) -> String { "172.30.78.\(n + 1)" }
    /// cni0's address.
    var gateway: String { "172.30.78.1" }

    /// Starts `pier switch` in the router's namespace, every port up.
    func start() throws -> SwitchProcess {
        try SwitchProcess(config: config, log: directory.path("switch.log"), ports: 3, namespace: "pt-\(tag)r")
    }

    /// Starts a TCP server in `namespace` on `port` that answers each connection with `name`.
    func serve(_ namespace: String, port: Int, name: String) throws -> LiveProgram {
        let program = try LiveProgram(namespace, ["python3", "-c", Scripts.namedServer, String(port), name],
                                      log: directory.path("serve-\(name)-\(port).log"))
        processes.append(program.process)
        let listening = Live.wait(seconds: 5) { program.output.contains("listening") }
        #expect(listening, "server \(name) in \(namespace): \(program.output)")
        return program
    }

    /// Starts a client in `namespace` that opens `count` connections to `host:port`, one after the other.
    func connect(from namespace: String, to host: String, port: Int, count: Int) throws -> LiveProgram {
        let program = try LiveProgram(namespace, ["python3", "-c", Scripts.namedClient, host, String(port), String(count)],
                                      log: directory.path("client-\(namespace)-\(port).log"))
        processes.append(program.process)
        return program
    }
}
