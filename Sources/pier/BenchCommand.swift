import ArgumentParser
import CAllocCounter
import Dataplane
import Inspect
import Wire

/// `pier bench [STAGE…] [--packets N] [--json]`: in-memory throughput of each stage on
/// synthetic traffic, in this process, on one core.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure each stage's throughput (Mpps, ns per frame, allocations per frame) on synthetic traffic.",
        discussion: "Stages: \(BenchStage.allCases.map(\.rawValue).joined(separator: ", ")). Build with -c release for meaningful numbers.")

    @Argument(help: "Stages to measure (default: all).")
    var stages: [BenchStage] = []

    @Option(help: "Frames per stage.")
    var packets = 20_000_000

    @Flag(help: "One JSON object per stage instead of a table line.")
    var json = false

    func validate() throws {
        guard packets > 0 else { throw ValidationError("--packets must be positive") }
    }

    func run() throws {
        for stage in stages.isEmpty ? BenchStage.allCases : stages {
            for result in stage.measure(packets: packets) {
                standardOutput(json ? result.json.serialized : result.line)
            }
        }
    }
}

/// A stage `pier bench` can measure.
enum BenchStage: String, CaseIterable, ExpressibleByArgument {
    /// Full decode of a VXLAN frame down to its inner TCP header (Ethernet, IPv4, UDP, VXLAN,
    /// Ethernet, IPv4, TCP) into a `DecodedFrame`.
    case decode
    /// The bridge's learn + forward decision with 4,096 and with 1,048,576 stations.
    case bridge
    /// IPv4 longest-prefix match over 10,000 prefixes and a default route.
    case route
    /// The whole pipeline over a 16-port bridge with 4,096 stations.
    case `switch`
    /// The overlay encap stage (VXLAN template copy and patch) on 64-byte inner frames.
    case vxlanEncap = "vxlan-encap"
    /// The overlay decap stage (outer checks, strip, inner classify) on 64-byte inner frames.
    case vxlanDecap = "vxlan-decap"
    /// IP-in-IP encap and decap, and flannel's UDP backend beside it.
    case ipip
    /// Conntrack: established lookup + NAT rewrite with 10,000 and 1,000,000 connections.
    case conntrack
    /// NAT: new masqueraded connections per second.
    case nat

    /// Runs the stage over `packets` frames.
    func measure(packets: Int) -> [BenchResult] {
        switch self {
        case .decode: [DecodeBench.run(packets: packets)]
        case .bridge: [TableBench.bridge(stations: 4_096, packets: packets),
                       TableBench.bridge(stations: 1 << 20, packets: packets)]
        case .route: [TableBench.route(packets: packets)]
        case .switch: [SwitchBench.run(packets: packets)]
        case .vxlanEncap: [OverlayBench.encap(.vxlan, stage: "vxlan-encap", packets: packets)]
        case .vxlanDecap: [OverlayBench.decap(.vxlan, stage: "vxlan-decap", packets: packets)]
        case .ipip: [OverlayBench.encap(.ipip, stage: "ipip-encap", packets: packets),
                     OverlayBench.decap(.ipip, stage: "ipip-decap", packets: packets),
                     OverlayBench.encap(.udp, stage: "udp-encap", packets: packets),
                     OverlayBench.decap(.udp, stage: "udp-decap", packets: packets)]
        case .conntrack: [ConntrackBench.established(connections: 10_000, packets: packets, label: "10k"),
                          ConntrackBench.established(connections: 1_000_000, packets: packets, label: "1M")]
        case .nat: [ConntrackBench.newConnections(packets: packets)]
        }
    }
}

/// One stage's measurement.
struct BenchResult {
    var stage: String
    var frames: Int
    var duration: Duration
    var allocations: UInt64
    /// For table stages: bytes of table per entry (FDB station, route, connection).
    var memoryBytesPerEntry: Double?

    var seconds: Double { duration.seconds }
    var nanosecondsPerFrame: Double { seconds * 1e9 / Double(frames) }
    var mpps: Double { Double(frames) / seconds / 1e6 }
    var allocationsPerFrame: Double { Double(allocations) / Double(frames) }

    /// `decode  20000000 frames  45.1 Mpps  22.2 ns/frame  0.000 allocs/frame`.
    var line: String {
        "\(stage)  \(frames) frames  \(format(mpps, digits: 1)) Mpps  \(format(nanosecondsPerFrame, digits: 1)) ns/frame  "
            + "\(format(allocationsPerFrame, digits: 3)) allocs/frame"
            + (memoryBytesPerEntry.map { "  \(format($0, digits: 1)) bytes/entry" } ?? "")
    }

    /// The contract's object: `stage`, `mpps`, `ns_per_frame`, `allocs_per_frame`, and more.
    var json: JSONValue {
        .object([
            ("stage", .string(stage)),
            ("frames", .integer(Int64(frames))),
            ("seconds", .number(format(seconds, digits: 6))),
            ("mpps", .number(format(mpps, digits: 3))),
            ("ns_per_frame", .number(format(nanosecondsPerFrame, digits: 2))),
            ("allocs_per_frame", .number(format(allocationsPerFrame, digits: 6))),
        ] + (memoryBytesPerEntry.map { [("memory_bytes_per_entry", JSONValue.number(format($0, digits: 1)))] } ?? []))
    }
}

/// Measures `body`'s wall time and heap allocations over `frames` frames.
func measure(stage: String, frames: Int, _ body: () -> Void) -> BenchResult {
    let allocationsBefore = pier_allocation_count()
    let started = ContinuousClock.now
    body()
    let duration = ContinuousClock.now - started
    return BenchResult(stage: stage, frames: frames, duration: duration,
                       allocations: pier_allocation_count() - allocationsBefore)
}
