import Foundation
import PierTestSupport
import Testing

/// The golden scenarios in fixtures/golden: each file's frames run through its topology, and
/// the transcript (frames out per port, drops, events) must be the file's own lines.
struct GoldenTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let directory = root.appendingPathComponent("fixtures/golden").path

    /// The scenario files, by name.
    static let scenarios: [String] = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [])
        .filter { $0.hasSuffix(".txt") }.sorted()

    static func load(_ name: String) throws -> GoldenScenario {
        try GoldenScenario(path: "\(directory)/\(name)", topologies: root.appendingPathComponent("fixtures/topologies").path)
    }

    @Test func theScenariosAreThere() {
        #expect(Self.scenarios.count >= 4, "\(Self.directory): \(Self.scenarios)")
    }

    @Test(arguments: scenarios)
    func scenario(_ name: String) throws {
        let scenario = try Self.load(name)
        if let difference = GoldenScenario.difference(expected: scenario.expected, actual: try scenario.run()) {
            Issue.record("\(name): \(difference)")
        }
    }

    /// Every input line describes back to itself: the words a scenario is written in mean
    /// the same when read (`FrameText.parse`) and when written (`FrameText.describe`).
    @Test(arguments: scenarios)
    func inputsDescribeBackToThemselves(_ name: String) throws {
        for line in try Self.load(name).expected where line.hasPrefix("in ") {
            let text = line.split(separator: " ", maxSplits: 3).map(String.init)[3]
            #expect(FrameText.describe(try FrameText.parse(text)) == text, "\(name)")
        }
    }

    @Test func aMalformedLineNamesItsFileAndLine() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("golden-\(UInt32.random(in: 0...UInt32.max)).txt").path
        try "topology two-containers\nin c1 1.0 02:42:ac:11:00:02 > ff:ff:ff:ff:ff:ff arp who-has 172.17.0.1\n"
            .write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        do {
            _ = try GoldenScenario(path: path, topologies: "/nonexistent")
            Issue.record("a line cut short was read")
        } catch let error as GoldenScenario.FormatError {
            #expect(error.description == "\(path):2: expected tell, found the end of the line")
        }
    }
}
