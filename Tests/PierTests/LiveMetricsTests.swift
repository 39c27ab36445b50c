import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing

/// `pier switch --metrics` scraped by a real Prometheus server (Debian's `prometheus`, started
/// here on loopback with a 1 s scrape interval and stopped by its PID): two containers ping each
/// other and send UDP to the bridge's own address, which Pier drops (`local-delivery-unsupported`:
/// the node answers only ARP and ping); Prometheus' query API then gives a receive rate above
/// zero for both ports and that drop reason. Namespaces are `plv-pm*`. Skipped, saying why,
/// when not root or without Prometheus.
@Suite(.serialized, .enabled(if: LiveMetrics.available, "live metrics tests need root, ip, ping, python3, prometheus and /dev/net/tun"))
struct LiveMetricsTests {
    @Test func prometheusScrapesPortRatesAndDrops() async throws {
        let topology = try LiveTopology(tag: "pm", containers: 2, subnet: 41)
        let live = try SwitchProcess(topology, extra: ["--metrics", "127.0.0.1:0"])
        defer { live.stop() }
        let target = try #require(LiveMetrics.address(in: live.log), "no metrics line: \(live.log)")
        // The loop publishes a snapshot each second: within one, the ports show up.
        var page = ""
        let up = try await LiveMetrics.poll(seconds: 3) {
            let (body, response) = try await URLSession.shared.data(from: try #require(URL(string: "http://\(target)/metrics")))
            #expect((response as? HTTPURLResponse)?.statusCode == 200)
            page = String(decoding: body, as: UTF8.self)
            return page.contains("pier_port_up{port=\"c1\"} 1") && page.contains("pier_port_up{port=\"c2\"} 1")
        }
        #expect(up, "\(page)")

        let prometheus = try PrometheusProcess(scraping: target, in: topology.directory)
        defer { prometheus.stop() }
        // Traffic until Prometheus has seen it (30 s at most), so that however late its first
        // scrapes come on a loaded machine, several 1 s scrapes see the counters grow.
        let ping = try LiveProgram(topology.namespace(1), ["ping", "-c", "150", "-i", "0.2", "-W", "1", topology.address(2)],
                                   log: topology.directory.path("ping.log"))
        let udp = "import socket, sys, time\ns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\nfor _ in range(150):\n    s.sendto(b'x', (sys.argv[1], 9))\n    time.sleep(0.2)\n"
        let dropped = try LiveProgram(topology.namespace(2), ["python3", "-c", udp, topology.gateway], log: topology.directory.path("udp.log"))

        var rates: [String: Double] = [:]
        let rising = try await LiveMetrics.poll(seconds: 25) {
            rates = try await prometheus.query("rate(pier_port_receive_frames_total[5s])", by: "port")
            return (rates["c1"] ?? 0) > 0 && (rates["c2"] ?? 0) > 0
        }
        #expect(rising, "port receive rates: \(rates)\n\(prometheus.log)")
        var drops: [String: Double] = [:]
        let seen = try await LiveMetrics.poll(seconds: 10) {
            drops = try await prometheus.query("pier_drops_total > 0", by: "reason")
            return (drops["local-delivery-unsupported"] ?? 0) > 0
        }
        #expect(seen, "drops by reason: \(drops)")
        // Each port's device events, scraped too (none dropped here).
        let blocked = try await prometheus.query("pier_port_device_events_total{event=\"tx-blocked\"}", by: "port")
        #expect(blocked == ["c1": 0, "c2": 0], "\(blocked)")
        // The traffic has done its part (the rates above); the rest of it is not needed.
        ping.stop()
        dropped.stop()
        prometheus.stop()

        #expect(live.stop() == 0, "\(live.log)")
        #expect(live.log.contains("switch: stopped"), "SIGTERM reached the loop, not the server's thread: \(live.log)")
        // The switch's own count at the end is at least what Prometheus saw.
        let line = live.log.split(separator: "\n").first { $0.hasPrefix("  drops: ") } ?? ""
        let final = line.dropFirst("  drops: ".count).components(separatedBy: ", ")
            .first { $0.hasPrefix("local-delivery-unsupported ") }.flatMap { Double($0.split(separator: " ")[1]) } ?? 0
        #expect(final >= drops["local-delivery-unsupported"] ?? .infinity, "\(line) against Prometheus' \(drops)")
    }

    /// A `--metrics` port another program listens on: exit 1, saying so, before any port opens.
    @Test func addressInUseExitsOne() throws {
        let topology = try LiveTopology(tag: "pn", containers: 1, subnet: 42)
        let listener = try LiveMetrics.Listener()
        defer { listener.close() }
        let result = try Tool.pier("switch", "--config", topology.path, "--metrics", "127.0.0.1:\(listener.port)")
        #expect(result.status == 1, "\(result)")
        #expect(result.errorLines == ["pier: --metrics 127.0.0.1:\(listener.port): address already in use"], "\(result)")
    }
}

/// Helpers of the live metrics tests.
enum LiveMetrics {
    static let available: Bool = {
        guard Live.available else { return false }
        if let missing = Tool.missing(tools: ["prometheus"]) {
            FileHandle.standardError.write(Data("live metrics tests skipped: the test \(missing)\n".utf8))
            return false
        }
        return true
    }()

    /// `HOST:PORT` from the switch's `switch: metrics at http://HOST:PORT/metrics` line.
    static func address(in log: String) -> String? {
        guard let line = log.split(separator: "\n").first(where: { $0.hasPrefix("switch: metrics at http://") }) else { return nil }
        return line.dropFirst("switch: metrics at http://".count).components(separatedBy: "/").first
    }

    /// Polls `condition` every half second for up to `seconds`.
    static func poll(seconds: Double, _ condition: () async throws -> Bool) async throws -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try await condition() { return true }
            try await Task.sleep(nanoseconds: 500_000_000)
        }
        return try await condition()
    }

    /// A TCP socket listening on a loopback port the system chose.
    final class Listener {
        let descriptor: Int32
        let port: Int

        init() throws {
            let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            self.descriptor = descriptor
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let bound = withUnsafeMutablePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                    bind(descriptor, socketAddress, length) == 0 && listen(descriptor, 1) == 0
                        && getsockname(descriptor, socketAddress, &length) == 0
                }
            }
            try #require(bound, "could not listen on loopback: errno \(errno)")
            port = Int(UInt16(bigEndian: address.sin_port))
        }

        func close() { _ = Glibc.close(descriptor) }
    }
}

/// A Prometheus server on loopback, scraping one target every second, with its configuration
/// and data in a temporary directory; stopped by its PID.
final class PrometheusProcess {
    let process = Process()
    let logPath: String
    let address: String

    /// Starts Prometheus scraping `target` (`HOST:PORT`) and waits until it is ready.
    init(scraping target: String, in directory: TemporaryDirectory) throws {
        let listener = try LiveMetrics.Listener()
        address = "127.0.0.1:\(listener.port)"
        listener.close()
        let config = directory.path("prometheus.yml")
        try """
            global:
              scrape_interval: 1s
              evaluation_interval: 1s
            scrape_configs:
              - job_name: pier
                static_configs:
                  - targets: ['\(target)']
            """.write(toFile: config, atomically: true, encoding: .utf8)
        logPath = directory.path("prometheus.log")
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        process.executableURL = URL(fileURLWithPath: try #require(Tool.find("prometheus")))
        process.arguments = ["--config.file=\(config)", "--storage.tsdb.path=\(directory.path("prometheus-data"))",
                             "--web.listen-address=\(address)"]
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        process.standardError = process.standardOutput
        try process.run()
        let ready = Live.wait(seconds: 20) { self.log.contains("Server is ready to receive web requests") }
        try #require(ready, "Prometheus did not start: \(log)")
    }

    deinit { stop() }

    /// What Prometheus logged.
    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// Evaluates `expression` now through `/api/v1/query`; each result's value by its `label`.
    func query(_ expression: String, by label: String) async throws -> [String: Double] {
        var components = try #require(URLComponents(string: "http://\(address)/api/v1/query"))
        components.queryItems = [URLQueryItem(name: "query", value: expression)]
        let (body, _) = try await URLSession.shared.data(from: try #require(components.url))
        let json = try #require(try JSONSerialization.jsonObject(with: body) as? [String: Any])
        #expect(json["status"] as? String == "success", "\(expression): \(String(decoding: body, as: UTF8.self))")
        let results = ((json["data"] as? [String: Any])?["result"] as? [[String: Any]]) ?? []
        var values: [String: Double] = [:]
        for result in results {
            guard let name = (result["metric"] as? [String: String])?[label],
                  let value = (result["value"] as? [Any])?.last as? String, let number = Double(value) else { continue }
            values[name] = number
        }
        return values
    }

    /// Sends SIGTERM (by PID) if it still runs, and reaps it.
    func stop() {
        if process.isRunning { kill(process.processIdentifier, SIGTERM) }
        process.waitUntilExit()
    }
}
