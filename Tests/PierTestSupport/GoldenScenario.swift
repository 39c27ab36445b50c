import Dataplane
import Foundation
import Topology

/// A golden scenario in the style of Click's tests (fixtures/golden/README.md): a topology,
/// frames in, and for each the frames out per port, then the drops and events. `run` feeds
/// the frames through a `PipelineHarness` and writes the transcript the scenario should be;
/// a test compares it with the file's own lines.
public struct GoldenScenario {
    /// A scenario file that cannot be read.
    public struct FormatError: Error, CustomStringConvertible {
        /// `file:line: problem`.
        public var description: String
    }

    /// The scenario's lines that the run reproduces (`in`, `out`, `drops`, `events`), spaces
    /// collapsed, comments and blank lines left out.
    public let expected: [String]
    private let topologyPath: String
    private let inputs: [(port: String, seconds: Double, frame: [UInt8], line: String)]

    /// Reads the scenario at `path`; `topology NAME` names `topologies/NAME.yaml`.
    public init(path: String, topologies: String) throws {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        var expected: [String] = [], inputs: [(String, Double, [UInt8], String)] = [], topology: String?
        for (number, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)[0]
                .split(separator: " ").joined(separator: " ")
            let words = line.split(separator: " ", maxSplits: 3).map(String.init)
            func fail(_ problem: String) -> FormatError { FormatError(description: "\(path):\(number + 1): \(problem)") }
            switch words.first {
            case nil:
                continue
            case "topology":
                guard words.count == 2 else { throw fail("expected topology NAME") }
                topology = "\(topologies)/\(words[1]).yaml"
            case "in":
                guard words.count == 4, let seconds = Double(words[2]) else { throw fail("expected in PORT SECONDS FRAME") }
                do {
                    inputs.append((words[1], seconds, try FrameText.parse(words[3]), line))
                } catch {
                    throw fail(error.description)
                }
                expected.append(line)
            case "out", "drops", "events":
                expected.append(line)
            case let other?:
                throw fail("unknown line kind \(other): expected topology, in, out, drops or events")
            }
        }
        guard let topology else { throw FormatError(description: "\(path): no topology line") }
        self.expected = expected
        self.topologyPath = topology
        self.inputs = inputs
    }

    /// The transcript the scenario produces: each `in` line, then `out PORT FRAME` for each
    /// frame that left during its run (grouped by port in the topology's port order, in the
    /// order sent within a port), then `drops` and `events` as the counters end.
    public func run() throws -> [String] {
        let harness = PipelineHarness(config: PipelineConfig(try Topology.load(path: topologyPath)))
        var transcript: [String] = []
        for input in inputs {
            transcript.append(input.line)
            let sent = harness.feed([PipelineHarness.Input(input.frame, port: harness.port(input.port), time: PipelineHarness.time(input.seconds))])
            for output in sent.enumerated().sorted(by: { ($0.element.port.rawValue, $0.offset) < ($1.element.port.rawValue, $1.offset) }) {
                transcript.append("out \(output.element.portName) \(FrameText.describe(output.element.bytes))")
            }
        }
        harness.drainOutbound()
        transcript.append("drops \(PipelineHarness.summary(harness.drops))")
        transcript.append("events \(PipelineHarness.summary(harness.events))")
        return transcript
    }

    /// The first place two transcripts differ, with the lines around it, or nil when equal.
    public static func difference(expected: [String], actual: [String]) -> String? {
        guard expected != actual else { return nil }
        let first = (0..<min(expected.count, actual.count)).first { expected[$0] != actual[$0] } ?? min(expected.count, actual.count)
        let context = max(0, first - 2)
        func lines(_ all: [String], _ mark: String) -> String {
            all[context..<min(all.count, first + 3)].enumerated().map { "\(context + $0.offset == first ? mark : " ") \($0.element)" }
                .joined(separator: "\n")
        }
        return "transcripts differ at line \(first + 1) of the scenario's lines:\nexpected:\n\(lines(expected, "-"))\nactual:\n\(lines(actual, "+"))"
            + "\nwhole actual transcript:\n" + actual.joined(separator: "\n")
    }
}
