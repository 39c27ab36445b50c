import Dataplane
import Foundation
import PacketIO
import Testing
import Wire

/// Damaged input: each file is made in a temporary directory from a good capture or built bytes.
/// Every error is one line naming the file (and the record, when one is at fault).
struct DamagedCaptureTests {
    /// Reads `path` to the first error: the records returned before it, and the error.
    static func readUntilError(_ path: String) throws -> (records: [Record], error: CaptureError) {
        let reader = try PcapReader(path: path)
        var frame = Frame()
        var records: [Record] = []
        do {
            while try reader.next(into: &frame) { records.append(Record(frame)) }
        } catch {
            #expect(reader.recordsRead == records.count)
            // The error sticks: a later call throws it again.
            #expect(throws: error) { _ = try reader.next(into: &frame) }
            return (records, error)
        }
        Issue.record("\(path) read to its end without an error")
        throw CaptureError(file: path, problem: "no error")
    }

    /// The error `PcapReader(path:)` throws.
    static func openError(_ path: String) throws -> CaptureError {
        try #require(throws: CaptureError.self) { _ = try PcapReader(path: path) }
    }

    /// Checks the one-line form: `PATH: record N: ...` or `PATH: ...`.
    static func expectOneLine(_ error: CaptureError, path: String, record: Int?) {
        let text = error.description
        #expect(!text.contains("\n"))
        #expect(error.file == path)
        #expect(error.record == record)
        if let record {
            #expect(text.hasPrefix("\(path): record \(record): "))
        } else {
            #expect(text == "\(path): \(error.problem)")
        }
    }

    @Test func missingFile() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("missing.pcap")
        let error = try Self.openError(path)
        Self.expectOneLine(error, path: path, record: nil)
        #expect(error.description == "\(path): no such file")
    }

    @Test func textFile() throws {
        let directory = try TemporaryDirectory()
        let path = try directory.write(Array("hello, this is not a capture\n".utf8), to: "notes.txt")
        let error = try Self.openError(path)
        Self.expectOneLine(error, path: path, record: nil)
        #expect(error.problem == "not a capture file (unknown magic 0x68656c6c)")
    }

    @Test(arguments: [0, 3])
    func tooShortForAMagic(_ length: Int) throws {
        let directory = try TemporaryDirectory()
        let path = try directory.write(Array(try Fixtures.bytes("tcpdump__vxlan.pcap").prefix(length)), to: "short.pcap")
        let error = try Self.openError(path)
        Self.expectOneLine(error, path: path, record: nil)
        #expect(error.problem == (length == 0 ? "empty file" : "not a capture file (only 3 bytes)"))
    }

    @Test(arguments: ["tcpdump__vxlan.pcap", "tcpdump__tcp-handshake-nano.pcap"])
    func truncatedGlobalHeader(_ name: String) throws {
        let directory = try TemporaryDirectory()
        let path = try directory.write(Array(try Fixtures.bytes(name).prefix(10)), to: "header.pcap")
        let error = try Self.openError(path)
        Self.expectOneLine(error, path: path, record: nil)
        #expect(error.problem == "truncated global header: 10 of 24 bytes")
    }

    @Test func directoryIsNotAFile() throws {
        let directory = try TemporaryDirectory()
        let error = try Self.openError(directory.url.path)
        Self.expectOneLine(error, path: directory.url.path, record: nil)
        #expect(error.problem == "cannot read: is a directory")
    }

    /// Where to cut record 3 of a 3-record capture, and what the reader should then say.
    struct Cut: CustomTestStringConvertible, Sendable {
        /// Bytes of record 3 kept: 0 is a clean end after record 2.
        var kept: @Sendable (_ capturedLength: Int) -> Int
        var problem: @Sendable (_ capturedLength: Int) -> String
        var testDescription: String

        static let all: [Cut] = [
            Cut(kept: { 16 + $0 / 2 },
                problem: { "record cut off: \($0 / 2) of \($0) captured bytes present" },
                testDescription: "in the middle of the data"),
            Cut(kept: { 16 + $0 - 1 },
                problem: { "record cut off: \($0 - 1) of \($0) captured bytes present" },
                testDescription: "one byte short"),
            Cut(kept: { _ in 16 },
                problem: { "record cut off: 0 of \($0) captured bytes present" },
                testDescription: "after the record header"),
            Cut(kept: { _ in 7 },
                problem: { _ in "record header cut off: 7 of 16 bytes present" },
                testDescription: "inside the record header"),
        ]
    }

    @Test(arguments: Cut.all)
    func recordCutOff(_ cut: Cut) throws {
        let name = "zeek__ipv4_fragmented-2.pcap"
        let original = try Fixtures.bytes(name)
        let offsets = recordOffsets(original)
        try #require(offsets.count == 3)
        let capturedLength = original.count - offsets[2] - 16
        let directory = try TemporaryDirectory()
        let path = try directory.write(Array(original.prefix(offsets[2] + cut.kept(capturedLength))), to: "cut.pcap")

        let expected = try PcapReader(path: Fixtures.path(name)).readAll()
        let (records, error) = try Self.readUntilError(path)
        #expect(records == Array(expected.prefix(2)))
        Self.expectOneLine(error, path: path, record: 3)
        #expect(error.problem == cut.problem(capturedLength))
    }

    @Test func capturedLengthAboveSnapLength() throws {
        var file = PcapBuilder(snapLength: 64)
        file.addRecord(capturedLength: 60, fill: 0x11)
        file.addRecord(capturedLength: 100, fill: 0x22)
        file.addRecord(capturedLength: 60, fill: 0x33)
        let directory = try TemporaryDirectory()
        let path = try directory.write(file.bytes, to: "snap.pcap")

        let (records, error) = try Self.readUntilError(path)
        #expect(records.map(\.bytes) == [[UInt8](repeating: 0x11, count: 60)])
        Self.expectOneLine(error, path: path, record: 2)
        #expect(error.problem == "captured length 100 exceeds the snap length 64")
    }

    @Test(arguments: [65_535, 262_144])
    func capturedLengthAbove256KiB(_ snapLength: UInt32) throws {
        var file = PcapBuilder(snapLength: snapLength)
        file.addRecord(capturedLength: 60)
        file.addRecord(capturedLength: 300_000)
        let directory = try TemporaryDirectory()
        let path = try directory.write(file.bytes, to: "huge.pcap")

        let (records, error) = try Self.readUntilError(path)
        #expect(records.count == 1)
        Self.expectOneLine(error, path: path, record: 2)
        #expect(error.problem == "captured length 300000 exceeds 262144 (256 KiB)")
    }

    @Test func descriptionReplacesLineBreaks() {
        let error = CaptureError(file: "a.pcap", record: 4, problem: "two\nlines")
        #expect(error.description == "a.pcap: record 4: two lines")
    }
}
