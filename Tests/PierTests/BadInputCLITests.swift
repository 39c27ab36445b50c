import Foundation
import PacketIO
import Testing

/// Bad input and bad usage: exit status 2, one line on stderr naming the file (and the
/// record), and everything good before the damage still printed or written.
struct BadInputCLITests {
    /// A damaged input, made from a good capture.
    enum Damage: String, CaseIterable, CustomTestStringConvertible, Sendable {
        case missingFile, textFile, truncatedGlobalHeader, cutInRecord3, caplenOverSnaplen, recordOver256KiB

        var testDescription: String { rawValue }

        /// The good capture the damaged file starts from: 11 records of 54…280 bytes.
        static let source = "tcpdump__dns_tcp.pcap"

        /// The damaged record (1-based), or nil when the file as a whole is bad.
        var record: Int? {
            switch self {
            case .missingFile, .textFile, .truncatedGlobalHeader: nil
            case .cutInRecord3, .recordOver256KiB: 3
            case .caplenOverSnaplen: 4  // records 1-3 are 74, 60, 54 bytes; record 4 is 112
            }
        }

        /// Makes the file in `directory`; returns its path.
        func make(in directory: TemporaryDirectory) throws -> String {
            let source = try fileBytes(Paths.capture(Self.source))
            let offsets = recordOffsets(source)
            switch self {
            case .missingFile:
                return directory.path("missing.pcap")
            case .textFile:
                return try directory.write(Array("this is a text file, not a capture\n".utf8), to: "notes.txt")
            case .truncatedGlobalHeader:
                return try directory.write(Array(source.prefix(10)), to: "header.pcap")
            case .cutInRecord3:
                let start = offsets[2], captured = Int(readLE32(source, start + 8))
                return try directory.write(Array(source.prefix(start + 16 + captured / 2)), to: "cut.pcap")
            case .caplenOverSnaplen:
                var bytes = source
                writeLE32(&bytes, 16, 100)  // snap length 100: record 4 (112 bytes) exceeds it
                return try directory.write(bytes, to: "oversnap.pcap")
            case .recordOver256KiB:
                let start = offsets[2], size = 300_000
                var bytes = Array(source.prefix(start + 16))
                writeLE32(&bytes, start + 8, UInt32(size))
                writeLE32(&bytes, start + 12, UInt32(size))
                bytes += [UInt8](repeating: 0x5a, count: size)
                bytes += source[offsets[3]...]  // good records after it
                return try directory.write(bytes, to: "huge.pcap")
            }
        }
    }

    /// The good records before the damage in `damage`'s file: the source's first ones.
    static func goodRecordCount(_ damage: Damage) -> Int { damage.record.map { $0 - 1 } ?? 0 }

    static func expectOneErrorLine(_ result: Tool.Result, path: String, record: Int?) {
        #expect(result.status == 2, "\(result)")
        #expect(result.errorLines.count == 1, "stderr must be one line: \(result)")
        let line = result.errorLines.first ?? ""
        #expect(line.contains(path), "stderr must name \(path): \(line)")
        if let record { #expect(line.contains("record \(record)"), "stderr must name record \(record): \(line)") }
    }

    @Test(arguments: Damage.allCases)
    func inspect(_ damage: Damage) throws {
        let directory = try TemporaryDirectory()
        let path = try damage.make(in: directory)
        let good = Self.goodRecordCount(damage)
        let full = try Tool.pier("inspect", Paths.capture(Damage.source)).lines
        for json in [false, true] {
            let result = try Tool.pier(["inspect"] + (json ? ["--json"] : []) + [path])
            Self.expectOneErrorLine(result, path: path, record: damage.record)
            if json {
                #expect(result.lines.count == good, "\(result)")
                let numbers = try result.lines.map { try JSON.parse($0)["frame.number"]?.integer }
                #expect(numbers == (0..<good).map { Optional($0 + 1) })
            } else {
                #expect(result.lines == Array(full.prefix(good)), "\(result)")
            }
        }
    }

    @Test(arguments: Damage.allCases)
    func replay(_ damage: Damage) throws {
        let directory = try TemporaryDirectory()
        let path = try damage.make(in: directory)
        let output = directory.path("out.pcap")
        let result = try Tool.pier("replay", "--in", "p0=\(path)", "--out", "p0=\(output)")
        Self.expectOneErrorLine(result, path: path, record: damage.record)
        let good = Self.goodRecordCount(damage)
        let expected = Array(try readRecords(Paths.capture(Damage.source)).records.prefix(good))
        if FileManager.default.fileExists(atPath: output) {
            let (written, error) = try readRecords(output)
            #expect(error == nil)
            #expect(written == expected, "\(damage): output holds \(written.count) records, expected \(good)")
        } else {
            // A file that could not be opened at all: nothing to write.
            #expect(good == 0, "\(damage): no output file, expected \(good) records in it")
        }
    }

    @Test func inspectWithoutAFileIsBadUsage() throws {
        let result = try Tool.pier("inspect")
        #expect(result.status == 2, "\(result)")
        #expect(result.errorLines.first?.hasPrefix("pier: ") == true, "\(result)")
        Self.expectOneUsageLine(result)
    }

    @Test func replayWithAnUnknownPortIsBadUsage() throws {
        let result = try Tool.pier("replay", "--in", "q1=x")
        #expect(result.status == 2, "\(result)")
        #expect(result.errorLines.first?.contains("q1") == true, "\(result)")
        Self.expectOneUsageLine(result)
    }

    /// Two ports' outputs in one file would replace each other: refused before anything runs,
    /// however the directory is spelled, and the file is left alone.
    @Test func twoOutputsInOneFileAreBadUsage() throws {
        let directory = try TemporaryDirectory()
        let output = directory.path("out.pcap")
        try Data("keep".utf8).write(to: URL(fileURLWithPath: output))
        let respelled = directory.url.path + "/./out.pcap"
        let result = try Tool.pier("replay", "--config", ScenarioTests.topology("two-containers"),
                                   "--in", "c1=\(ScenarioTests.scenario("ping-c1"))",
                                   "--out", "c1=\(output)", "--out", "c2=\(respelled)")
        #expect(result.status == 2, "\(result)")
        #expect(result.errorLines == ["pier: --out c1=\(output) and --out c2=\(respelled) name the same file"], "\(result)")
        #expect(try String(contentsOfFile: output, encoding: .utf8) == "keep")
    }

    /// The live switch's captures too: refused before any device or socket is opened.
    @Test func twoCapturesInOneFileAreBadUsage() throws {
        let directory = try TemporaryDirectory()
        let output = directory.path("cap.pcap")
        let respelled = directory.url.path + "/./cap.pcap"
        let result = try Tool.pier("switch", "--config", ScenarioTests.topology("two-containers"),
                                   "--capture", "c1=\(output)", "--capture", "c2=\(respelled)")
        #expect(result.status == 2, "\(result)")
        #expect(result.errorLines == ["pier: --capture c1=\(output) and --capture c2=\(respelled) name the same file"], "\(result)")
        #expect(!FileManager.default.fileExists(atPath: output))
    }

    /// DESIGN.md: "2 on bad usage or bad input, and one clear line on stderr".
    static func expectOneUsageLine(_ result: Tool.Result) {
        #expect(result.errorLines.count == 1, "stderr: \(result.stderr)")
    }

    @Test func helpExitsZero() throws {
        let result = try Tool.pier("--help")
        #expect(result.status == 0, "\(result)")
        #expect(result.stdout.contains("inspect"))
        #expect(result.stdout.contains("replay"))
    }
}
