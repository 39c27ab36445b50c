import Foundation
import Testing

/// `pier apply`, `get`, `delete` and SIGHUP against a running switch, with the Linux kernel's
/// ping, TCP and UDP in namespaces as the oracle: a change adds a container and a Service while
/// a transfer runs, an endpoint leaves a UDP Service, the file is edited and reloaded, and bad
/// changes are refused with the topology and traffic untouched. Namespaces start with `plv`
/// and are removed after; the switch is stopped by its PID.
@Suite(.serialized, .enabled(if: Live.available, "live tests need root, ip, ping, python3 and /dev/net/tun"))
struct LiveApplyTests {
    /// A namespace `name` with a TAP device `eth0` (what a CNI plugin makes, issue 9) at
    /// `address`/24, default route via `gateway`.
    static func makeNamespace(_ name: String, address: String, gateway: String) throws {
        _ = try Tool.run(try #require(Tool.find("ip")), ["netns", "del", name])
        for command in [["netns", "add", name]] { _ = try Tool.run(try #require(Tool.find("ip")), command) }
        for command in [["ip", "tuntap", "add", "dev", "eth0", "mode", "tap"], ["ip", "addr", "add", address + "/24", "dev", "eth0"],
                        ["ip", "link", "set", "eth0", "up"], ["ip", "link", "set", "lo", "up"],
                        ["ip", "route", "add", "default", "via", gateway]] {
            let result = try Live.exec(name, command)
            #expect(result.status == 0, "\(command): \(result)")
        }
    }

    static func dropNamespace(_ name: String) {
        if let ip = Tool.find("ip") { _ = try? Tool.run(ip, ["netns", "del", name]) }
    }

    /// Two containers and a TCP transfer between them; a third container (a port named by its
    /// bridge and namespace) and a Service are applied meanwhile: the third pings both and
    /// reaches the Service, the transfer arrives whole, and `pier get` applied back is no change.
    @Test func applyAddsAContainerAndAServiceWhileTrafficFlows() throws {
        let topology = try LiveTopology(tag: "la", containers: 2, subnet: 21)
        let third = "plv-la3"
        try Self.makeNamespace(third, address: "172.31.21.4", gateway: topology.gateway)
        defer { Self.dropNamespace(third) }
        let live = try SwitchProcess(topology)
        defer { live.stop() }

        // A 40 MB transfer c1 -> c2, started before the change.
        let data = topology.directory.path("data.bin"), received = topology.directory.path("received.bin")
        let random = FileHandle(forReadingAtPath: "/dev/urandom")!
        try random.readData(ofLength: 40_000_000).write(to: URL(fileURLWithPath: data))
        let sink = try Live.spawn(topology.namespace(2), ["python3", "-c", Scripts.sink, "5001", received],
                                  log: topology.directory.path("sink.log"))
        defer { if sink.isRunning { kill(sink.processIdentifier, SIGKILL) } }
        let retransmitsBefore = try Self.retransmits(topology.namespace(1))
        let sender = try Live.spawn(topology.namespace(1), ["python3", "-c", Scripts.send, topology.address(2), "5001", data],
                                    log: topology.directory.path("send.log"))
        defer { if sender.isRunning { kill(sender.processIdentifier, SIGKILL) } }
        // A web server behind the Service, in c2.
        let web = try Live.spawn(topology.namespace(2), ["python3", "-c", Scripts.namedServer, "8080", "c2"], log: topology.directory.path("web.log"))
        defer { if web.isRunning { kill(web.processIdentifier, SIGKILL) } }

        let fragment = topology.directory.path("add.yaml")
        try """
        ports:
          - {name: c3, tap: eth0, netns: /run/netns/\(third), bridge: br0}
        services:
          - name: web
            namespace: default
            clusterIP: 10.96.21.10
            ports: [{proto: tcp, port: 80, targetPort: 8080}]
            endpoints: [\(topology.address(2))]
        """.write(toFile: fragment, atomically: true, encoding: .utf8)
        let apply = try Tool.pier("apply", "--node", topology.node, fragment)
        #expect(apply.status == 0 && apply.lines == ["added port c3", "added service default/web"], "\(apply)")
        #expect(Live.wait(seconds: 2) { live.log.contains("c3: up (eth0 in /run/netns/\(third))") }, "\(live.log)")
        #expect(live.log.contains("switch: change: added port c3"), "\(live.log)")

        for target in [topology.address(1), topology.address(2), topology.gateway] {
            let ping = try Live.exec(third, ["ping", "-c", "3", "-i", "0.2", "-W", "2", target])
            #expect(ping.status == 0 && ping.stdout.contains("3 received"), "c3 -> \(target): \(ping)")
        }
        let service = try Live.exec(third, ["python3", "-c", Scripts.namedClient, "10.96.21.10", "80", "1"])
        #expect(service.status == 0 && service.stdout.contains("answer c2"), "c3 -> Service: \(service)")

        sender.waitUntilExit()
        #expect(sender.terminationStatus == 0)
        #expect(Live.wait(seconds: 10) { !sink.isRunning })
        #expect(try Live.sha256(received) == (try Live.sha256(data)), "the transfer across the change arrived damaged")
        let retransmits = try Self.retransmits(topology.namespace(1)) - retransmitsBefore
        #expect(retransmits < 200, "\(retransmits) TCP retransmissions during the transfer")

        // What `get` prints, applied back, is no change; `get service` is that part alone.
        let got = try Tool.pier("get", "--node", topology.node)
        #expect(got.status == 0 && got.stdout.contains("name: c3"), "\(got)")
        let copy = topology.directory.path("got.yaml")
        try got.stdout.write(toFile: copy, atomically: true, encoding: .utf8)
        let again = try Tool.pier("apply", "--node", topology.node, copy)
        #expect(again.status == 0 && again.lines.isEmpty, "get applied back changed something: \(again)")
        let services = try Tool.pier("get", "--node", topology.node, "service", "--json")
        #expect(services.status == 0 && services.stdout.contains("10.96.21.10"), "\(services)")

        // Deleting the port closes it; deleting it again is refused.
        let delete = try Tool.pier("delete", "--node", topology.node, "port", "c3")
        #expect(delete.status == 0 && delete.lines == ["removed port c3"], "\(delete)")
        let twice = try Tool.pier("delete", "--node", topology.node, "port", "c3")
        #expect(twice.status == 2 && twice.errorLines.count == 1, "\(twice)")
        let gone = try Live.exec(third, ["ping", "-c", "1", "-W", "1", topology.address(1)])
        #expect(gone.status != 0, "c3 still reaches c1 after its port was deleted")
    }

    /// The kernel's count of TCP retransmissions in `namespace`.
    static func retransmits(_ namespace: String) throws -> Int {
        let snmp = try Live.exec(namespace, ["cat", "/proc/net/snmp"]).stdout.split(separator: "\n")
        guard let header = snmp.first(where: { $0.hasPrefix("Tcp:") }), let values = snmp.last(where: { $0.hasPrefix("Tcp:") }),
              let column = header.split(separator: " ").firstIndex(of: "RetransSegs") else { return 0 }
        return Int(values.split(separator: " ")[column]) ?? 0
    }

    /// A UDP Service over two endpoints: a client's flow goes to one; when that endpoint leaves
    /// the Service its next datagram reaches the other (the stale connection was flushed).
    /// SIGHUP after an edit applies exactly the edit; bad changes are refused and change nothing.
    @Test func endpointsLeaveReloadAndBadChanges() throws {
        let topology = try LiveTopology(tag: "le", containers: 3, subnet: 22)
        var servers: [Process] = []
        defer { for server in servers where server.isRunning { kill(server.processIdentifier, SIGKILL) } }
        for n in 1...2 {
            servers.append(try Live.spawn(topology.namespace(n), ["python3", "-c", Scripts.udpNamed, "53", "c\(n)"],
                                          log: topology.directory.path("udp\(n).log")))
        }
        // The file gains the Service, so the reload test below can edit it.
        let base = try String(contentsOfFile: topology.path, encoding: .utf8)
        func write(endpoints: [Int], extra: String = "") throws {
            try (base + """
            services:
              - name: dns
                namespace: default
                clusterIP: 10.96.22.53
                ports: [{proto: udp, port: 53, targetPort: 53}]
                endpoints: [\(endpoints.map { topology.address($0) }.joined(separator: ", "))]
            \(extra)
            """).write(toFile: topology.path, atomically: true, encoding: .utf8)
        }
        try write(endpoints: [1, 2])
        let live = try SwitchProcess(topology)
        defer { live.stop() }
        func ask() throws -> String {
            try Live.exec(topology.namespace(3), ["python3", "-c", Scripts.udpAskFromPort, "10.96.22.53", "53", "40053"]).stdout
                .trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let first = try ask()
        #expect(first == "c1" || first == "c2", "no answer from the Service: \(first)")
        #expect(try ask() == first, "one flow, one endpoint")
        let firstIndex = first == "c1" ? 1 : 2
        let fdbBefore = try Tool.pier("fdb", "--node", topology.node).lines

        // The endpoint that answered leaves: through an edit of the file and SIGHUP.
        try write(endpoints: [3 - firstIndex])
        kill(live.process.processIdentifier, SIGHUP)
        #expect(Live.wait(seconds: 3) { live.log.contains("switch: change: replaced service default/dns") }, "\(live.log)")
        #expect(live.log.components(separatedBy: "switch: change: ").count == 2, "more than the edit changed: \(live.log)")
        #expect(try ask() == "c\(3 - firstIndex)", "the flow still goes to the endpoint that left")
        let fdbAfter = try Tool.pier("fdb", "--node", topology.node).lines
        for line in fdbBefore.dropFirst() {
            let mac = line.split(separator: " ").first.map(String.init) ?? line
            #expect(fdbAfter.contains { $0.contains(mac) }, "\(mac) was forgotten by a change that did not touch its port")
        }

        // Bad changes: each refused (exit 2, one line naming the place), nothing changes.
        let before = try Tool.pier("get", "--node", topology.node).stdout
        let bad: [(String, String)] = [
            ("syntax", "ports: [ {name: c9\n"),
            ("unknown key", "ports:\n  - {name: c9, colour: blue}\n"),
            ("two bridges", "bridges:\n  - {name: br1, ports: [c1]}\n"),
            ("overlap", "ports:\n  - {name: up, ip: 172.31.22.200/24}\n"),
            ("cluster IP", "services:\n  - {name: other, namespace: default, clusterIP: 10.96.22.53, ports: [{proto: udp, port: 53, targetPort: 53}], endpoints: []}\n"),
        ]
        for (what, yaml) in bad {
            let file = topology.directory.path("bad.yaml")
            try yaml.write(toFile: file, atomically: true, encoding: .utf8)
            let result = try Tool.pier("apply", "--node", topology.node, file)
            #expect(result.status == 2 && result.errorLines.count == 1 && result.errorLines[0].contains("bad.yaml:"), "\(what): \(result)")
        }
        let absent = try Tool.pier("delete", "--node", topology.node, "service", "default/none")
        #expect(absent.status == 2, "\(absent)")
        let oversized = try Self.raw(topology.node, String(repeating: "x", count: 17 << 20))
        #expect(oversized.contains("\"ok\":false"), "a 17 MB request: \(oversized.prefix(200))")
        let cut = try Self.raw(topology.node, #"{"v":1,"op":"apply","yaml":"ports: []"#, newline: false)
        #expect(cut.contains("cut off"), "a request cut off: \(cut)")
        // Fifty clients at once, each asking for the version.
        let many = try Tool.run(try #require(Tool.find("python3")), ["-c", Scripts.manyClients, "/run/pier/\(topology.node).sock", "50"])
        #expect(many.status == 0 && many.stdout.contains("50 answered"), "\(many)")
        #expect(try Tool.pier("get", "--node", topology.node).stdout == before, "a refused change changed the topology")
        let ping = try Live.exec(topology.namespace(3), ["ping", "-c", "2", "-i", "0.2", "-W", "2", topology.address(1)])
        #expect(ping.status == 0 && ping.stdout.contains("2 received"), "traffic after the bad changes: \(ping)")
    }

    /// `--log-format json`: one JSON object a line, a change logged at level notice, a port's
    /// state at info; the control socket is root's alone (0600).
    @Test func jsonLogAndSocketMode() throws {
        let topology = try LiveTopology(tag: "lj", containers: 1, subnet: 23)
        let live = try SwitchProcess(config: topology.path, log: topology.directory.path("switch.log"), ports: 0,
                                     extra: ["--log-format", "json"])
        defer { live.stop() }
        #expect(Live.wait(seconds: 5) { live.log.contains(#""message":"port c1: up"#) }, "\(live.log)")
        let fragment = topology.directory.path("n.yaml")
        try "neighbors:\n  - {ip: 172.31.23.9, mac: \"02:00:00:00:00:09\"}\n".write(toFile: fragment, atomically: true, encoding: .utf8)
        let apply = try Tool.pier("apply", "--node", topology.node, fragment)
        #expect(apply.status == 0 && apply.lines == ["added neighbor 172.31.23.9"], "\(apply)")
        #expect(Live.wait(seconds: 2) { live.log.contains("change: added neighbor") }, "\(live.log)")
        let lines = live.log.split(separator: "\n").filter { $0.hasPrefix("{") }
        #expect(!lines.isEmpty && lines.allSatisfy { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) is [String: Any] }, "\(live.log)")
        let change = lines.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
            .first { ($0["message"] as? String)?.hasPrefix("change: ") == true }
        #expect(change?["level"] as? String == "notice" && change?["time"] is String, "\(String(describing: change))")
        var info = stat()
        #expect(stat("/run/pier/\(topology.node).sock", &info) == 0 && info.st_mode & 0o777 == 0o600, "socket mode \(String(info.st_mode & 0o777, radix: 8))")
    }

    /// Sends `text` (and a newline unless `newline` is false, then closes the sending side) to
    /// the node's control socket; returns what came back.
    static func raw(_ node: String, _ text: String, newline: Bool = true) throws -> String {
        let file = NSTemporaryDirectory() + "pier-raw-\(getpid()).txt"
        try (text + (newline ? "\n" : "")).write(toFile: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: file) }
        return try Tool.run(try #require(Tool.find("python3")), ["-c", Scripts.rawRequest, "/run/pier/\(node).sock", file]).stdout
    }
}

extension Scripts {
    /// `python3 -c UDP_NAMED PORT NAME`: answers every datagram with NAME.
    static let udpNamed = """
        import socket, sys
        server = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        server.bind(("0.0.0.0", int(sys.argv[1])))
        while True:
            data, peer = server.recvfrom(2048)
            server.sendto(sys.argv[2].encode(), peer)
        """

    /// `python3 -c UDP_ASK_FROM HOST PORT SOURCEPORT`: one datagram from SOURCEPORT, prints the answer.
    static let udpAskFromPort = """
        import socket, sys
        client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        client.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        client.bind(("0.0.0.0", int(sys.argv[3])))
        client.settimeout(2)
        client.sendto(b"who", (sys.argv[1], int(sys.argv[2])))
        print(client.recv(2048).decode())
        """

    /// `python3 -c RAW SOCKET FILE`: sends FILE's bytes to the Unix socket, closes the sending
    /// side, prints the first line of the answer.
    static let rawRequest = """
        import socket, sys
        client = socket.socket(socket.AF_UNIX)
        client.settimeout(10)
        client.connect(sys.argv[1])
        answer = b""
        try:
            client.sendall(open(sys.argv[2], "rb").read())
            client.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        try:
            while b"\\n" not in answer:
                chunk = client.recv(65536)
                if not chunk:
                    break
                answer += chunk
        except OSError:
            pass
        print(answer.decode().split("\\n")[0])
        """

    /// `python3 -c MANY SOCKET N`: N clients connect at once, then each asks for the version.
    static let manyClients = """
        import socket, sys, json
        clients = []
        for _ in range(int(sys.argv[2])):
            client = socket.socket(socket.AF_UNIX)
            client.settimeout(10)
            client.connect(sys.argv[1])
            clients.append(client)
        answered = 0
        for client in clients:
            client.sendall(b'{"v":1,"op":"version"}\\n')
        for client in clients:
            line = client.makefile().readline()
            if json.loads(line).get("version") == 1:
                answered += 1
        print(f"{answered} answered")
        """
}
