import Dataplane
import Foundation
import PacketIO
import Testing
import Wire

/// Where the test data lives and the tools that check it.
enum Fixtures {
    /// `fixtures/public`, relative to the package root (this file is two levels down).
    static let publicDirectory: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // PacketIOTests
        .deletingLastPathComponent()  // Tests
        .deletingLastPathComponent()  // the package root
        .appendingPathComponent("fixtures/public")
        .standardizedFileURL

    /// The path of the public capture `name`.
    static func path(_ name: String) -> String { publicDirectory.appendingPathComponent(name).path }

    /// Every capture in the public directory (`.pcap` and `.pcapng`), by name.
    static let publicCaptures: [String] = {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: publicDirectory.path)) ?? []
        return names.filter { $0.hasSuffix(".pcap") || $0.hasSuffix(".pcapng") }.sorted()
    }()

    /// The classic pcap captures among them.
    static var classicCaptures: [String] { publicCaptures.filter { $0.hasSuffix(".pcap") } }

    /// The bytes of the public capture `name`.
    static func bytes(_ name: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: publicDirectory.appendingPathComponent(name)))
    }
}

/// A fresh directory for the files one test makes, removed when the value goes away.
final class TemporaryDirectory {
    /// The directory.
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory
            .appendingPathComponent("PacketIOTests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: url) }

    /// The path of `name` inside the directory.
    func path(_ name: String) -> String { url.appendingPathComponent(name).path }

    /// Writes `bytes` to `name` and returns its path.
    func write(_ bytes: [UInt8], to name: String) throws -> String {
        let file = path(name)
        try Data(bytes).write(to: URL(fileURLWithPath: file))
        return file
    }
}

/// External programs the tests compare against.
enum Tool {
    /// The full path of `name` on `PATH`, or nil.
    static func find(_ name: String) -> String? {
        let directories = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
        return directories.map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    static let tshark = find("tshark")
    static let tcpdump = find("tcpdump")

    /// Runs `executable` with `arguments` and returns what it printed on stdout (stderr dropped).
    static func run(_ executable: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }

    /// tshark's `-T fields` output for `fields`, one array of values per frame.
    static func tsharkFields(_ file: String, _ fields: [String]) throws -> [[String]] {
        let tshark = try #require(Tool.tshark)
        let text = try run(tshark, ["-r", file, "-T", "fields"] + fields.flatMap { ["-e", $0] })
        return text.split(separator: "\n").map { $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init) }
    }
}

/// A frame holding a copy of `bytes`.
func makeFrame(_ bytes: [UInt8]) -> Frame {
    var frame = Frame()
    bytes.withUnsafeBytes { frame.replaceContents(with: $0) }
    return frame
}

/// One record as read: everything a round trip must keep.
struct Record: Equatable, CustomStringConvertible {
    var bytes: [UInt8]
    var timestamp: Timestamp
    var originalLength: Int

    init(_ frame: borrowing Frame) {
        bytes = frame.withUnsafeBytes { [UInt8]($0) }
        timestamp = frame.timestamp
        originalLength = frame.originalLength
    }

    var description: String { "\(timestamp) \(bytes.count)/\(originalLength) bytes" }
}

extension PcapReader {
    /// Every record left in the file.
    func readAll() throws(CaptureError) -> [Record] {
        var frame = Frame()
        var records: [Record] = []
        while try next(into: &frame) { records.append(Record(frame)) }
        return records
    }
}

/// Builds classic pcap files byte by byte, for damage and variants a good capture lacks.
struct PcapBuilder {
    private(set) var bytes: [UInt8] = []
    let isBigEndian: Bool

    /// Starts a file: the magic for the precision, version 2.4, thiszone 0, sigfigs 0.
    init(snapLength: UInt32, linkType: UInt32 = 1, precision: TimestampPrecision = .microseconds, bigEndian: Bool = false) {
        isBigEndian = bigEndian
        append32(precision == .nanoseconds ? 0xa1b2_3c4d : 0xa1b2_c3d4)
        append16(2); append16(4)      // version 2.4
        append32(0); append32(0)      // thiszone, sigfigs
        append32(snapLength)
        append32(linkType)
    }

    /// Adds a record whose header says `capturedLength` and holds that many bytes of `fill`.
    mutating func addRecord(
        capturedLength: Int, originalLength: Int? = nil, seconds: UInt32 = 1_700_000_000, fraction: UInt32 = 0, fill: UInt8 = 0xab
    ) {
        append32(seconds)
        append32(fraction)            // microseconds or nanoseconds, as the magic says
        append32(UInt32(capturedLength))
        append32(UInt32(originalLength ?? capturedLength))
        bytes += [UInt8](repeating: fill, count: capturedLength)
    }

    private mutating func append16(_ value: UInt16) {
        let pair = [UInt8(value & 0xff), UInt8(value >> 8)]
        bytes += isBigEndian ? pair.reversed() : pair
    }

    private mutating func append32(_ value: UInt32) {
        let four = (0..<4).map { UInt8(truncatingIfNeeded: value >> ($0 * 8)) }
        bytes += isBigEndian ? four.reversed() : four
    }
}

/// Builds pcapng files block by block, in either byte order: sections, interfaces with their
/// options, enhanced, simple and obsolete packet blocks, and any other block.
struct PcapNGBuilder {
    private(set) var bytes: [UInt8] = []
    /// The offset at which each block starts.
    private(set) var blockOffsets: [Int] = []
    private var bigEndian = false

    /// Starts an empty file (add a section first).
    init() {}

    /// Starts a little-endian file with a section header and an Ethernet interface whose
    /// `if_tsresol` option is `resolution` (none when nil).
    init(resolution: UInt8?) {
        addSection()
        addInterface(resolution: resolution)
    }

    /// Adds a section header block in the given byte order.
    mutating func addSection(bigEndian: Bool = false) {
        self.bigEndian = bigEndian
        block(type: 0x0a0d_0d0a, body: u32(0x1a2b_3c4d) + u16(1) + u16(0) + [UInt8](repeating: 0xff, count: 8))
    }

    /// Adds an interface description block with the options given.
    mutating func addInterface(linkType: UInt16 = 1, snapLength: UInt32 = 0, name: String? = nil,
                               resolution: UInt8? = nil, fcsLength: UInt8? = nil) {
        var options: [UInt8] = []
        if let name { options += option(2, Array(name.utf8)) }                   // if_name
        if let resolution { options += option(9, [resolution]) }                 // if_tsresol
        if let fcsLength { options += option(13, [fcsLength]) }                  // if_fcslen
        options += u16(0) + u16(0)                                               // opt_endofopt
        block(type: 1, body: u16(linkType) + u16(0) + u32(snapLength) + options)
    }

    /// Adds an enhanced packet block: `timestamp` in the interface's units, `flags` as the
    /// `epb_flags` option when given.
    mutating func addPacket(interface: UInt32 = 0, timestamp: UInt64, data: [UInt8], originalLength: Int? = nil, flags: UInt32? = nil) {
        let options = flags.map { option(2, u32($0)) + u16(0) + u16(0) } ?? []
        block(type: 6, body: u32(interface) + u32(UInt32(timestamp >> 32)) + u32(UInt32(timestamp & 0xffff_ffff))
              + u32(UInt32(data.count)) + u32(UInt32(originalLength ?? data.count)) + padded(data) + options)
    }

    /// Adds a simple packet block (no interface field, no timestamp).
    mutating func addSimplePacket(data: [UInt8], originalLength: Int? = nil) {
        block(type: 3, body: u32(UInt32(originalLength ?? data.count)) + padded(data))
    }

    /// Adds an obsolete packet block (type 2): a 16-bit interface and a drop count.
    mutating func addObsoletePacket(interface: UInt16 = 0, timestamp: UInt64, data: [UInt8], flags: UInt32? = nil) {
        let options = flags.map { option(2, u32($0)) + u16(0) + u16(0) } ?? []
        block(type: 2, body: u16(interface) + u16(0) + u32(UInt32(timestamp >> 32)) + u32(UInt32(timestamp & 0xffff_ffff))
              + u32(UInt32(data.count)) + u32(UInt32(data.count)) + padded(data) + options)
    }

    /// Adds a block of any type with `body` (statistics, name resolution, custom…).
    mutating func block(type: UInt32, body: [UInt8]) {
        blockOffsets.append(bytes.count)
        let length = u32(UInt32(12 + body.count))
        bytes += u32(type) + length + body + length
    }

    private func option(_ code: UInt16, _ value: [UInt8]) -> [UInt8] { u16(code) + u16(UInt16(value.count)) + padded(value) }
    private func padded(_ data: [UInt8]) -> [UInt8] { data + [UInt8](repeating: 0, count: (4 - data.count % 4) % 4) }
    func u16(_ value: UInt16) -> [UInt8] { bigEndian ? [UInt8(value >> 8), UInt8(value & 0xff)] : [UInt8(value & 0xff), UInt8(value >> 8)] }
    func u32(_ value: UInt32) -> [UInt8] {
        let little = (0..<4).map { UInt8(truncatingIfNeeded: value >> ($0 * 8)) }
        return bigEndian ? little.reversed() : little
    }
}

/// The file offset of each record of a little-endian classic pcap file.
func recordOffsets(_ bytes: [UInt8]) -> [Int] {
    var offsets: [Int] = []
    var offset = 24
    while offset + 16 <= bytes.count {
        offsets.append(offset)
        let captured = (8..<12).reversed().reduce(0) { $0 << 8 | Int(bytes[offset + $1]) }
        offset += 16 + captured
    }
    return offsets
}
