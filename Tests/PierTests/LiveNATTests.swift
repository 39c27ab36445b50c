import Foundation
import Testing

/// Conntrack and NAT live: `pier switch` with MASQUERADE, a published port and a Service,
/// between containers made by `pier up` and an `outside` host behind the node's upstream
/// router. The kernel's TCP stack on both ends is the oracle: the address a server sees its
/// client come from (`getpeername`), and which server answered. Namespaces, TAP devices and
/// veths start with `plx`; each test stops only the processes it started, by PID.
@Suite(.serialized, .enabled(if: Live.available, "live tests need root, ip, ping, python3 and /dev/net/tun"))
struct LiveNATTests {
    /// A container reaches a server outside: the server sees the node's address as its
    /// client, and while the connection is open `pier conntrack` shows it, translated. A ping
    /// to the outside host is masqueraded too (its identifier tracked), and a TCP reset and an
    /// ICMP port unreachable from the outside reach the container as refusals.
    @Test func masqueradeToTheOutside() throws {
        let node = try NATNode(tag: "m")
        let live = try node.start()
        defer { live.stop() }
        let server = try node.serve(node.outside, port: 7000, name: "outside")
        defer { server.stop() }
        let ping = try Live.exec(node.container(1), ["ping", "-c", "2", "-i", "0.2", "-W", "2", NATNode.outsideIP])
        #expect(ping.stdout.contains("2 received"), "c1 -> outside: \(ping)")
        let hold = node.directory.path("hold")
        let client = try node.connect(from: node.container(1), to: NATNode.outsideIP, port: 7000, count: 1, holdUntil: hold)
        let answered = Live.wait(seconds: 10) { client.output.contains("outside ") }
        #expect(answered, "no answer from the outside server: \(client.output)")
        // The server's own view of its client: the node, not the container.
        #expect(server.peers == [NATNode.nodeIP], "the outside server saw \(server.peers), log: \(server.output)")
        let conntrack = try Tool.pier("conntrack", "--node", node.name)
        #expect(conntrack.status == 0, "\(conntrack)")
        let entry = conntrack.lines.first { $0.contains("dport=7000") }
        #expect(entry?.contains("ESTABLISHED src=\(node.address(1)) dst=\(NATNode.outsideIP) ") == true, "\(conntrack)")
        #expect(entry?.contains(" src=\(NATNode.outsideIP) dst=\(NATNode.nodeIP) sport=7000 ") == true, "reply key to the node: \(conntrack)")
        _ = FileManager.default.createFile(atPath: hold, contents: nil)
        #expect(client.finish() == 0, "\(client.output)")
        // Refusals come back translated: the outside kernel's TCP reset, and its ICMP port
        // unreachable quoting the masqueraded datagram (related to the UDP connection).
        let refused = try Live.exec(node.container(1), ["python3", "-c", Scripts.refusals, NATNode.outsideIP, "7001"])
        #expect(refused.lines == ["tcp refused", "udp refused"], "\(refused)")
        #expect(live.stop() == 0, "\(live.log)")
        #expect(live.log.contains("snat "), "\(live.log)")
    }

    /// The outside host reaches a container's server through the node's address and the
    /// published host port, over TCP and UDP; the container sees the outside host's own
    /// address (Docker keeps the client's address on a published port).
    @Test func publishedPortFromTheOutside() throws {
        let node = try NATNode(tag: "p")
        let live = try node.start()
        defer { live.stop() }
        let server = try node.serve(node.container(1), port: 80, name: "c1")
        defer { server.stop() }
        let client = try node.connect(from: node.outside, to: NATNode.nodeIP, port: 8080, count: 3)
        #expect(client.finish() == 0, "\(client.output)")
        #expect(client.answers == ["c1", "c1", "c1"], "\(client.output)")
        #expect(server.peers == Array(repeating: NATNode.outsideIP, count: 3), "c1 saw \(server.peers): \(server.output)")
        // Nothing listens on another host port: the connection is refused or times out, never served.
        let other = try Live.exec(node.outside, ["python3", "-c", "import socket; socket.create_connection(('\(NATNode.nodeIP)', 8081), timeout=1)"])
        #expect(other.status != 0, "port 8081 is not published: \(other)")
        // UDP (docker run -p 5353:53/udp): c1 sees the outside host, whose reply comes back
        // from the node's address and the host port.
        let udpServer = try LiveProgram(node.container(1), ["python3", "-c", Scripts.udpEcho, "53"], log: node.directory.path("udp.log"))
        defer { udpServer.stop() }
        #expect(Live.wait(seconds: 5) { udpServer.output.contains("listening") }, "\(udpServer.output)")
        let udp = try Live.exec(node.outside, ["python3", "-c", Scripts.udpAsk, NATNode.nodeIP, "5353"])
        #expect(udp.lines == ["reply from \(NATNode.nodeIP) 5353: \(NATNode.outsideIP)"], "\(udp)")
        #expect(live.stop() == 0, "\(live.log)")
        #expect(live.log.contains("dnat "), "\(live.log)")
    }

    /// A client container reaches two endpoint containers through the Service's cluster IP:
    /// over eight connections both endpoints answer, four each (taken in turn), and each sees
    /// the client's own address (DNAT without masquerade, as kube-proxy does; the endpoint's
    /// reply is switched to the client and un-DNATed on the bridge). The outside host reaches
    /// both endpoints through the node port too.
    @Test func serviceSpreadsOverBothEndpoints() throws {
        let node = try NATNode(tag: "s")
        let live = try node.start()
        defer { live.stop() }
        let endpoints = try [2, 3].map { try node.serve(node.container($0), port: 8080, name: "c\($0)") }
        defer { for endpoint in endpoints { endpoint.stop() } }
        let client = try node.connect(from: node.container(1), to: NATNode.clusterIP, port: 80, count: 8)
        #expect(client.finish() == 0, "\(client.output)")
        let answers = client.answers
        #expect(answers.count == 8, "\(client.output)")
        #expect(answers.filter { $0 == "c2" }.count == 4 && answers.filter { $0 == "c3" }.count == 4, "\(answers)")
        for endpoint in endpoints {
            #expect(endpoint.peers == Array(repeating: node.address(1), count: 4), "\(endpoint.output)")
        }
        let outside = try node.connect(from: node.outside, to: NATNode.nodeIP, port: 30080, count: 4)
        #expect(outside.finish() == 0, "\(outside.output)")
        #expect(Set(outside.answers) == ["c2", "c3"], "node port: \(outside.output)")
        let conntrack = try Tool.pier("conntrack", "--node", node.name)
        // Each connection through the cluster IP: the reply comes from an endpoint to the client.
        let throughClusterIP = conntrack.lines.filter { $0.contains("src=\(node.address(1)) dst=\(NATNode.clusterIP) ") }
        #expect(throughClusterIP.count >= 8, "\(conntrack)")
        for entry in throughClusterIP {
            let reply = [2, 3].map { "src=\(node.address($0)) dst=\(node.address(1)) sport=8080 " }
            #expect(reply.contains { entry.contains($0) }, "\(entry)")
        }
        #expect(live.stop() == 0, "\(live.log)")
    }
}

/// One node for the NAT tests. Namespace `plx-<tag>r` plays the node's upstream router: it
/// runs `pier switch`, holds the uplink's TAP device (`plx<tag>up`, the router's side
/// 192.168.79.1/24), and routes to the `outside` host (namespace `plx-<tag>o`, 203.0.113.10)
/// over a veth. It has no route to the containers' subnet: their traffic gets out only
/// masqueraded. Containers `plx-<tag>1…3` (172.30.79.2–4 on docker0, 172.30.79.1) are made by
/// `pier up`. The topology masquerades the containers, publishes host port 8080 to c1:80 and
/// UDP 5353 to c1:53, and has a Service 10.96.79.10:80 (node port 30080) over c2 and c3 on port 8080.
final class NATNode {
    static let nodeIP = "192.168.79.25"
    static let routerIP = "192.168.79.1"
    static let outsideIP = "203.0.113.10"
    static let clusterIP = "10.96.79.10"
    let tag: String
    /// The first letters of every namespace, device and the node's name (`plx` here).
    let prefix: String
    let directory: TemporaryDirectory
    let config: String
    private var processes: [Process] = []

    /// The Service of the NAT tests: web over c2 and c3, node port 30080.
    static let webService = """
          - name: web
            clusterIP: \(NATNode.clusterIP)
            ports: [{proto: tcp, port: 80, targetPort: 8080, nodePort: 30080}]
            endpoints: [172.30.79.3, 172.30.79.4]
        """

    /// Makes the router, the outside host and the containers, names starting with `prefix`,
    /// with `services` (the items of a `services:` list, each `- name:` indented by two) in the topology.
    init(tag: String, prefix: String = "plx", services: String = NATNode.webService) throws {
        self.tag = tag
        self.prefix = prefix
        directory = try TemporaryDirectory()
        config = directory.path("node.yaml")
        try """
            node: \(prefix)-\(tag)
            ports:
              - {name: eth0, tap: \(prefix)\(tag)up, mac: 02:00:c0:a8:4f:19, ip: \(NATNode.nodeIP)/24, gateway: \(NATNode.routerIP)}
              - {name: c1, tap: \(prefix)\(tag)1}
              - {name: c2, tap: \(prefix)\(tag)2}
              - {name: c3, tap: \(prefix)\(tag)3}
            bridges:
              - {name: docker0, ports: [c1, c2, c3], ip: 172.30.79.1/24, mac: 02:42:ac:1e:4f:01}
            nat:
              masquerade:
                - {source: 172.30.79.0/24, out: eth0}
              portMappings:
                - {proto: tcp, hostPort: 8080, to: 172.30.79.2:80}
                - {proto: udp, hostPort: 5353, to: 172.30.79.2:53}
            services:
            \(services)
            containers:
              - {name: \(prefix)-\(tag)1, port: c1, ip: 172.30.79.2/24}
              - {name: \(prefix)-\(tag)2, port: c2, ip: 172.30.79.3/24}
              - {name: \(prefix)-\(tag)3, port: c3, ip: 172.30.79.4/24}
            """.write(toFile: config, atomically: true, encoding: .utf8)
        cleanUp()
        let router = "\(prefix)-\(tag)r", outside = "\(prefix)-\(tag)o"
        try Live.ipAll([
            ["netns", "add", router], ["netns", "add", outside],
            ["-n", router, "tuntap", "add", "dev", "\(prefix)\(tag)up", "mode", "tap"],
            ["-n", router, "addr", "add", "\(NATNode.routerIP)/24", "dev", "\(prefix)\(tag)up"],
            ["-n", router, "link", "set", "\(prefix)\(tag)up", "up"],
            ["-n", router, "link", "add", "\(prefix)\(tag)rv", "type", "veth", "peer", "name", "eth0", "netns", outside],
            ["-n", router, "addr", "add", "203.0.113.1/24", "dev", "\(prefix)\(tag)rv"],
            ["-n", router, "link", "set", "\(prefix)\(tag)rv", "up"],
            ["netns", "exec", router, "sysctl", "-qw", "net.ipv4.ip_forward=1"],
            ["-n", outside, "addr", "add", "\(NATNode.outsideIP)/24", "dev", "eth0"],
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
        for ns in ["\(prefix)-\(tag)r", "\(prefix)-\(tag)o"] { _ = try? Live.ip("netns", "delete", ns) }
    }

    /// The node's name (control socket /run/pier/NAME.sock).
    var name: String { "\(prefix)-\(tag)" }
    /// The outside host's namespace.
    var outside: String { "\(prefix)-\(tag)o" }
    /// Container `n`'s namespace.
    func container(_ n: Int) -> String { "\(prefix)-\(tag)\(n)" }
    /// Container `n`'s address.
    func address(_ n: Int) -> String { "172.30.79.\(n + 1)" }
    /// docker0's address.
    var gateway: String { "172.30.79.1" }

    /// Starts `pier switch` in the router's namespace, every port up.
    func start() throws -> SwitchProcess {
        try SwitchProcess(config: config, log: directory.path("switch.log"), ports: 4, namespace: "\(prefix)-\(tag)r")
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

    /// Starts a client in `namespace` that opens `count` connections to `host:port`, one
    /// after the other, printing each answer; with `holdUntil`, each stays open until that file exists.
    func connect(from namespace: String, to host: String, port: Int, count: Int, holdUntil: String? = nil) throws -> LiveProgram {
        let arguments = ["python3", "-c", Scripts.namedClient, host, String(port), String(count)] + (holdUntil.map { [$0] } ?? [])
        let program = try LiveProgram(namespace, arguments, log: directory.path("client-\(namespace)-\(port).log"))
        processes.append(program.process)
        return program
    }
}
