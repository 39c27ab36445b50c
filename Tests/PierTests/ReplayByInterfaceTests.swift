import Dataplane
import Foundation
import PacketIO
import Testing
import Wire

/// `pier replay --in FILE.pcapng` without a port: the capture's interfaces name the ports,
/// frames the node sent are not fed (flagged, or guessed when nothing is flagged), the
/// interfaces merge by timestamp; `--out-all` writes every port's output as one pcapng.
/// The answer is the same replay given one classic capture per port.
struct ReplayByInterfaceTests {
    static let topology = Paths.packageRoot.appendingPathComponent("fixtures/topologies/two-containers.yaml").path
    static func scenario(_ name: String) -> String { Paths.packageRoot.appendingPathComponent("fixtures/scenarios/\(name)").path }
    static let ports = ["eth0", "c1", "c2", "c3"]

    /// The classic replay: what each port sends, by port.
    static func classicOutputs(_ directory: TemporaryDirectory) throws -> [String: [Record]] {
        let outs = ports.flatMap { ["--out", "\($0)=" + directory.path("classic-\($0).pcap")] }
        let result = try Tool.pier(["replay", "--config", topology, "--in", "c1=" + scenario("ping-c1.pcap"),
                                    "--in", "c2=" + scenario("ping-c2.pcap")] + outs)
        try #require(result.status == 0, "\(result)")
        var outputs: [String: [Record]] = [:]
        for port in ports { outputs[port] = try readRecords(directory.path("classic-\(port).pcap")).records }
        return outputs
    }

    /// A capture of the node on c1 and c2 as one pcapng: each interface's received frames
    /// and (when `withSent`) the frames the node sent on it 1 µs after their cause, in time
    /// order per interface, c1's interface written whole before c2's (out of time order
    /// across interfaces, as dumpcap may write). `names` are the interfaces' if_names.
    static func nodeCapture(_ path: String, sent: [String: [Record]]?, flagged: Bool, names: [String] = ["c1", "c2"]) throws {
        let writer = try PcapNGWriter(path: path, interfaces: names.map { ($0, LinkType.ethernet) })
        for (index, port) in ["c1", "c2"].enumerated() {
            var frames = try readRecords(scenario("ping-\(port).pcap")).records.map { ($0, CaptureDirection.inbound) }
            for var record in sent?[port] ?? [] {
                record.timestamp = Timestamp(nanoseconds: record.timestamp.nanoseconds + 1_000)
                frames.append((record, .outbound))
            }
            for (record, direction) in frames.sorted(by: { $0.0.timestamp < $1.0.timestamp }) {
                var frame = Frame(bytes: record.bytes)
                frame.timestamp = record.timestamp
                frame.originalLength = record.originalLength
                try writer.write(frame, interface: index, direction: flagged ? direction : .unknown)
            }
        }
        try writer.close()
    }

    /// `--out-all`'s frames, by interface name.
    static func byInterface(_ path: String) throws -> [String: [Record]] {
        let reader = try PcapReader(path: path)
        var frame = Frame()
        var frames: [String: [Record]] = [:]
        while try reader.next(into: &frame) {
            frames[reader.lastInterface?.name ?? "?", default: []].append(Record(frame))
            #expect(reader.lastDirection == .outbound)
        }
        #expect(reader.interfaces.map(\.name) == ports)
        return frames
    }

    @Test(arguments: [("flagged", true, true), ("received only", false, false), ("unflagged, guessed", true, false)])
    func sameAsOneCapturePerPort(_ variant: (name: String, withSent: Bool, flagged: Bool)) throws {
        let directory = try TemporaryDirectory()
        let expected = try Self.classicOutputs(directory)
        let capture = directory.path("node.pcapng")
        try Self.nodeCapture(capture, sent: variant.withSent ? expected : nil, flagged: variant.flagged)
        let all = directory.path("all.pcapng")
        let result = try Tool.pier("replay", "--config", Self.topology, "--in", capture, "--out-all", all)
        try #require(result.status == 0, "\(result)")
        #expect(result.lines.first?.hasPrefix("replay: 8 frames in, 11 out, 1 dropped, 0 held, ") == true)
        let sentCount = (expected["c1"]?.count ?? 0) + (expected["c2"]?.count ?? 0)
        if variant.withSent && variant.flagged {
            #expect(result.lines.contains("  outbound, not fed: \(sentCount) frames flagged outbound (epb_flags)"))
        } else {
            #expect(result.lines.contains { $0.hasPrefix("  outbound, not fed: \(variant.withSent ? sentCount : 0) frames (no direction flags") })
        }
        let outputs = try Self.byInterface(all)
        for port in Self.ports {
            #expect(outputs[port] ?? [] == expected[port] ?? [], "port \(port)")
        }
    }

    @Test func anInterfaceThatIsNoPortIsNamed() throws {
        let directory = try TemporaryDirectory()
        let capture = directory.path("node.pcapng")
        try Self.nodeCapture(capture, sent: nil, flagged: false, names: ["veth1a2b", "c2"])
        let refused = try Tool.pier("replay", "--config", Self.topology, "--in", capture)
        #expect(refused.status == 2)
        #expect(refused.errorLines.first?.contains("interface veth1a2b is no port of \(Self.topology)") == true, "\(refused)")
        #expect(refused.errorLines.first?.contains("--map veth1a2b=PORT") == true)
        let mapped = try Tool.pier("replay", "--config", Self.topology, "--in", capture, "--map", "veth1a2b=c1")
        #expect(mapped.status == 0, "\(mapped)")
        #expect(mapped.lines.first?.hasPrefix("replay: 8 frames in, 11 out, 1 dropped, 0 held, ") == true)
    }

    /// A damaged pcapng: exit 2 naming the block, with the frames before it inspected.
    @Test func damagedPcapNGNamesTheBlockAndKeepsGoodFrames() throws {
        let directory = try TemporaryDirectory()
        let capture = directory.path("node.pcapng")
        try Self.nodeCapture(capture, sent: nil, flagged: false)
        let bytes = try fileBytes(capture)
        let cut = try directory.write(Array(bytes.dropLast(30)), to: "cut.pcapng")
        let result = try Tool.pier("inspect", cut)
        #expect(result.status == 2)
        #expect(result.lines.count == 7)
        #expect(result.errorLines.count == 1)
        #expect(result.errorLines.first?.hasPrefix("pier: \(cut): block 11 at offset ") == true, "\(result)")
        #expect(result.errorLines.first?.contains(": block cut off: ") == true)
    }
}
