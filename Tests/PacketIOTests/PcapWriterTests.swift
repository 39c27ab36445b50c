import Dataplane
import Foundation
import PacketIO
import Testing
import Wire

/// Writing captures back: read, write, read again.
struct PcapWriterTests {
    /// Copies `input` to `output` with the reader's link type, precision and snap length.
    static func copy(_ input: String, to output: String) throws -> (reader: PcapReader, records: [Record]) {
        let reader = try PcapReader(path: input)
        let writer = try PcapWriter(path: output, linkType: reader.linkType, precision: reader.precision, snapLength: reader.snapLength)
        var frame = Frame()
        var records: [Record] = []
        while try reader.next(into: &frame) {
            try writer.write(frame)
            records.append(Record(frame))
        }
        #expect(writer.recordsWritten == records.count)
        try writer.close()
        return (reader, records)
    }

    @Test(arguments: Fixtures.publicCaptures)
    func roundTripKeepsEveryRecord(_ name: String) throws {
        let directory = try TemporaryDirectory()
        let output = directory.path("out.pcap")
        let (original, records) = try Self.copy(Fixtures.path(name), to: output)
        let reader = try PcapReader(path: output)
        #expect(reader.linkType == original.linkType)
        #expect(reader.precision == original.precision)
        #expect(reader.snapLength == original.snapLength)
        #expect(!reader.isPcapNG)
        #expect(try reader.readAll() == records)
    }

    /// libpcap writes thiszone 0, sigfigs 0 and this machine's (little-endian) byte order, so a
    /// capture with that header and a snap length libpcap keeps comes back byte for byte.
    @Test(arguments: Fixtures.classicCaptures)
    func roundTripIsByteIdentical(_ name: String) throws {
        let directory = try TemporaryDirectory()
        let output = directory.path("out.pcap")
        let (reader, _) = try Self.copy(Fixtures.path(name), to: output)
        let input = try Fixtures.bytes(name)
        let written = [UInt8](try Data(contentsOf: URL(fileURLWithPath: output)))
        #expect(written[24...] == input[24...], "the records differ")
        let snapLength = (16..<20).reversed().reduce(0) { $0 << 8 | Int(input[$1]) }
        let littleEndian = input[0] == 0xd4 || input[0] == 0x4d
        let qualifies = littleEndian && input[8..<16].allSatisfy { $0 == 0 } && snapLength == reader.snapLength
        #expect(qualifies, "every public classic capture has a header libpcap writes the same way")
        if qualifies { #expect(written == input) }
    }

    @Test func microsecondsWrittenAsMicroseconds() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("us.pcap")
        let writer = try PcapWriter(path: path, linkType: .raw, precision: .microseconds)
        var frame = Frame()
        frame = makeFrame([0x45, 0x00])
        frame.timestamp = Timestamp(seconds: 1_000, nanoseconds: 123_456_789)
        frame.originalLength = 0  // less than the byte count: written as the byte count
        try writer.write(frame)
        try writer.close()
        try writer.close()  // a second close does nothing
        let reader = try PcapReader(path: path)
        #expect(reader.linkType == .raw)
        #expect(reader.precision == .microseconds)
        let records = try reader.readAll()
        #expect(records == [Record(bytes: [0x45, 0x00], timestamp: Timestamp(seconds: 1_000, nanoseconds: 123_456_000), originalLength: 2)])
    }

    @Test func frameLongerThanSnapLengthIsRefused() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("snap.pcap")
        let writer = try PcapWriter(path: path, linkType: .ethernet, precision: .nanoseconds, snapLength: 64)
        let frame = makeFrame([UInt8](repeating: 1, count: 100))
        #expect(throws: CaptureError(file: path, record: 1, problem: "frame of 100 bytes exceeds the snap length 64")) {
            try writer.write(frame)
        }
    }

    @Test func writeAfterCloseThrows() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("closed.pcap")
        let writer = try PcapWriter(path: path, linkType: .ethernet, precision: .microseconds)
        try writer.close()
        #expect(throws: CaptureError(file: path, record: 1, problem: "write after close")) { try writer.write(Frame()) }
    }

    @Test func unwritablePathThrows() throws {
        let path = "/nonexistent-directory/out.pcap"
        #expect(throws: CaptureError(file: path, problem: "no such file")) {
            _ = try PcapWriter(path: path, linkType: .ethernet, precision: .microseconds)
        }
    }

    @Test(.enabled(if: FileManager.default.fileExists(atPath: "/dev/full"), "no /dev/full"))
    func fullDiskIsReportedOnClose() throws {
        let writer = try PcapWriter(path: "/dev/full", linkType: .ethernet, precision: .microseconds)
        try writer.write(makeFrame([UInt8](repeating: 0, count: 60)))
        let error = try #require(throws: CaptureError.self) { try writer.close() }
        #expect(error.description == "/dev/full: write failed: no space left on device")
    }

    @Test(arguments: [0, 262_145])
    func snapLengthOutOfRangeThrows(_ snapLength: Int) throws {
        let directory = try TemporaryDirectory()
        let error = try #require(throws: CaptureError.self) {
            _ = try PcapWriter(path: directory.path("x.pcap"), linkType: .ethernet, precision: .microseconds, snapLength: snapLength)
        }
        #expect(error.problem.contains("snap length \(snapLength)"))
    }

    /// Writes `bytes` as the only record of a new capture at `path`.
    static func writeCapture(_ bytes: [UInt8], to path: String) throws {
        let writer = try PcapWriter(path: path, linkType: .ethernet, precision: .microseconds)
        try writer.write(Frame(bytes: bytes))
        try writer.close()
    }

    /// An existing regular file is replaced, not truncated: its new records are right, another
    /// hard link keeps the old ones, a symbolic link is written through and stays a link, and
    /// a capture still being read from the same path reads to its end unharmed.
    @Test func anExistingOutputIsReplaced() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("out.pcap")
        try Self.writeCapture(Array(repeating: 0xAA, count: 60), to: path)
        let other = directory.path("other-link.pcap")
        #expect(link(path, other) == 0)
        let reading = try PcapReader(path: path)
        try Self.writeCapture(Array(repeating: 0xBB, count: 64), to: path)
        #expect(try PcapReader(path: path).readAll().map(\.bytes) == [Array(repeating: 0xBB, count: 64)])
        #expect(try PcapReader(path: other).readAll().map(\.bytes) == [Array(repeating: 0xAA, count: 60)])
        #expect(try reading.readAll().map(\.bytes) == [Array(repeating: 0xAA, count: 60)])

        // The replacement keeps the old file's mode, and (as root) its owner.
        #expect(chmod(path, 0o640) == 0)
        let owner: uid_t = getuid() == 0 ? 65_534 : getuid()
        if getuid() == 0 { #expect(chown(path, owner, 65_534) == 0) }
        try Self.writeCapture(Array(repeating: 0xDD, count: 60), to: path)
        var replaced = stat()
        #expect(stat(path, &replaced) == 0)
        #expect(replaced.st_mode & 0o7777 == 0o640)
        #expect(replaced.st_uid == owner)
        #expect(try PcapReader(path: path).readAll().map(\.bytes) == [Array(repeating: 0xDD, count: 60)])

        let target = directory.path("target.pcap")
        let symlinkPath = directory.path("through-link.pcap")
        try Self.writeCapture([0x01], to: target)
        #expect(symlink(target, symlinkPath) == 0)
        try Self.writeCapture(Array(repeating: 0xCC, count: 60), to: symlinkPath)
        var status = stat()
        #expect(lstat(symlinkPath, &status) == 0 && status.st_mode & S_IFMT == S_IFLNK)
        #expect(try PcapReader(path: target).readAll().map(\.bytes) == [Array(repeating: 0xCC, count: 60)])
    }
}

extension Record {
    init(bytes: [UInt8], timestamp: Timestamp, originalLength: Int) {
        self.bytes = bytes
        self.timestamp = timestamp
        self.originalLength = originalLength
    }
}
