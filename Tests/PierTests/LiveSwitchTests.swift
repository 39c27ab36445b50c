import Foundation
import PacketIO
import Testing

/// `pier up` and `pier switch` against the Linux kernel: containers are network namespaces
/// whose `eth0` is a TAP device Pier serves, and the kernel's own ping, ARP and TCP are the
/// oracle. Each test makes and removes its own namespaces (names start with `plv`) and stops
/// only the switch it started, by PID. Skipped, with the reason, when not root.
@Suite(.serialized, .enabled(if: Live.available, "live tests need root, ip, ping, python3 and /dev/net/tun"))
struct LiveSwitchTests {
    /// Two containers ping each other both ways and their gateway; `pier fdb` then shows each
    /// container's MAC (as the kernel reports it) on its port.
    @Test func pingBothWaysAndGateway() throws {
        let topology = try LiveTopology(tag: "lp", containers: 2, subnet: 11)
        let live = try SwitchProcess(topology)
        defer { live.stop() }
        for (from, to) in [(1, 2), (2, 1)] {
            let ping = try Live.exec(topology.namespace(from), ["ping", "-c", "3", "-i", "0.2", "-W", "2", topology.address(to)])
            #expect(ping.status == 0 && ping.stdout.contains("3 received"), "c\(from) -> c\(to): \(ping)")
        }
        let gateway = try Live.exec(topology.namespace(1), ["ping", "-c", "2", "-i", "0.2", "-W", "2", topology.gateway])
        #expect(gateway.status == 0 && gateway.stdout.contains("2 received"), "c1 -> gateway: \(gateway)")
        let fdb = try Tool.pier("fdb", "--node", topology.node)
        #expect(fdb.status == 0, "\(fdb)")
        #expect(fdb.lines.first == "fdb br0: 2 entries", "\(fdb)")
        for n in 1...2 {
            let mac = try Live.mac(of: topology.namespace(n))
            #expect(fdb.lines.contains { $0.hasPrefix("  \(mac) dev c\(n) age ") }, "no \(mac) on c\(n): \(fdb)")
        }
        let second = try Tool.pier("switch", "--config", topology.path)
        #expect(second.status == 1 && second.errorLines == ["pier: /run/pier/\(topology.node).sock: a switch for this node is already running"],
                "\(second)")
        // Bridged frames and pings to the node's own address open no connection.
        let conntrack = try Tool.pier("conntrack", "--node", topology.node)
        #expect(conntrack.status == 0 && conntrack.lines.isEmpty, "\(conntrack)")
        #expect(live.stop() == 0, "\(live.log)")
        #expect(live.log.contains("switch: stopped"), "\(live.log)")
    }

    /// Control clients that connect and say nothing hold up neither traffic nor other clients:
    /// with three of them connected, `pier fdb` answers at once (a switch that read each
    /// request as it accepted would sit out a 1 s timeout for each) and ping goes through.
    @Test func silentControlClientsStallNothing() throws {
        let topology = try LiveTopology(tag: "lc", containers: 2, subnet: 18)
        let live = try SwitchProcess(topology)
        defer { live.stop() }
        let hold = "import socket, sys, time\nclients = []\nfor _ in range(3):\n    s = socket.socket(socket.AF_UNIX)\n    s.connect(sys.argv[1])\n    clients.append(s)\nprint('connected', flush=True)\ntime.sleep(4)\n"
        let log = topology.directory.path("hold.log")
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        let holder = Process()
        holder.executableURL = URL(fileURLWithPath: try #require(Tool.find("python3")))
        holder.arguments = ["-c", hold, "/run/pier/\(topology.node).sock"]
        holder.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        try holder.run()
        defer { if holder.isRunning { kill(holder.processIdentifier, SIGKILL) } }
        #expect(Live.wait(seconds: 3) { ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").contains("connected") })
        let started = Date()
        let fdb = try Tool.pier("fdb", "--node", topology.node)
        let elapsed = Date().timeIntervalSince(started)
        #expect(fdb.status == 0 && fdb.lines.first?.hasPrefix("fdb br0: ") == true, "\(fdb)")
        #expect(elapsed < 1.5, "pier fdb took \(elapsed) s behind three silent clients")
        let ping = try Live.exec(topology.namespace(1), ["ping", "-c", "3", "-i", "0.2", "-W", "1", topology.address(2)])
        #expect(ping.stdout.contains("3 received"), "\(ping)")
        #expect(live.stop() == 0, "\(live.log)")
    }

    /// 10 MB over TCP from one container to the other arrive byte-identical (SHA-256). With
    /// GRO (the default) Pier joined the sender's segments into super-frames for the receiving
    /// container, whose kernel took them (it counts no bad checksum and no header error);
    /// with `--gro off` every segment crossed alone.
    /// Over IPv6 too (two addresses of one /64, switched by the bridge as any frame).
    @Test(arguments: [(true, false), (false, false), (true, true)])
    func tcpTransferArrivesIdentical(gro: Bool, ipv6: Bool) throws {
        let topology = try LiveTopology(tag: ipv6 ? "l6" : gro ? "lt" : "lu", containers: 2, subnet: ipv6 ? 20 : gro ? 12 : 16)
        let live = try SwitchProcess(topology, extra: gro ? [] : ["--gro", "off"])
        defer { live.stop() }
        if ipv6 {
            for n in 1...2 {
                let added = try Live.exec(topology.namespace(n), ["ip", "addr", "add", "fd00:31:20::\(n + 1)/64", "dev", "eth0", "nodad"])
                #expect(added.status == 0, "\(added)")
            }
        }
        try transfer(topology, from: 1, to: 2, bytes: 10_000_000, port: 5001, address: ipv6 ? "fd00:31:20::3" : nil)
        #expect(live.stop() == 0, "\(live.log)")
        let c2 = try #require(PortStats.last("c2", in: live.log), "\(live.log)")
        if gro {
            #expect(c2["tx-coalesced"] > 0, "no super-frame was joined: \(c2)")
            #expect(live.log.contains("control socket /run/pier/\(topology.node).sock, GRO on"), "\(live.log)")
        } else {
            #expect(c2["tx-coalesced"] == 0, "\(c2)")
            #expect(!live.log.contains("GRO on"), "\(live.log)")
        }
        let names = ["TcpInCsumErrors", "IpInHdrErrors", "TcpExtTCPRcvQDrop"]
        let counters = try Live.exec(topology.namespace(2), ["nstat", "-az"] + names)
        var values: [String: String] = [:]
        for line in counters.lines {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            if fields.count >= 2 { values[String(fields[0])] = String(fields[1]) }
        }
        for name in names { #expect(values[name] == "0", "the receiving kernel's \(name): \(counters)") }
    }

    /// With `--offload` (IFF_VNET_HDR) the same 10 MB arrive identical, and the capture shows
    /// TCP segments larger than the 1,500-byte MTU crossing Pier whole.
    @Test func tcpTransferWithOffloads() throws {
        let topology = try LiveTopology(tag: "lo", containers: 2, subnet: 17)
        let capture = topology.directory.path("c2.pcap")
        let live = try SwitchProcess(topology, extra: ["--offload", "--capture", "c2=\(capture)"])
        defer { live.stop() }
        let ping = try Live.exec(topology.namespace(1), ["ping", "-c", "2", "-i", "0.2", "-W", "2", topology.address(2)])
        #expect(ping.stdout.contains("2 received"), "\(ping)")
        try transfer(topology, from: 1, to: 2, bytes: 10_000_000, port: 5004)
        #expect(live.stop() == 0, "\(live.log)")
        let (records, damage) = try readRecords(capture)
        #expect(damage == nil)
        let largest = records.map(\.bytes.count).max() ?? 0
        #expect(largest > 1_514, "no segment beyond the MTU crossed: largest frame \(largest) bytes")
    }

    /// Deleting a container's namespace while traffic flows takes its port down (one line) and
    /// forgets its MAC, the other containers keep talking, and recreating it brings the port back.
    @Test func namespaceDeletedAndRecreated() throws {
        let topology = try LiveTopology(tag: "ln", containers: 3, subnet: 13)
        let live = try SwitchProcess(topology, extra: ["--stats-interval", "1"])
        defer { live.stop() }
        let flood = try Live.spawn(topology.namespace(1), ["ping", "-i", "0.01", "-w", "6", topology.address(2)],
                                   log: topology.directory.path("flood.log"))
        Thread.sleep(forTimeInterval: 0.5)
        try Live.ip("netns", "delete", topology.namespace(2))
        try expectC2Lost(live, topology, line: "port c2: down", seconds: 5)
        let up = try Tool.pier("up", topology.path)
        #expect(up.status == 0 && up.stdout.contains("up \(topology.namespace(2)): namespace"), "\(up)")
        #expect(up.stdout.contains("up \(topology.namespace(1)): already up"), "\(up)")
        let back = Live.wait(seconds: 5) { live.log.components(separatedBy: "port c2: up (").count == 3 }
        #expect(back, "\(live.log)")
        let after = try Live.exec(topology.namespace(1), ["ping", "-c", "2", "-i", "0.2", "-W", "2", topology.address(2)])
        #expect(after.stdout.contains("2 received"), "c1 -> c2 after it came back: \(after)")
        flood.waitUntilExit()
        #expect(live.log.components(separatedBy: "port c2: down").count == 2, "one line for the one loss: \(live.log)")
        let periodic = live.log.split(separator: "\n").filter { $0.hasPrefix("switch: stats: c1 up rx ") }
        #expect(periodic.count >= 4, "--stats-interval 1 over ~6 s: \(live.log)")
        #expect(periodic.contains { $0.contains("c2 down") }, "a stats line while c2 was down: \(live.log)")
        #expect(live.stop() == 0, "\(live.log)")
    }

    /// Waits for `line` in the switch's log, then checks what losing c2 must do: its MAC is
    /// gone from `pier fdb`, and c1 still reaches c3.
    private func expectC2Lost(_ live: SwitchProcess, _ topology: LiveTopology, line: String, seconds: Double) throws {
        let logged = Live.wait(seconds: seconds) { live.log.contains(line) }
        #expect(logged, "no '\(line)': \(live.log)")
        let fdb = try Tool.pier("fdb", "--node", topology.node)
        #expect(fdb.status == 0 && !fdb.stdout.contains(" dev c2 "), "c2's MAC outlived '\(line)': \(fdb)")
        let others = try Live.exec(topology.namespace(1), ["ping", "-c", "2", "-i", "0.2", "-W", "2", topology.address(3)])
        #expect(others.stdout.contains("2 received"), "c1 -> c3 after '\(line)': \(others)")
    }

    /// A container that sets its own eth0 down: the kernel refuses Pier's writes to it with
    /// EIO. The port stays open (one "link down" line, its MAC forgotten, frames for it
    /// counted as tx-down, no flapping), and when the container sets eth0 up again the port
    /// carries traffic at once (one "link up" line), without being reopened.
    @Test func containerLinkDownAndUp() throws {
        let topology = try LiveTopology(tag: "ll", containers: 3, subnet: 19)
        let live = try SwitchProcess(topology, extra: ["--stats-interval", "1"])
        defer { live.stop() }
        let first = try Live.exec(topology.namespace(1), ["ping", "-c", "2", "-i", "0.2", "-W", "2", topology.address(2)])
        #expect(first.stdout.contains("2 received"), "\(first)")
        try Live.ip("netns", "exec", topology.namespace(2), "ip", "link", "set", "eth0", "down")
        // c1 keeps sending to c2 (its ARP entry stays): the frames reach the port and are refused.
        let refused = try Live.exec(topology.namespace(1), ["ping", "-c", "20", "-i", "0.1", "-W", "1", topology.address(2)])
        #expect(refused.stdout.contains(" 0 received"), "c2's eth0 is down: \(refused)")
        try expectC2Lost(live, topology, line: "port c2: link down", seconds: 3)
        Thread.sleep(forTimeInterval: 1.2)  // a stats line, and time for any flapping to show
        let c2 = try #require(PortStats.last("c2", in: live.log), "\(live.log)")
        #expect(c2.state == "link-down", "\(c2)")
        #expect(c2["tx-down"] >= 20, "the refused pings count as tx-down: \(c2)")
        try Live.ip("netns", "exec", topology.namespace(2), "ip", "link", "set", "eth0", "up")
        let after = try Live.exec(topology.namespace(1), ["ping", "-c", "3", "-i", "0.2", "-W", "2", topology.address(2)])
        #expect(after.stdout.contains("3 received"), "c1 -> c2 after its eth0 came back up: \(after)")
        #expect(live.log.components(separatedBy: "port c2: link down").count == 2, "one line for the one loss: \(live.log)")
        #expect(live.log.components(separatedBy: "port c2: link up").count == 2, "\(live.log)")
        #expect(!live.log.contains("port c2: down"), "the port was never closed: \(live.log)")
        #expect(live.log.components(separatedBy: "port c2: up (").count == 2, "opened once, at start: \(live.log)")
        #expect(live.stop() == 0, "\(live.log)")
    }

    /// SIGTERM in the middle of a transfer: the switch exits 0 and its capture is whole, as
    /// many records as it says it wrote, readable by tcpdump and by Pier's reader.
    @Test func sigtermDuringTransferLeavesACompleteCapture() throws {
        let topology = try LiveTopology(tag: "ls", containers: 2, subnet: 14)
        let capture = topology.directory.path("c1.pcap")
        let live = try SwitchProcess(topology, extra: ["--capture", "c1=\(capture)"])
        defer { live.stop() }
        let data = topology.directory.path("data")
        try writeRandomFile(data, count: 100_000_000)
        let received = topology.directory.path("received")
        let server = try Live.spawn(topology.namespace(2), ["python3", "-c", Scripts.sink, "5002", received],
                                    log: topology.directory.path("server.log"))
        let client = try Live.spawn(topology.namespace(1), ["python3", "-c", Scripts.send, topology.address(2), "5002", data],
                                    log: topology.directory.path("client.log"))
        let flowing = Live.wait(seconds: 10) { ((try? FileManager.default.attributesOfItem(atPath: received))?[.size] as? Int ?? 0) > 1_000_000 }
        #expect(flowing, "the transfer did not start")
        #expect(live.stop() == 0, "\(live.log)")
        let line = live.log.split(separator: "\n").first { $0.contains("capture c1: ") }
        let written = try #require(line.flatMap { Int($0.split(separator: " ")[2]) }, "\(live.log)")
        #expect(written > 1_000)
        kill(client.processIdentifier, SIGKILL)
        kill(server.processIdentifier, SIGKILL)
        client.waitUntilExit()
        server.waitUntilExit()
        let (records, damage) = try readRecords(capture)
        #expect(damage == nil, "Pier's reader: \(String(describing: damage))")
        #expect(records.count == written)
        let tcpdump = try Tool.run(try #require(Tool.tcpdump), ["-nr", capture])
        #expect(tcpdump.status == 0, "\(tcpdump)")
        #expect(tcpdump.lines.count == written, "tcpdump read \(tcpdump.lines.count) of \(written)")
        #expect(!tcpdump.stderr.contains("truncated"), "\(tcpdump.stderr)")
        #expect(tcpdump.stdout.contains("\(topology.address(1)).") && tcpdump.stdout.contains("\(topology.address(2)).5002"))
    }

    /// 10,000 frames a second of random garbage into one port while two other containers move
    /// 10 MB over TCP: the transfer arrives whole and the switch takes the garbage in.
    @Test func garbageIntoOnePortWhileOthersTransfer() throws {
        let topology = try LiveTopology(tag: "lg", containers: 3, subnet: 15)
        let live = try SwitchProcess(topology)
        defer { live.stop() }
        let garbage = try Live.spawn(topology.namespace(3), ["python3", "-c", Scripts.garbage, "10000", "4"],
                                     log: topology.directory.path("garbage.log"))
        Thread.sleep(forTimeInterval: 0.3)
        try transfer(topology, from: 1, to: 2, bytes: 10_000_000, port: 5003)
        garbage.waitUntilExit()
        let sentLine = (try? String(contentsOfFile: topology.directory.path("garbage.log"), encoding: .utf8)) ?? ""
        let sent = Int(sentLine.split(separator: " ").last?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "") ?? 0
        #expect(sent >= 30_000, "garbage sent: \(sentLine)")
        let ping = try Live.exec(topology.namespace(1), ["ping", "-c", "2", "-i", "0.2", "-W", "2", topology.address(2)])
        #expect(ping.stdout.contains("2 received"), "\(ping)")
        #expect(live.stop() == 0, "\(live.log)")
        let c3 = try #require(PortStats.last("c3", in: live.log), "\(live.log)")
        #expect(c3["rx"] >= sent * 9 / 10, "c3 took in \(c3["rx"]) of \(sent) garbage frames: \(c3)")
    }

    /// bench/live-iperf.sh runs end to end (a smoke check: its numbers are not judged here).
    @Test func benchScriptSmoke() throws {
        guard Tool.find("iperf3") != nil else {
            Issue.record("iperf3 is not installed (make test-deps installs it)")
            return
        }
        let script = Paths.packageRoot.appendingPathComponent("bench/live-iperf.sh").path
        // Without Open vSwitch's daemons even where it is installed: a smoke check needs no peer of
        // that weight (PIER_BENCH_OVS=0).
        let result = try Tool.run("/bin/bash", [script, "1", try #require(Paths.pier)], environment: ["PIER_BENCH_OVS": "0"])
        #expect(result.status == 0, "\(result)")
        let prefixes = ["  pier switch (TAP", "  pier switch --offload", "  linux bridge"]
        for prefix in prefixes {
            let line = result.lines.first { $0.hasPrefix(prefix) } ?? ""
            let number = line.split(separator: ":").dropFirst().first?.split(separator: " ").first.flatMap { Double($0) }
            #expect((number ?? 0) > 0, "no throughput in \(result)")
        }
        #expect(result.stdout.contains("ratio pier/linux: "), "\(result)")
    }

    /// Sends `bytes` random bytes from container `from` to container `to` over TCP and checks
    /// they arrive identical.
    private func transfer(_ topology: LiveTopology, from: Int, to: Int, bytes: Int, port: Int, address: String? = nil) throws {
        let data = topology.directory.path("data-\(port)")
        try writeRandomFile(data, count: bytes)
        let received = topology.directory.path("received-\(port)")
        let server = try Live.spawn(topology.namespace(to), ["python3", "-c", Scripts.sink, String(port), received] + (address.map { [$0] } ?? []),
                                    log: topology.directory.path("server-\(port).log"))
        let client = try Live.exec(topology.namespace(from), ["python3", "-c", Scripts.send, address ?? topology.address(to), String(port), data])
        #expect(client.status == 0, "sender: \(client)")
        server.waitUntilExit()
        #expect(server.terminationStatus == 0, "receiver log: \((try? String(contentsOfFile: topology.directory.path("server-\(port).log"), encoding: .utf8)) ?? "")")
        let size = (try? FileManager.default.attributesOfItem(atPath: received))?[.size] as? Int
        #expect(size == bytes)
        #expect(try Live.sha256(received) == Live.sha256(data))
    }
}

/// `pier up` and `pier down` on their own: every mode, idempotence, and a half-made topology.
@Suite(.serialized, .enabled(if: Live.available, "live tests need root, ip, ping, python3 and /dev/net/tun"))
struct LiveUpDownTests {
    @Test func modesAndIdempotence() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("modes.yaml")
        try """
            node: plv-um
            ports:
              - {name: c1, tap: plvum1}
            bridges:
              - {name: br0, ports: [c1], ip: 172.31.16.1/24}
            containers:
              - {name: plv-um1, port: c1, ip: 172.31.16.2/24}
              - {name: plv-um2, mode: none}
              - {name: plv-um3, mode: "container:plv-um1"}
            """.write(toFile: path, atomically: true, encoding: .utf8)
        _ = try Tool.pier("down", path)
        defer { _ = try? Tool.pier("down", path) }
        // Half-made: the TAP device already exists here, as a first `up` that stopped early leaves it.
        try Live.ip("tuntap", "add", "dev", "plvum1", "mode", "tap")
        let first = try Tool.pier("up", path)
        #expect(first.status == 0, "\(first)")
        #expect(first.lines.contains { $0.hasPrefix("up plv-um1: namespace plv-um1 made") && $0.contains("plvum1 moved in as eth0") && !$0.contains("tap plvum1 made") }, "\(first)")
        #expect(first.lines.contains("up plv-um3: shares namespace plv-um1"), "\(first)")
        let second = try Tool.pier("up", path)
        #expect(second.lines == ["up plv-um1: already up", "up plv-um2: already up", "up plv-um3: already up"], "\(second)")
        // bridge: eth0 with the address and Docker's MAC, the default route via the bridge.
        let address = try Live.exec("plv-um1", ["ip", "-o", "-4", "addr", "show", "dev", "eth0"]).stdout
        #expect(address.contains("inet 172.31.16.2/24"), "\(address)")
        #expect(try Live.mac(of: "plv-um1") == "02:42:ac:1f:10:02")
        let route = try Live.exec("plv-um1", ["ip", "route", "show", "default"]).stdout
        #expect(route.hasPrefix("default via 172.31.16.1 dev eth0"), "\(route)")
        // none: loopback only, up.
        let links = try Live.exec("plv-um2", ["ip", "-o", "link", "show"]).lines
        #expect(links.count == 1 && links[0].contains(": lo: <LOOPBACK,UP"), "\(links)")
        // container:NAME: the same namespace as NAME (same inode; the same eth0).
        let inodes = try Tool.run("/usr/bin/stat", ["-L", "-c", "%i", "/var/run/netns/plv-um1", "/var/run/netns/plv-um3"]).lines
        #expect(inodes.count == 2 && inodes[0] == inodes[1], "\(inodes)")
        #expect(try Live.mac(of: "plv-um3") == "02:42:ac:1f:10:02")
        let down = try Tool.pier("down", path)
        #expect(down.lines == ["down plv-um3: second name plv-um3 removed", "down plv-um1: namespace plv-um1 removed",
                               "down plv-um2: namespace plv-um2 removed"], "\(down)")
        let again = try Tool.pier("down", path)
        #expect(again.lines == ["down plv-um3: already down", "down plv-um1: already down", "down plv-um2: already down"], "\(again)")
        #expect(try Live.ip("link", "show", "dev", "plvum1").status != 0, "the TAP device outlived pier down")
    }
}

/// Two nodes on one machine: each `pier switch` runs in a namespace of its own (the node),
/// with one container, and the nodes' uplinks meet on a veth underlay (a kernel bridge in
/// each node joins the uplink's TAP device and the veth end). Each node's default route
/// points at the other node's uplink address, as host-gw routes would: pod to pod crosses
/// two Pier routers. Without and with `--offload`.
@Suite(.serialized, .enabled(if: Live.available, "live tests need root, ip, ping, python3 and /dev/net/tun"))
struct LiveTwoNodeTests {
    @Test(arguments: [false, true])
    func podsOnTwoNodesPingAndTransfer(offload: Bool) throws {
        let directory = try TemporaryDirectory()
        let nodes = ["a", "b"]
        var configs: [String] = []
        for (index, node) in nodes.enumerated() {
            let other = 20 - index * 10
            let path = directory.path("\(node).yaml")
            try """
                node: plv-n\(node)
                ports:
                  - {name: eth0, tap: plvn\(node)up, mac: 02:00:c0:a8:4d:\(index + 1)0, ip: 192.168.77.\(10 + index * 10)/24, gateway: 192.168.77.\(other)}
                  - {name: c1, tap: plvn\(node)1}
                bridges:
                  - {name: docker0, ports: [c1], ip: 10.77.\(index + 1).1/24, mac: 02:42:0a:4d:0\(index + 1):01}
                containers:
                  - {name: plv-n\(node)1, port: c1, ip: 10.77.\(index + 1).2/24}
                """.write(toFile: path, atomically: true, encoding: .utf8)
            configs.append(path)
        }
        func cleanUp() {
            for path in configs { _ = try? Tool.pier("down", path) }
            for node in nodes { _ = try? Live.ip("netns", "delete", "plv-n\(node)") }
        }
        cleanUp()
        defer { cleanUp() }
        try Live.ip("netns", "add", "plv-na")
        try Live.ip("netns", "add", "plv-nb")
        #expect(try Live.ip("-n", "plv-na", "link", "add", "plvnav", "type", "veth", "peer", "name", "plvnbv", "netns", "plv-nb").status == 0)
        for node in nodes {
            let ns = "plv-n\(node)"
            for command in [
                ["-n", ns, "link", "add", "plvn\(node)br", "type", "bridge"],
                ["-n", ns, "link", "set", "plvn\(node)br", "up"],
                ["-n", ns, "link", "set", "plvn\(node)v", "master", "plvn\(node)br", "up"],
                ["-n", ns, "tuntap", "add", "dev", "plvn\(node)up", "mode", "tap"],
                ["-n", ns, "link", "set", "plvn\(node)up", "master", "plvn\(node)br", "up"],
            ] {
                let result = try Tool.run(try #require(Tool.find("ip")), command)
                #expect(result.status == 0, "ip \(command.joined(separator: " ")): \(result)")
            }
            let up = try Tool.pier("up", directory.path("\(node).yaml"))
            #expect(up.status == 0, "\(up)")
        }
        let switches = try nodes.map { node in
            try SwitchProcess(config: directory.path("\(node).yaml"), log: directory.path("\(node).log"), ports: 2, namespace: "plv-n\(node)",
                              extra: offload ? ["--offload"] : [])
        }
        defer { for live in switches { live.stop() } }
        // The first frames wait for ARP across both nodes (Pier asks again once a second).
        let reached = try Live.wait(seconds: 5) {
            try Live.exec("plv-na1", ["ping", "-c", "1", "-W", "1", "10.77.2.2"]).status == 0
        }
        #expect(reached, "a -> b never answered")
        let there = try Live.exec("plv-na1", ["ping", "-c", "3", "-i", "0.2", "-W", "2", "10.77.2.2"])
        #expect(there.stdout.contains("3 received") && there.stdout.contains("ttl=62"), "a -> b, two routers: \(there)")
        let back = try Live.exec("plv-nb1", ["ping", "-c", "2", "-i", "0.2", "-W", "2", "10.77.1.2"])
        #expect(back.stdout.contains("2 received"), "b -> a: \(back)")
        // 10 MB across the two nodes arrive identical.
        let data = directory.path("data")
        try writeRandomFile(data, count: 10_000_000)
        let received = directory.path("received")
        let server = try Live.spawn("plv-nb1", ["python3", "-c", Scripts.sink, "5005", received], log: directory.path("server.log"))
        let client = try Live.exec("plv-na1", ["python3", "-c", Scripts.send, "10.77.2.2", "5005", data])
        #expect(client.status == 0, "\(client)")
        server.waitUntilExit()
        #expect(try Live.sha256(received) == Live.sha256(data))
        for live in switches { #expect(live.stop() == 0, "\(live.log)") }
        #expect(switches[0].log.contains("routed"), "\(switches[0].log)")
    }
}

/// The Linux kernel as the peer node, host-gw style: node A is `pier switch` (in namespace
/// plv-ka) with a container; node B (namespace plv-kb) is the kernel's own router, bridge and
/// a pod namespace, with a route to A's pod subnet via A's uplink address; A's default route
/// points at B. Ping and TCP between the pods, both directions; without and with `--offload`
/// (64 KB segments routed by Pier and then by the kernel).
@Suite(.serialized, .enabled(if: Live.available, "live tests need root, ip, ping, python3 and /dev/net/tun"))
struct LiveKernelPeerTests {
    @Test(arguments: [false, true])
    func podBehindPierAndPodBehindTheKernel(offload: Bool) throws {
        let directory = try TemporaryDirectory()
        let config = directory.path("a.yaml")
        try """
            node: plv-ka
            ports:
              - {name: eth0, tap: plvkaup, mac: 02:00:c0:a8:4e:0a, ip: 192.168.78.10/24, gateway: 192.168.78.20}
              - {name: c1, tap: plvka1}
            bridges:
              - {name: docker0, ports: [c1], ip: 10.78.1.1/24, mac: 02:42:0a:4e:01:01}
            containers:
              - {name: plv-ka1, port: c1, ip: 10.78.1.2/24}
            """.write(toFile: config, atomically: true, encoding: .utf8)
        func cleanUp() {
            _ = try? Tool.pier("down", config)
            for ns in ["plv-ka", "plv-kb", "plv-kb1"] { _ = try? Live.ip("netns", "delete", ns) }
        }
        cleanUp()
        defer { cleanUp() }
        let ip = try #require(Tool.find("ip"))
        for command in [
            ["netns", "add", "plv-ka"], ["netns", "add", "plv-kb"], ["netns", "add", "plv-kb1"],
            // Node A's underlay: its uplink TAP and a veth end on a kernel bridge.
            ["-n", "plv-ka", "link", "add", "plvkav", "type", "veth", "peer", "name", "plvkbv", "netns", "plv-kb"],
            ["-n", "plv-ka", "link", "add", "plvkabr", "type", "bridge"],
            ["-n", "plv-ka", "link", "set", "plvkabr", "up"],
            ["-n", "plv-ka", "link", "set", "plvkav", "master", "plvkabr", "up"],
            ["-n", "plv-ka", "tuntap", "add", "dev", "plvkaup", "mode", "tap"],
            ["-n", "plv-ka", "link", "set", "plvkaup", "master", "plvkabr", "up"],
            // Node B: the kernel routes between its uplink and its bridge.
            ["-n", "plv-kb", "addr", "add", "192.168.78.20/24", "dev", "plvkbv"],
            ["-n", "plv-kb", "link", "set", "plvkbv", "up"],
            ["-n", "plv-kb", "link", "add", "plvkbbr", "type", "bridge"],
            ["-n", "plv-kb", "addr", "add", "10.78.2.1/24", "dev", "plvkbbr"],
            ["-n", "plv-kb", "link", "set", "plvkbbr", "up"],
            ["-n", "plv-kb", "link", "add", "plvkb1", "type", "veth", "peer", "name", "eth0", "netns", "plv-kb1"],
            ["-n", "plv-kb", "link", "set", "plvkb1", "master", "plvkbbr", "up"],
            ["-n", "plv-kb", "route", "add", "10.78.1.0/24", "via", "192.168.78.10"],
            ["netns", "exec", "plv-kb", "sysctl", "-qw", "net.ipv4.ip_forward=1"],
            ["-n", "plv-kb1", "addr", "add", "10.78.2.2/24", "dev", "eth0"],
            ["-n", "plv-kb1", "link", "set", "eth0", "up"],
            ["-n", "plv-kb1", "link", "set", "lo", "up"],
            ["-n", "plv-kb1", "route", "add", "default", "via", "10.78.2.1"],
        ] {
            let result = try Tool.run(ip, command)
            #expect(result.status == 0, "ip \(command.joined(separator: " ")): \(result)")
        }
        let up = try Tool.pier("up", config)
        #expect(up.status == 0, "\(up)")
        let live = try SwitchProcess(config: config, log: directory.path("a.log"), ports: 2, namespace: "plv-ka",
                                     extra: offload ? ["--offload"] : [])
        defer { live.stop() }
        let reached = try Live.wait(seconds: 5) { try Live.exec("plv-ka1", ["ping", "-c", "1", "-W", "1", "10.78.2.2"]).status == 0 }
        #expect(reached, "the pod behind the kernel never answered")
        let there = try Live.exec("plv-ka1", ["ping", "-c", "3", "-i", "0.2", "-W", "2", "10.78.2.2"])
        #expect(there.stdout.contains("3 received") && there.stdout.contains("ttl=62"), "Pier pod -> kernel pod: \(there)")
        let back = try Live.exec("plv-kb1", ["ping", "-c", "3", "-i", "0.2", "-W", "2", "10.78.1.2"])
        #expect(back.stdout.contains("3 received") && back.stdout.contains("ttl=62"), "kernel pod -> Pier pod: \(back)")
        for (from, to, address, port) in [("plv-ka1", "plv-kb1", "10.78.2.2", 5006), ("plv-kb1", "plv-ka1", "10.78.1.2", 5007)] {
            let data = directory.path("data-\(port)")
            try writeRandomFile(data, count: 4_000_000)
            let received = directory.path("received-\(port)")
            let server = try Live.spawn(to, ["python3", "-c", Scripts.sink, String(port), received], log: directory.path("server-\(port).log"))
            let client = try Live.exec(from, ["python3", "-c", Scripts.send, address, String(port), data])
            #expect(client.status == 0, "\(from) -> \(to): \(client)")
            server.waitUntilExit()
            #expect(try Live.sha256(received) == Live.sha256(data), "\(from) -> \(to)")
        }
        #expect(live.stop() == 0, "\(live.log)")
    }
}
