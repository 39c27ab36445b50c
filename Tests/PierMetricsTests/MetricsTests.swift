import Dataplane
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import PierMetrics
import PierTestSupport
import Testing
import Wire

/// `pier switch --metrics` without a switch: snapshots rendered in Prometheus' text format
/// (checked by Prometheus' own `promtool`), the values they carry, counters that only go up,
/// the HTTP server's answers, and the `--metrics` value's syntax.
struct MetricsTests {
    /// A snapshot with every kind of series: two ports (one down), drops, events, connections,
    /// a bridge.
    static let snapshot = MetricsSnapshot(
        ports: [
            .init(name: "c1", received: .init(frames: 10, bytes: 1_000), sent: .init(frames: 7, bytes: 700), isUp: true,
                  device: [.txCoalesced: 6, .txBlocked: 1]),
            .init(name: "c2", received: .init(frames: 3, bytes: 300), sent: .init(frames: 12, bytes: 1_200), isUp: false),
        ],
        drops: Self.counts([(DropReason.ttlExceeded.rawValue, 4), (DropReason.noRoute.rawValue, 2)]),
        events: Self.counts([(PipelineCounters.Event.flooded.rawValue, 5), (PipelineCounters.Event.fdbLearned.rawValue, 2)]),
        conntrackEntries: 3,
        bridges: [.init(name: "docker0", fdbEntries: 2)])

    /// Counts with `values` at their indices, zero elsewhere.
    static func counts(_ values: [(index: Int, count: Int)]) -> [Int] {
        var counts = [Int](repeating: 0, count: (values.map(\.index).max() ?? 0) + 1)
        for (index, count) in values { counts[index] = count }
        return counts
    }

    /// A server on a port the system chooses.
    static func server() throws -> MetricsServer { try MetricsServer(host: "127.0.0.1", port: 0) }

    /// What a server shows after `snapshot` and three applies: two good (4 ms, 30 ms) and one
    /// refused (200 ms).
    static func rendered() throws -> String {
        let server = try Self.server()
        defer { server.shutdown() }
        server.publish(Self.snapshot)
        server.recordApply(ok: true, seconds: 0.004)
        server.recordApply(ok: true, seconds: 0.03)
        server.recordApply(ok: false, seconds: 0.2)
        return server.render()
    }

    @Test func renderedTextPassesPromtool() throws {
        let text = try Self.rendered()
        guard let promtool = Self.find("promtool") else {
            Issue.record("promtool not found: make test-deps installs Debian's prometheus package")
            return
        }
        let check = try Self.run(promtool, ["check", "metrics"], input: text)
        #expect(check.status == 0, "promtool check metrics: \(check.output)\n\(text)")
        #expect(check.output.isEmpty, "promtool's lint: \(check.output)")
        // One HELP and one TYPE line per metric.
        for name in ["pier_port_receive_frames_total", "pier_port_device_events_total", "pier_drops_total", "pier_events_total", "pier_port_up",
                     "pier_conntrack_entries", "pier_fdb_entries", "pier_apply_total", "pier_apply_duration_seconds"] {
            #expect(text.components(separatedBy: "\n# TYPE \(name) ").count == 2, "\(name): \(text)")
            #expect(text.components(separatedBy: "\n# HELP \(name) ").count == 2 || text.hasPrefix("# HELP \(name) "), "\(name)")
        }
        #expect(text.contains("# HELP pier_drops_total Frames dropped, by reason: malformed-ethernet (frame shorter than an Ethernet header); "))
    }

    @Test func valuesMatchTheSnapshot() throws {
        let values = Self.samples(try Self.rendered())
        for port in Self.snapshot.ports {
            let label = "{port=\"\(port.name)\"}"
            #expect(values["pier_port_receive_frames_total" + label] == Double(port.received.frames))
            #expect(values["pier_port_receive_bytes_total" + label] == Double(port.received.bytes))
            #expect(values["pier_port_transmit_frames_total" + label] == Double(port.sent.frames))
            #expect(values["pier_port_transmit_bytes_total" + label] == Double(port.sent.bytes))
            #expect(values["pier_port_up" + label] == (port.isUp ? 1 : 0))
        }
        // A live port's device events, every one of them (zero too); none for a port without a device.
        for event in DeviceEvent.allCases {
            let count = Self.snapshot.ports[0].device[event] ?? 0
            #expect(values["pier_port_device_events_total{port=\"c1\",event=\"\(event.rawValue)\"}"] == Double(count), "\(event)")
            #expect(values["pier_port_device_events_total{port=\"c2\",event=\"\(event.rawValue)\"}"] == nil, "\(event)")
        }
        for reason in DropReason.allCases {
            #expect(values["pier_drops_total{reason=\"\(reason.name)\"}"] == Double(Self.snapshot.dropped(reason)), "\(reason.name)")
        }
        for event in PipelineCounters.Event.allCases {
            #expect(values["pier_events_total{event=\"\(event.name)\"}"] == Double(Self.snapshot.value(event)), "\(event.name)")
        }
        #expect(values["pier_conntrack_entries"] == 3)
        #expect(values["pier_fdb_entries{bridge=\"docker0\"}"] == 2)
        #expect(values["pier_apply_total{result=\"ok\"}"] == 2)
        #expect(values["pier_apply_total{result=\"error\"}"] == 1)
        #expect(values["pier_apply_duration_seconds_count"] == 3)
        #expect(values["pier_apply_duration_seconds_bucket{le=\"0.005\"}"] == 1)
        #expect(values["pier_apply_duration_seconds_bucket{le=\"0.05\"}"] == 2)
        #expect(values["pier_apply_duration_seconds_bucket{le=\"+Inf\"}"] == 3)
        #expect(abs((values["pier_apply_duration_seconds_sum"] ?? 0) - 0.234) < 1e-9)
    }

    /// Counters follow the pipeline's counts and never go back: a count that shrank (a
    /// pipeline built anew) is a restart, its value added. Gauges follow exactly; a port that
    /// left has no `pier_port_up` any more.
    @Test func countersOnlyGoUpAcrossSnapshots() throws {
        let server = try Self.server()
        defer { server.shutdown() }
        #expect(Self.samples(server.render())["pier_drops_total{reason=\"ttl-exceeded\"}"] == 0, "every reason from the start")
        server.publish(Self.snapshot)
        let first = Self.samples(server.render())
        var second = Self.snapshot
        second.ports[0].received.frames = 25
        second.drops[DropReason.ttlExceeded.rawValue] = 9
        second.conntrackEntries = 1
        server.publish(second)
        #expect(Self.samples(server.render()) == Self.samples(server.render()), "a scrape without a new snapshot changes nothing")
        let secondValues = Self.samples(server.render())
        #expect(secondValues["pier_port_receive_frames_total{port=\"c1\"}"] == 25)
        #expect(secondValues["pier_drops_total{reason=\"ttl-exceeded\"}"] == 9)
        #expect(secondValues["pier_conntrack_entries"] == 1, "a gauge goes down")
        var restarted = MetricsSnapshot(ports: [second.ports[0]], drops: Self.counts([(DropReason.ttlExceeded.rawValue, 2)]))
        restarted.ports[0].received.frames = 4
        server.publish(restarted)
        let third = Self.samples(server.render())
        #expect(third["pier_port_receive_frames_total{port=\"c1\"}"] == 29, "25, then a restart at 4")
        #expect(third["pier_drops_total{reason=\"ttl-exceeded\"}"] == 11)
        #expect(third["pier_port_up{port=\"c2\"}"] == nil, "c2 left")
        #expect(third["pier_fdb_entries{bridge=\"docker0\"}"] == nil, "the bridge left")
        for (series, value) in first where series.hasSuffix("_total") || series.contains("_total{") {
            #expect(secondValues[series, default: 0] >= value && third[series, default: 0] >= secondValues[series, default: 0], "\(series)")
        }
    }

    /// A snapshot of a real pipeline carries its counts: a frame flooded from c1 to c2, one
    /// for the node's own address (dropped: no local UDP), one too short to be Ethernet.
    @Test func snapshotOfAPipeline() throws {
        let harness = try PipelineHarness(topology: """
            node: metrics
            ports:
              - {name: c1, tap: pm1}
              - {name: c2, tap: pm2}
            bridges:
              - {name: docker0, ports: [c1, c2], ip: 172.17.0.1/24, mac: 02:42:ac:11:00:01}
            """)
        let source = IPv4Address(172, 17, 0, 2)
        let broadcast = Packets.udp(source, 5_000, IPv4Address(172, 17, 0, 255), 7, destinationMAC: MACAddress(rawValue: 0xFFFF_FFFF_FFFF))
        _ = harness.feed(broadcast, into: "c1", at: 1)
        _ = harness.feed(Packets.udp(source, 5_000, IPv4Address(172, 17, 0, 1), 9), into: "c1", at: 1.1)
        _ = harness.feed([UInt8](repeating: 0, count: 10), into: "c2", at: 1.2)
        let snapshot = MetricsSnapshot(pipeline: harness.pipeline, portsUp: [harness.port("c1")])
        #expect(snapshot.ports.map(\.name) == ["c1", "c2"])
        #expect(snapshot.ports.map(\.isUp) == [true, false])
        #expect(snapshot.ports.map { [$0.received.frames, $0.received.bytes, $0.sent.frames, $0.sent.bytes] }
                == harness.counters.ports.map { [$0.framesIn, $0.bytesIn, $0.framesOut, $0.bytesOut] })
        #expect(snapshot.ports[0].received.frames == 2 && snapshot.ports[1].sent.frames == 1)
        #expect(snapshot.drops == harness.counters.drops && snapshot.events == harness.counters.events)
        #expect(snapshot.dropped(.localDeliveryUnsupported) == 1 && snapshot.dropped(.malformedEthernet) == 1)
        #expect(snapshot.value(.flooded) == 1)
        #expect(snapshot.bridges == [.init(name: "docker0", fdbEntries: 1)], "c1's MAC learned")
        #expect(snapshot.conntrackEntries == harness.pipeline.liveConnectionCount)
    }

    @Test func httpServesMetricsAndNothingElse() async throws {
        let server = try Self.server()
        defer { server.shutdown() }
        server.publish(Self.snapshot)
        #expect(server.url == "http://127.0.0.1:\(server.port)/metrics" && server.port > 0)
        let (body, response) = try await URLSession.shared.data(from: try #require(URL(string: server.url)))
        let http = try #require(response as? HTTPURLResponse)
        #expect(http.statusCode == 200)
        #expect(http.value(forHTTPHeaderField: "Content-Type") == "text/plain; version=0.0.4; charset=utf-8")
        #expect(Self.samples(String(decoding: body, as: UTF8.self))["pier_port_up{port=\"c1\"}"] == 1)
        for path in ["/", "/metricsx", "/favicon.ico"] {
            let (_, other) = try await URLSession.shared.data(from: try #require(URL(string: "http://127.0.0.1:\(server.port)\(path)")))
            #expect((other as? HTTPURLResponse)?.statusCode == 404, "\(path)")
        }
        var post = URLRequest(url: try #require(URL(string: server.url)))
        post.httpMethod = "POST"
        let (_, posted) = try await URLSession.shared.data(for: post)
        #expect((posted as? HTTPURLResponse)?.statusCode == 405)
    }

    @Test func addressInUseIsRefused() throws {
        let server = try Self.server()
        defer { server.shutdown() }
        do {
            let second = try MetricsServer(host: "127.0.0.1", port: server.port)
            second.shutdown()
            Issue.record("a second server bound \(server.port)")
        } catch {
            #expect(!error.badAddress && error.reason == "address already in use", "\(error)")
            #expect(error.description == "127.0.0.1:\(server.port): address already in use")
        }
    }

    @Test(arguments: [
        ("127.0.0.1:9100", "127.0.0.1", 9_100), ("localhost:0", "localhost", 0), ("[::1]:9100", "::1", 9_100),
        (":9100", "0.0.0.0", 9_100),
    ])
    func addressParses(text: String, host: String, port: Int) throws {
        #expect(try MetricsAddress(parsing: text) == MetricsAddress(host: host, port: port))
    }

    @Test(arguments: ["9100", "127.0.0.1", "127.0.0.1:", "127.0.0.1:65536", "127.0.0.1:-1", "127.0.0.1:http", "::1:9100",
                      "a b:9100", "[::1:9100"])
    func addressRefused(text: String) {
        #expect(throws: MetricsAddress.Invalid.self) { try MetricsAddress(parsing: text) }
    }

    /// `name{labels} value` lines by `name{labels}` (comments left out).
    static func samples(_ text: String) -> [String: Double] {
        var samples: [String: Double] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { continue }
            samples[String(line[..<space])] = value
        }
        return samples
    }

    static func find(_ name: String) -> String? {
        ["/usr/bin", "/usr/local/bin", "/bin"].map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Runs `executable` with `input` on stdin; its exit status and what it printed (both streams).
    static func run(_ executable: String, _ arguments: [String], input: String) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let stdin = Pipe(), output = Pipe()
        process.standardInput = stdin
        process.standardOutput = output
        process.standardError = output
        try process.run()
        stdin.fileHandleForWriting.write(Data(input.utf8))
        try stdin.fileHandleForWriting.close()
        let printed = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: printed, as: UTF8.self))
    }
}
