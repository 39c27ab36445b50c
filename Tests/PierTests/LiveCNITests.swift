import Foundation
import Testing

/// `pier` as the CNI plugin (issue 13), run as `cnitool` would run it: the built binary with no
/// arguments, `CNI_COMMAND` and the other variables in its environment and the network
/// configuration on stdin, against a running `pier switch` whose bridge `cni0` has the
/// gateway's address; addresses from Debian's `host-local` (containernetworking-plugins) with
/// its `dataDir` in a temporary directory. Namespaces, TAP devices and nodes start with `pcn`.
@Suite(.serialized, .enabled(if: CNIHarness.available, "the CNI tests need root, ip, ping, /dev/net/tun and /usr/lib/cni/host-local"))
struct LiveCNITests {
    /// Two containers ADDed: each result has the specification's shape, the interfaces carry
    /// the addresses, the containers ping each other and the bridge through Pier, CHECK
    /// passes; DEL (twice) leaves no port, mapping, device or lease behind.
    @Test func addPingCheckDelete() throws {
        let harness = try CNIHarness(tag: "a", subnet: 41)
        defer { harness.stop() }
        var results: [[String: Any]] = []
        for n in 1...2 {
            let add = try harness.call("ADD", container: n, config: harness.config(portMappings: [[
                "hostPort": 18_400 + n, "containerPort": 80, "protocol": "tcp"]]))
            #expect(add.status == 0, "ADD \(n): \(add)")
            let result = try #require(add.object, "ADD \(n): \(add)")
            CNIHarness.expectResultShape(result, netns: harness.netnsPath(n))
            results.append(result)
        }
        let addresses = results.map { (($0["ips"] as? [[String: Any]])?.first?["address"] as? String ?? "").split(separator: "/").first.map(String.init) ?? "" }
        #expect(Set(addresses).count == 2 && addresses.allSatisfy { $0.hasPrefix("10.234.41.") }, "\(addresses)")
        let present = try Live.exec(harness.namespace(1), ["ip", "-o", "address", "show", "dev", "eth0"]).stdout
        #expect(present.contains("inet \(addresses[0])/24"), "\(present)")
        let link = try Live.exec(harness.namespace(1), ["ip", "-o", "link", "show", "dev", "eth0"]).stdout
        #expect(link.contains("mtu 1400") && link.contains("UP"), "\(link)")
        for (from, target) in [(1, addresses[1]), (2, addresses[0]), (1, harness.gateway), (2, harness.gateway)] {
            let ping = try Live.exec(harness.namespace(from), ["ping", "-c", "2", "-i", "0.2", "-W", "2", target])
            #expect(ping.status == 0 && ping.stdout.contains("2 received"), "\(from) -> \(target): \(ping)")
        }
        let ports = try Tool.pier("get", "--node", harness.node, "port").stdout
        #expect(ports.components(separatedBy: "netns: /run/netns/pcn-a").count == 3, "\(ports)")
        let mappings = try Tool.pier("get", "--node", harness.node, "portmapping").stdout
        #expect(mappings.contains("hostPort: 18401, to: \(addresses[0]):80"), "\(mappings)")

        for n in 1...2 {
            let check = try harness.call("CHECK", container: n, config: harness.config(previous: results[n - 1]))
            #expect(check.status == 0 && check.stdout.isEmpty, "CHECK \(n): \(check)")
        }
        for n in 1...2 {
            for attempt in 1...2 {
                let delete = try harness.call("DEL", container: n, config: harness.config(previous: results[n - 1], portMappings: [[
                    "hostPort": 18_400 + n, "containerPort": 80, "protocol": "tcp"]]))
                #expect(delete.status == 0 && delete.stdout.isEmpty, "DEL \(n) #\(attempt): \(delete)")
            }
            #expect(try Live.exec(harness.namespace(n), ["ip", "link", "show", "dev", "eth0"]).status != 0, "eth0 left in \(n)")
        }
        #expect(!(try Tool.pier("get", "--node", harness.node, "port").stdout.contains("pcn-a")))
        #expect(!(try Tool.pier("get", "--node", harness.node, "portmapping").stdout.contains("1840")))
        #expect(harness.leases().isEmpty, "addresses still leased: \(harness.leases())")
    }

    /// Every error path answers the specification's error object on stdout and a non-zero
    /// exit, with its code; a failed ADD leaves nothing behind, an ADD of an interface that is
    /// there leaves the first attachment alone.
    @Test func errorsCarryTheSpecificationsCodes() throws {
        let harness = try CNIHarness(tag: "e", subnet: 42)
        defer { harness.stop() }
        let config = harness.config()

        var missing = harness.environment("ADD", container: 1)
        missing["CNI_NETNS"] = nil
        try CNIHarness.expectError(try harness.run(missing, stdin: try CNIHarness.encode(config)), code: 4, "missing CNI_NETNS")
        try CNIHarness.expectError(try harness.run(harness.environment("ADD", container: 1), stdin: Data("{\"cniVersion\":".utf8)), code: 6, "bad JSON")
        var future = config
        future["cniVersion"] = "9.9.9"
        try CNIHarness.expectError(try harness.call("ADD", container: 1, config: future), code: 1, "unknown cniVersion")
        var noIPAM = config
        noIPAM["ipam"] = nil
        try CNIHarness.expectError(try harness.call("ADD", container: 1, config: noIPAM), code: 7, "no ipam")
        var stopped = config
        stopped["node"] = "pcn-nosuch"
        try CNIHarness.expectError(try harness.call("ADD", container: 1, config: stopped), code: 11, "switch not running")
        #expect(try Live.exec(harness.namespace(1), ["ip", "link", "show", "dev", "eth0"]).status != 0, "a failed ADD left eth0")
        #expect(harness.leases().isEmpty, "a failed ADD kept its address")

        let add = try harness.call("ADD", container: 1, config: config)
        #expect(add.status == 0, "\(add)")
        let result = try #require(add.object)
        try CNIHarness.expectError(try harness.call("ADD", container: 1, config: config), code: 100, "ADD twice")
        #expect(try harness.call("CHECK", container: 1, config: harness.config(previous: result)).status == 0, "ADD twice broke the first")

        let port = try #require(try Tool.pier("get", "--node", harness.node, "port").lines.first { $0.contains("pcn-e1") })
        let name = try #require(port.split(separator: "name: ").last?.split(separator: ",").first.map(String.init))
        #expect(try Tool.pier("delete", "--node", harness.node, "port", name).status == 0)
        try CNIHarness.expectError(try harness.call("CHECK", container: 1, config: harness.config(previous: result)), code: 102, "CHECK without port")
        #expect(try harness.call("DEL", container: 1, config: harness.config(previous: result)).status == 0)
        #expect(harness.leases().isEmpty)

        let version = try harness.run(["CNI_COMMAND": "VERSION"], stdin: Data("{\"cniVersion\":\"1.0.0\"}".utf8))
        #expect(version.status == 0 && (version.object?["supportedVersions"] as? [String])?.contains("1.0.0") == true, "\(version)")
        #expect(try harness.call("STATUS", container: 1, config: config).status == 0)
        try CNIHarness.expectError(try harness.call("STATUS", container: 1, config: stopped), code: 50, "STATUS without a switch")
    }

    /// A switch restarted with containers attached re-attaches them: ADD recorded each
    /// attachment where the switch reads it at start (`--cni-state`), the containers ping each
    /// other again and CHECK passes; the record of a container whose namespace went away while
    /// the switch was down is forgotten; DEL removes the records.
    @Test func restartReattaches() throws {
        let harness = try CNIHarness(tag: "r", subnet: 43, containers: 3)
        defer { harness.stop() }
        var results: [[String: Any]] = []
        for n in 1...3 {
            let add = try harness.call("ADD", container: n, config: harness.config())
            results.append(try #require(add.object, "ADD \(n): \(add)"))
        }
        #expect(harness.records().count == 3, "\(harness.records())")
        let addresses = results.map { (($0["ips"] as? [[String: Any]])?.first?["address"] as? String ?? "").split(separator: "/").first.map(String.init) ?? "" }

        harness.live.stop()
        _ = try Live.ip("netns", "del", harness.namespace(3))
        try harness.restart(ports: 3)
        let log = harness.live.log
        #expect(log.contains("re-attached 2 CNI attachments"), "\(log)")
        #expect(log.contains("forgot the CNI attachment") && log.contains("/run/netns/pcn-r3 is gone"), "\(log)")
        #expect(harness.records().count == 2, "\(harness.records())")
        for (from, target) in [(1, addresses[1]), (2, addresses[0]), (1, harness.gateway)] {
            let ping = try Live.exec(harness.namespace(from), ["ping", "-c", "2", "-i", "0.2", "-W", "2", target])
            #expect(ping.status == 0 && ping.stdout.contains("2 received"), "after the restart, \(from) -> \(target): \(ping)")
        }
        for n in 1...2 {
            let check = try harness.call("CHECK", container: n, config: harness.config(previous: results[n - 1]))
            #expect(check.status == 0, "CHECK \(n) after the restart: \(check)")
        }
        for n in 1...3 {
            let delete = try harness.call("DEL", container: n, config: harness.config(previous: results[n - 1]))
            #expect(delete.status == 0, "DEL \(n): \(delete)")
        }
        #expect(harness.records().isEmpty, "\(harness.records())")
        #expect(harness.leases().isEmpty, "\(harness.leases())")
    }

    /// 20 ADDs at once on one switch all succeed, with 20 distinct addresses, every port up and
    /// every container reaching the bridge; 20 DELs at once leave nothing behind.
    @Test func twentyAddsAtOnce() throws {
        let count = 20
        let harness = try CNIHarness(tag: "c", subnet: 44, containers: count)
        defer { harness.stop() }
        let body = try CNIHarness.encode(harness.config())
        let started = Date()
        let waits = try (1...count).map { n in try harness.start(harness.environment("ADD", container: n), stdin: body) }
        let adds = waits.map { $0() }
        let elapsed = Date().timeIntervalSince(started)
        for (n, add) in adds.enumerated() { #expect(add.status == 0 && add.object != nil, "ADD \(n + 1): \(add)") }
        let addresses = adds.compactMap { (($0.object?["ips"] as? [[String: Any]])?.first?["address"] as? String) }
        #expect(Set(addresses).count == count, "\(addresses)")
        let ports = try Tool.pier("get", "--node", harness.node, "port").stdout
        #expect(ports.components(separatedBy: "netns: /run/netns/pcn-c").count == count + 1, "\(ports)")
        for n in 1...count {
            let ping = try Live.exec(harness.namespace(n), ["ping", "-c", "1", "-W", "2", harness.gateway])
            #expect(ping.status == 0, "\(n) -> the bridge: \(ping)")
        }
        print("LiveCNITests: \(count) ADDs at once took \(Int(elapsed * 1000)) ms")

        let deletes = try (1...count).map { n in
            try harness.start(harness.environment("DEL", container: n), stdin: try CNIHarness.encode(harness.config(previous: adds[n - 1].object)))
        }.map { $0() }
        for (n, delete) in deletes.enumerated() { #expect(delete.status == 0, "DEL \(n + 1): \(delete)") }
        #expect(!(try Tool.pier("get", "--node", harness.node, "port").stdout.contains("pcn-c")))
        #expect(harness.leases().isEmpty, "\(harness.leases())")
        #expect(harness.records().isEmpty, "\(harness.records())")
    }
}

/// A switch with bridge `cni0` (10.234.SUBNET.1/24, plus one local TAP port `pcnupTAG` a
/// topology needs) and `containers` namespaces, `pcn-TAG1`, `pcn-TAG2`, …; runs the plugin. The
/// plugin records its attachments under the temporary directory (`stateDir`), where the switch
/// reads them (`--cni-state`).
final class CNIHarness {
    static let hostLocal = "/usr/lib/cni/host-local"

    /// True when the tests can run here; else says why on stderr.
    static var available: Bool {
        guard Live.available else { return false }
        guard FileManager.default.isExecutableFile(atPath: hostLocal) else {
            FileHandle.standardError.write(Data("CNI tests skipped: \(hostLocal) missing (apt-get install containernetworking-plugins; make test-deps)\n".utf8))
            return false
        }
        return true
    }

    let tag: String
    let subnet: Int
    let containers: Int
    let directory: TemporaryDirectory
    private(set) var live: SwitchProcess
    private var starts = 1

    init(tag: String, subnet: Int, containers: Int = 2) throws {
        self.tag = tag
        self.subnet = subnet
        self.containers = containers
        directory = try TemporaryDirectory()
        let topology = directory.path("node.yaml")
        try """
        node: pcn-\(tag)
        ports:
          - {name: up0, tap: pcnup\(tag)}
        bridges:
          - name: cni0
            ports: [up0]
            ip: 10.234.\(subnet).1/24
            mac: 02:42:0a:ea:\(String(format: "%02x", subnet)):01
        """.write(toFile: topology, atomically: true, encoding: .utf8)
        for n in 1...containers {
            _ = try Live.ip("netns", "del", "pcn-\(tag)\(n)")
            try Live.ipAll([["netns", "add", "pcn-\(tag)\(n)"]])
        }
        live = try SwitchProcess(config: topology, log: directory.path("switch.log"), ports: 1,
                                 extra: ["--cni-state", directory.path("state")])
    }

    /// Stops the switch and starts it again with the same configuration, waiting for `ports`
    /// ports up (the local one and the re-attached containers').
    func restart(ports: Int) throws {
        live.stop()
        starts += 1
        live = try SwitchProcess(config: directory.path("node.yaml"), log: directory.path("switch\(starts).log"), ports: ports,
                                 extra: ["--cni-state", directory.path("state")])
    }

    /// Stops the switch and removes the namespaces and the local TAP device.
    func stop() {
        live.stop()
        for n in 1...containers { _ = try? Live.ip("netns", "del", namespace(n)) }
        _ = try? Live.ip("link", "del", "pcnup\(tag)")
    }

    /// The attachments the plugin has recorded for the switch (one file each).
    func records() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory.path("state/\(node)"))) ?? []).sorted()
    }

    var node: String { "pcn-\(tag)" }
    var gateway: String { "10.234.\(subnet).1" }
    func namespace(_ n: Int) -> String { "pcn-\(tag)\(n)" }
    func netnsPath(_ n: Int) -> String { "/run/netns/" + namespace(n) }

    /// The network configuration; `previous` as `prevResult`, `portMappings` as runtimeConfig.
    func config(previous: [String: Any]? = nil, portMappings: [[String: Any]] = []) -> [String: Any] {
        var config: [String: Any] = [
            "cniVersion": "1.0.0", "name": "pcn-\(tag)", "type": "pier", "node": node, "bridge": "cni0", "mtu": 1400,
            "ipam": ["type": "host-local", "subnet": "10.234.\(subnet).0/24", "gateway": gateway,
                     "dataDir": directory.path("ipam"), "routes": [["dst": "0.0.0.0/0"]]],
            "capabilities": ["portMappings": true], "stateDir": directory.path("state"),
        ]
        if let previous { config["prevResult"] = previous }
        if !portMappings.isEmpty { config["runtimeConfig"] = ["portMappings": portMappings] }
        return config
    }

    /// The environment of `command` for container `n`'s eth0.
    func environment(_ command: String, container n: Int) -> [String: String] {
        ["CNI_COMMAND": command, "CNI_CONTAINERID": "pcn-test-\(tag)-\(n)", "CNI_NETNS": netnsPath(n),
         "CNI_IFNAME": "eth0", "CNI_PATH": "/usr/lib/cni", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"]
    }

    /// The addresses host-local holds (one file per address in its network's directory).
    func leases() -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path("ipam/pcn-\(tag)"))) ?? []
        return names.filter { $0.first?.isNumber == true && !$0.hasPrefix("last_reserved") }
    }

    /// What one plugin run printed and returned.
    struct Outcome: CustomStringConvertible {
        var status: Int32
        var stdout: String
        var stderr: String
        var object: [String: Any]? { (try? JSONSerialization.jsonObject(with: Data(stdout.utf8))) as? [String: Any] }
        var description: String { "exit \(status)\nstdout: \(stdout)\nstderr: \(stderr)" }
    }

    /// Runs `command` for container `n` with `config` on stdin.
    func call(_ command: String, container n: Int, config: [String: Any]) throws -> Outcome {
        try run(environment(command, container: n), stdin: try Self.encode(config))
    }

    /// Runs the plugin (the pier binary, no arguments) with exactly `environment` and `stdin`.
    func run(_ environment: [String: String], stdin: Data) throws -> Outcome {
        try start(environment, stdin: stdin)()
    }

    /// Starts the plugin as `run` does and returns what waits for its end, so several runs
    /// can be under way at once.
    func start(_ environment: [String: String], stdin: Data) throws -> () -> Outcome {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try #require(Paths.pier))
        process.arguments = []
        process.environment = environment
        let input = Pipe(), output = Pipe(), errors = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        input.fileHandleForWriting.write(stdin)
        try input.fileHandleForWriting.close()
        return {
            let printed = output.fileHandleForReading.readDataToEndOfFile()
            let complained = errors.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            return Outcome(status: process.terminationStatus, stdout: String(decoding: printed, as: UTF8.self),
                           stderr: String(decoding: complained, as: UTF8.self))
        }
    }

    static func encode(_ object: [String: Any]) throws -> Data { try JSONSerialization.data(withJSONObject: object) }

    /// An ADD result as CNI 1.0.0 "Success" describes it: cniVersion, interfaces (name, mac,
    /// sandbox), ips (address in CIDR form, gateway, interface index into interfaces), routes
    /// (dst), dns.
    static func expectResultShape(_ result: [String: Any], netns: String) {
        #expect(result["cniVersion"] as? String == "1.0.0")
        let interfaces = result["interfaces"] as? [[String: Any]] ?? []
        #expect(interfaces.count == 1 && interfaces.first?["name"] as? String == "eth0" && interfaces.first?["sandbox"] as? String == netns, "\(result)")
        let mac = interfaces.first?["mac"] as? String ?? ""
        #expect(mac.count == 17 && mac.split(separator: ":").count == 6, "mac \(mac)")
        let ips = result["ips"] as? [[String: Any]] ?? []
        #expect(ips.count == 1, "\(result)")
        for ip in ips {
            #expect((ip["address"] as? String)?.contains("/") == true && ip["interface"] as? Int == 0 && ip["gateway"] is String, "\(ip)")
            #expect(ip["version"] == nil, "1.0.0 results have no ips[].version")
        }
        #expect((result["routes"] as? [[String: Any]])?.allSatisfy { $0["dst"] is String } == true, "\(result)")
        #expect(result["dns"] == nil || result["dns"] is [String: Any])
        #expect(Set(result.keys).isSubset(of: ["cniVersion", "interfaces", "ips", "routes", "dns"]), "\(result.keys)")
    }

    /// An error as CNI 1.0.0 "Error" describes it: the only thing on stdout, cniVersion, code,
    /// msg (details optional), and a non-zero exit.
    static func expectError(_ outcome: Outcome, code: Int, _ what: String) throws {
        #expect(outcome.status != 0, "\(what): \(outcome)")
        let object = try #require(outcome.object, "\(what): stdout is not one JSON object: \(outcome)")
        #expect(object["code"] as? Int == code && object["msg"] is String && object["cniVersion"] is String, "\(what): \(outcome)")
        #expect(Set(object.keys).isSubset(of: ["cniVersion", "code", "msg", "details"]), "\(what): \(object.keys)")
    }
}
