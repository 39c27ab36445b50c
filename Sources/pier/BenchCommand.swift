import ArgumentParser
import CAllocCounter
import Inspect
import PierBench

/// `pier bench [STAGE…] [--packets N] [--json]`: in-memory throughput of each stage on
/// synthetic traffic, in this process, on one core. The measuring is PierBench's; this verb
/// parses the arguments and prints the results.
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
        // Allocations are counted by the malloc this binary interposes (CAllocCounter).
        let meter = BenchMeter { pier_allocation_count() }
        for stage in stages.isEmpty ? BenchStage.allCases : stages {
            for result in stage.measure(packets: packets, meter: meter) {
                standardOutput(json ? result.json.serialized : result.line)
            }
        }
    }
}

extension BenchStage: ExpressibleByArgument {}

extension BenchResult {
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
