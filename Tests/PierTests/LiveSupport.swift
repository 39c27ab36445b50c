import Foundation
import Testing

// Helpers for the live tests: network namespaces made by `pier up`, a `pier switch` process
// serving them, and commands run inside the namespaces. Every namespace, TAP device and veth
// these tests make starts with `plv`, so parallel runs of other suites never collide.

/// Whether the live tests can run here, and why not.
enum Live {
    /// Nil when the live tests can run; else the reason they are skipped.
    static let unavailableReason: String? = {
        if let missing = Tool.missing(tools: ["ip", "ping", "python3"]) { return "the live tests \(missing)" }
        if !FileManager.default.fileExists(atPath: "/dev/net/tun") { return "the live tests need /dev/net/tun" }
        return nil
    }()

    /// True when the live tests can run.
    static var available: Bool {
        if let unavailableReason {
            FileHandle.standardError.write(Data("live tests skipped: \(unavailableReason)\n".utf8))
            return false
        }
        return true
    }

    /// Runs `arguments` inside namespace `namespace` (`ip netns exec`).
    @discardableResult
    static func exec(_ namespace: String, _ arguments: [String]) throws -> Tool.Result {
        try Tool.run(try #require(Tool.find("ip")), ["netns", "exec", namespace] + arguments)
    }

    /// Runs `ip arguments…`.
    @discardableResult
    static func ip(_ arguments: String...) throws -> Tool.Result {
        try Tool.run(try #require(Tool.find("ip")), arguments)
    }

    /// Starts `arguments` inside `namespace` without waiting; output goes to `log`.
    static func spawn(_ namespace: String, _ arguments: [String], log: String) throws -> Process {
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try #require(Tool.find("ip")))
        process.arguments = ["netns", "exec", namespace] + arguments
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        return process
    }

    /// The MAC address of `eth0` in `namespace`, as the kernel reports it.
    static func mac(of namespace: String) throws -> String {
        let text = try exec(namespace, ["cat", "/sys/class/net/eth0/address"]).stdout
        return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Waits up to `seconds` for `condition`.
    static func wait(seconds: Double, until condition: () throws -> Bool) rethrows -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try condition() { return true }
            Thread.sleep(forTimeInterval: 0.05)
        }
        return try condition()
    }

    /// The SHA-256 of the file at `path`.
    static func sha256(_ path: String) throws -> String {
        try Tool.run(try #require(Tool.find("sha256sum")), [path]).stdout.split(separator: " ").first.map(String.init) ?? ""
    }
}

/// A topology of containers on one bridge, made with `pier up` and removed with `pier down`.
/// Container `n` (1-based) is namespace `plv-<tag><n>` on port `c<n>` (TAP `plv<tag><n>`),
/// address 172.31.<subnet>.<n+1>/24; the bridge is 172.31.<subnet>.1. A suite of its own may
/// give another `prefix` than `plv`.
final class LiveTopology {
    let tag: String
    let prefix: String
    let count: Int
    let subnet: Int
    let directory: TemporaryDirectory
    let path: String

    init(tag: String, containers count: Int, subnet: Int, prefix: String = "plv") throws {
        self.tag = tag
        self.prefix = prefix
        self.count = count
        self.subnet = subnet
        directory = try TemporaryDirectory()
        path = directory.path("\(tag).yaml")
        var yaml = "node: \(prefix)-\(tag)\nports:\n"
        for n in 1...count { yaml += "  - {name: c\(n), tap: \(prefix)\(tag)\(n)}\n" }
        yaml += "bridges:\n  - name: br0\n    ports: [\((1...count).map { "c\($0)" }.joined(separator: ", "))]\n"
        yaml += "    ip: 172.31.\(subnet).1/24\n    mac: 02:42:ac:1f:\(String(format: "%02x", subnet)):01\n"
        yaml += "containers:\n"
        for n in 1...count { yaml += "  - {name: \(namespace(n)), port: c\(n), ip: \(address(n))/24}\n" }
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        _ = try Tool.pier("down", path)  // leftovers of an interrupted run
        let up = try Tool.pier("up", path)
        #expect(up.status == 0, "pier up: \(up)")
    }

    deinit { _ = try? Tool.pier("down", path) }

    /// The node name (its control socket is /run/pier/NODE.sock).
    var node: String { "\(prefix)-\(tag)" }
    /// Container `n`'s namespace.
    func namespace(_ n: Int) -> String { "\(prefix)-\(tag)\(n)" }
    /// Container `n`'s address.
    func address(_ n: Int) -> String { "172.31.\(subnet).\(n + 1)" }
    /// The bridge's address, the containers' gateway.
    var gateway: String { "172.31.\(subnet).1" }
}

/// A `pier switch` process started by a test, stopped by its PID.
final class SwitchProcess {
    let process = Process()
    let logPath: String

    /// Starts `pier switch --config TOPO extra…` and waits until every port is up.
    convenience init(_ topology: LiveTopology, extra: [String] = []) throws {
        try self.init(config: topology.path, log: topology.directory.path("switch.log"), ports: topology.count, extra: extra)
    }

    /// Starts `pier switch --config CONFIG extra…`, inside `namespace` when given (a node of its
    /// own), through `launcher` when given (a program that runs its arguments), and waits until
    /// `ports` ports are up.
    init(config: String, log logPath: String, ports: Int, namespace: String? = nil, extra: [String] = [],
         launcher: [String] = []) throws {
        self.logPath = logPath
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        let pier = try #require(Paths.pier)
        let arguments = ["switch", "--config", config] + extra
        if let namespace {
            process.executableURL = URL(fileURLWithPath: try #require(Tool.find("ip")))
            process.arguments = ["netns", "exec", namespace, pier] + arguments
        } else if let program = launcher.first {
            process.executableURL = URL(fileURLWithPath: program)
            process.arguments = launcher.dropFirst() + [pier] + arguments
        } else {
            process.executableURL = URL(fileURLWithPath: pier)
            process.arguments = arguments
        }
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        let up = Live.wait(seconds: 10) { self.log.components(separatedBy: ": up (").count - 1 >= ports }
        #expect(up, "the switch did not bring every port up: \(log)")
    }

    deinit { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }

    /// What the switch printed so far.
    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// Sends SIGTERM and waits for the exit; returns the exit status.
    @discardableResult
    func stop() -> Int32 {
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
        return process.terminationStatus
    }
}

/// Python programs the tests run inside namespaces.
enum Scripts {
    /// `python3 -c SINK PORT FILE`: accepts one TCP connection and writes what it receives to FILE.
    static let sink = """
        import socket, sys
        address = sys.argv[3] if len(sys.argv) > 3 else "0.0.0.0"
        server = socket.socket(socket.AF_INET6 if ":" in address else socket.AF_INET)
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind((address, int(sys.argv[1])))
        server.listen(1)
        connection, _ = server.accept()
        with open(sys.argv[2], "wb") as out:
            while True:
                data = connection.recv(65536)
                if not data:
                    break
                out.write(data)
        """

    /// `python3 -c SEND HOST PORT FILE`: connects (retrying for 5 s) and sends FILE.
    static let send = """
        import socket, sys, time
        deadline = time.time() + 5
        while True:
            try:
                connection = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=20)
                break
            except OSError:
                if time.time() > deadline:
                    raise
                time.sleep(0.1)
        with open(sys.argv[3], "rb") as data:
            connection.sendall(data.read())
        connection.shutdown(socket.SHUT_WR)
        connection.recv(1)
        connection.close()
        """

    /// `python3 -c GARBAGE RATE SECONDS`: sends RATE random frames a second (14 to 1514 bytes,
    /// random bytes after a broadcast or random destination) out of eth0 for SECONDS.
    static let garbage = """
        import os, random, socket, sys, time
        rate, seconds = int(sys.argv[1]), float(sys.argv[2])
        raw = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
        raw.bind(("eth0", 0))
        sent, start = 0, time.time()
        while time.time() - start < seconds:
            for _ in range(100):
                body = os.urandom(random.randint(14, 1514))
                if random.random() < 0.5:
                    body = b"\\xff" * 6 + body[6:]
                try:
                    raw.send(body)
                    sent += 1
                except OSError:
                    pass
            target = start + sent / rate
            delay = target - time.time()
            if delay > 0:
                time.sleep(delay)
        print("sent", sent)
        """
}

/// Writes `count` random bytes (from /dev/urandom) to `path`.
func writeRandomFile(_ path: String, count: Int) throws {
    let source = try #require(FileHandle(forReadingAtPath: "/dev/urandom"))
    defer { try? source.close() }
    var data = Data()
    while data.count < count { data.append(source.readData(ofLength: min(1 << 20, count - data.count))) }
    try data.write(to: URL(fileURLWithPath: path))
}

extension Live {
    /// Whether the kernel can make links of `type` (`ip link add … type TYPE OPTIONS…`), tried in a
    /// namespace made for the purpose; when not, says so on stderr (the test is skipped).
    static func kernelHas(_ type: String, _ options: String...) -> Bool {
        guard available, let tool = Tool.find("ip") else { return false }
        let ns = "plx-p\(type.prefix(5))\(getpid() % 1000)"
        _ = try? Tool.run(tool, ["netns", "add", ns])
        defer { _ = try? Tool.run(tool, ["netns", "delete", ns]) }
        let made = (try? Tool.run(tool, ["-n", ns, "link", "add", "plxprobe", "type", type] + options))?.status == 0
        if !made {
            FileHandle.standardError.write(Data("live tests with a kernel \(type) device skipped: this kernel cannot make one (module \(type) missing)\n".utf8))
        }
        return made
    }

    /// Runs `ip` with each argument list in turn, expecting each to succeed.
    static func ipAll(_ commands: [[String]]) throws {
        let ip = try #require(Tool.find("ip"))
        for command in commands {
            let result = try Tool.run(ip, command)
            #expect(result.status == 0, "ip \(command.joined(separator: " ")): \(result)")
        }
    }
}

/// A program a test started inside a namespace (`Live.spawn`), its output in a log file;
/// stopped by its PID.
final class LiveProgram {
    let process: Process
    let logPath: String

    /// Starts `arguments` in `namespace`, output to `log`.
    init(_ namespace: String, _ arguments: [String], log: String) throws {
        logPath = log
        process = try Live.spawn(namespace, arguments, log: log)
    }

    deinit { stop() }

    /// What it printed so far.
    var output: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// The client addresses a `Scripts.namedServer` saw, in order.
    var peers: [String] { output.split(separator: "\n").compactMap { $0.hasPrefix("peer ") ? String($0.split(separator: " ")[1]) : nil } }

    /// The server names a `Scripts.namedClient` was answered with, in order.
    var answers: [String] { output.split(separator: "\n").compactMap { $0.hasPrefix("answer ") ? String($0.split(separator: " ")[1]) : nil } }

    /// Waits up to 20 s for the exit; returns the exit status (-1: killed after the wait).
    func finish() -> Int32 {
        if !Live.wait(seconds: 20, until: { !process.isRunning }) { stop() }
        process.waitUntilExit()
        return process.terminationStatus
    }

    /// Kills it (SIGKILL, by PID) if it still runs, and reaps it.
    func stop() {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }
}

extension Scripts {
    /// `python3 -c NAMED_SERVER PORT NAME`: serves TCP on PORT until killed; for each connection
    /// prints `peer ADDRESS PORT` (the client as the kernel reports it, `getpeername`), answers
    /// `NAME ADDRESS` and closes when the client does. Prints `listening` once bound.
    static let namedServer = """
        import socketserver, sys
        name = sys.argv[2]
        class Handler(socketserver.StreamRequestHandler):
            def handle(self):
                host, port = self.client_address[:2]
                print("peer", host, port, flush=True)
                self.wfile.write(("%s %s\\n" % (name, host)).encode())
                self.wfile.flush()
                self.rfile.read()
        socketserver.ThreadingTCPServer.allow_reuse_address = True
        socketserver.ThreadingTCPServer.daemon_threads = True
        server = socketserver.ThreadingTCPServer(("0.0.0.0", int(sys.argv[1])), Handler)
        print("listening", flush=True)
        server.serve_forever()
        """

    /// `python3 -c NAMED_CLIENT HOST PORT COUNT [HOLD]`: opens COUNT connections to HOST:PORT
    /// one after the other (each connect retried for 5 s), printing `answer NAME ADDRESS` for
    /// each; with HOLD, keeps each open until the file HOLD exists (at most 15 s).
    static let namedClient = """
        import os, socket, sys, time
        host, port, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
        hold = sys.argv[4] if len(sys.argv) > 4 else None
        for _ in range(count):
            deadline = time.time() + 5
            while True:
                try:
                    connection = socket.create_connection((host, port), timeout=5)
                    break
                except OSError:
                    if time.time() > deadline:
                        raise
                    time.sleep(0.1)
            reader = connection.makefile("rb")
            answer = reader.readline().decode().strip()
            reader.close()
            print("answer", answer, flush=True)
            if hold:
                until = time.time() + 15
                while not os.path.exists(hold) and time.time() < until:
                    time.sleep(0.05)
            connection.close()
        """
}

extension Scripts {
    /// `python3 -c REFUSALS HOST PORT`: a TCP connect to HOST:PORT and a UDP datagram to it on a
    /// connected socket, where nothing listens; prints `tcp refused` and `udp refused` when the
    /// kernel reports ECONNREFUSED (a reset; an ICMP port unreachable), else what happened.
    static let refusals = """
        import socket, sys
        host, port = sys.argv[1], int(sys.argv[2])
        try:
            socket.create_connection((host, port), timeout=3)
            print("tcp connected")
        except ConnectionRefusedError:
            print("tcp refused")
        except OSError as error:
            print("tcp", error)
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        udp.settimeout(3)
        udp.connect((host, port))
        udp.send(b"probe")
        try:
            udp.recv(100)
            print("udp answered")
        except ConnectionRefusedError:
            print("udp refused")
        except OSError as error:
            print("udp", error)
        """
}

extension Scripts {
    /// `python3 -c UDP_ECHO PORT`: answers each datagram on PORT with the sender's address
    /// (as the kernel reports it, `recvfrom`) until killed. Prints `listening` once bound.
    static let udpEcho = """
        import socket, sys
        server = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        server.bind(("0.0.0.0", int(sys.argv[1])))
        print("listening", flush=True)
        while True:
            data, peer = server.recvfrom(2048)
            server.sendto(peer[0].encode(), peer)
        """

    /// `python3 -c UDP_ASK HOST PORT`: sends a datagram to HOST:PORT on an unconnected socket
    /// (retrying each second, 5 times) and prints `reply from ADDRESS PORT: TEXT` with the
    /// address the reply came from.
    static let udpAsk = """
        import socket, sys
        client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        client.settimeout(1)
        for _ in range(5):
            client.sendto(b"ask", (sys.argv[1], int(sys.argv[2])))
            try:
                data, peer = client.recvfrom(2048)
                print("reply from %s %d: %s" % (peer[0], peer[1], data.decode()))
                break
            except socket.timeout:
                pass
        """
}

/// One port's entry in the last `switch: stats:` line of a switch's log: its state (`up`,
/// `down`, `link-down`) and its counters (`rx 10 tx 12 tx-blocked 3 …`).
struct PortStats: CustomStringConvertible {
    var port: String
    var state: String
    var counters: [String: Int]

    /// The port's entry in the last stats line of `log`, if there is one.
    static func last(_ port: String, in log: String) -> PortStats? {
        guard let line = log.split(separator: "\n").last(where: { $0.hasPrefix("switch: stats: ") }),
              let entry = line.dropFirst("switch: stats: ".count).components(separatedBy: ", ")
                .first(where: { $0.hasPrefix(port + " ") })
        else { return nil }
        let words = entry.split(separator: " ").map(String.init)
        guard words.count >= 2 else { return nil }
        var counters: [String: Int] = [:]
        for index in stride(from: 2, to: words.count - 1, by: 2) { counters[words[index]] = Int(words[index + 1]) }
        return PortStats(port: port, state: words[1], counters: counters)
    }

    /// A counter's value; 0 when the line leaves it out (it does for zero).
    subscript(counter: String) -> Int { counters[counter] ?? 0 }
    var up: Bool { state == "up" }
    var sent: Int { self["tx"] }
    var blocked: Int { self["tx-blocked"] }

    var description: String {
        ([port, state] + counters.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }).joined(separator: " ")
    }
}
