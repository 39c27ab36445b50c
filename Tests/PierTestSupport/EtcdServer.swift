import Foundation

/// A real etcd server for the tests (Debian's `etcd-server`, 3.4): one member listening on
/// `host` (loopback, or an address inside a test's namespace) on ports found free, its data
/// in a temporary folder; killed by its PID when stopped or released. `etcdctl` talks to it.
package final class EtcdServer: @unchecked Sendable {
    /// Why etcd cannot run here (nil when it can).
    package static let unavailableReason: String? = {
        for tool in ["etcd", "etcdctl"] where path(of: tool) == nil {
            return "\(tool) is not installed (make test-deps installs etcd-server and etcd-client)"
        }
        return nil
    }()

    /// `http://HOST:PORT`.
    package let endpoint: String
    /// The data folder.
    package let dataDirectory: String
    private let host: String
    private let clientPort: Int
    private let peerPort: Int
    private let namespace: String?
    private var process: Process?
    private let logPath: String

    /// Starts etcd on `host` (inside `namespace` when given) and waits until it answers.
    package init(host: String = "127.0.0.1", namespace: String? = nil) throws {
        self.host = host
        self.namespace = namespace
        clientPort = namespace == nil ? Self.freePort() : 2379
        peerPort = namespace == nil ? Self.freePort() : 2380
        endpoint = "http://\(host):\(clientPort)"
        dataDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("pier-etcd-\(UUID().uuidString)").path
        logPath = dataDirectory + ".log"
        try start()
    }

    deinit {
        stop()
        try? FileManager.default.removeItem(atPath: dataDirectory)
        try? FileManager.default.removeItem(atPath: logPath)
    }

    /// Starts the server again (same ports, same data) and waits until it answers.
    package func start() throws {
        guard let etcd = Self.path(of: "etcd") else { throw Failure(message: Self.unavailableReason ?? "no etcd") }
        let peer = "http://\(host):\(peerPort)"
        let arguments = ["--name", "pier-test", "--data-dir", dataDirectory,
                         "--listen-client-urls", endpoint, "--advertise-client-urls", endpoint,
                         "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
                         "--initial-cluster", "pier-test=\(peer)", "--log-level", "warn"]
        let process = Process()
        if let namespace {
            process.executableURL = URL(fileURLWithPath: Self.path(of: "ip") ?? "/usr/sbin/ip")
            process.arguments = ["netns", "exec", namespace, etcd] + arguments
        } else {
            process.executableURL = URL(fileURLWithPath: etcd)
            process.arguments = arguments
        }
        if !FileManager.default.fileExists(atPath: logPath) { _ = FileManager.default.createFile(atPath: logPath, contents: nil) }
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        log.seekToEndOfFile()
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        try process.run()
        self.process = process
        let deadline = Date().addingTimeInterval(15)
        while Date() < deadline {
            if (try? ctl("get", "pier-test-probe")) != nil { return }
            guard process.isRunning else { break }
            Thread.sleep(forTimeInterval: 0.1)
        }
        throw Failure(message: "etcd did not come up at \(endpoint): \((try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "")")
    }

    /// Kills the server (SIGKILL, by PID) and reaps it.
    package func stop() {
        guard let process else { return }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        self.process = nil
    }

    /// Runs `etcdctl ARGUMENTS…` against the server (v3 API); its standard output, or a
    /// failure with its standard error.
    @discardableResult
    package func ctl(_ arguments: String...) throws -> String {
        try ctl(arguments)
    }

    /// Runs `etcdctl` with `arguments`.
    @discardableResult
    package func ctl(_ arguments: [String]) throws -> String {
        guard let etcdctl = Self.path(of: "etcdctl") else { throw Failure(message: "no etcdctl") }
        let process = Process()
        let output = Pipe(), errors = Pipe()
        process.executableURL = URL(fileURLWithPath: namespace == nil ? etcdctl : Self.path(of: "ip") ?? "/usr/sbin/ip")
        let base = ["--endpoints", endpoint, "--command-timeout=3s"] + arguments
        process.arguments = namespace.map { ["netns", "exec", $0, etcdctl] + base } ?? base
        process.environment = ["ETCDCTL_API": "3", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"]
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let problem = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw Failure(message: "etcdctl \(arguments.joined(separator: " ")): \(problem)") }
        return text
    }

    /// Writes `value` at `key`, attached to `lease` (hexadecimal, as etcdctl prints it) if given.
    package func put(_ key: String, _ value: String, lease: String? = nil) throws {
        try ctl(["put", key, value] + (lease.map { ["--lease=\($0)"] } ?? []))
    }

    /// A new lease of `ttl` seconds; its ID in hexadecimal.
    package func grant(ttl: Int) throws -> String {
        let text = try ctl("lease", "grant", String(ttl))
        // "lease 694d8a5c2f1e3b07 granted with TTL(60s)"
        return text.split(separator: " ").dropFirst().first.map(String.init) ?? ""
    }

    /// A failure to run etcd.
    package struct Failure: Error, CustomStringConvertible {
        package var message: String
        package var description: String { message }
    }

    /// A TCP port on loopback that nothing listens on now.
    private static func freePort() -> Int {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socket, $0, length) }
        }
        _ = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(socket, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// The path of `tool` on the usual directories, if installed.
    private static func path(of tool: String) -> String? {
        ["/usr/bin", "/usr/sbin", "/bin", "/sbin", "/usr/local/bin"].map { "\($0)/\(tool)" }
            .first { FileManager.default.isExecutableFile(atPath: $0) }
    }
}
