import Dataplane
import Foundation
import PacketIO
import Testing

// Shared helpers for the tests that run the built `pier` binary as a subprocess and check it
// against tshark, tcpdump's expected output and the public captures.

/// The package root, the public captures beside it, and the `pier` binary.
enum Paths {
    /// The package root (this file is `Tests/PierTests/Support.swift`).
    static let packageRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // PierTests
        .deletingLastPathComponent()  // Tests
        .deletingLastPathComponent()  // the package root
        .standardizedFileURL

    /// `fixtures/public`, relative to the package root.
    static let publicDirectory: URL = packageRoot.appendingPathComponent("fixtures/public").standardizedFileURL

    /// The path of the public capture `name`.
    static func capture(_ name: String) -> String { publicDirectory.appendingPathComponent(name).path }

    /// Every capture in the public directory (`.pcap` and `.pcapng`), by name.
    static let publicCaptures: [String] = {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: publicDirectory.path)) ?? []
        return names.filter { $0.hasSuffix(".pcap") || $0.hasSuffix(".pcapng") }.sorted()
    }()

    /// The names of tcpdump's expected outputs (`expected/*.out`).
    static let expectedOutputs: [String] = {
        let directory = publicDirectory.appendingPathComponent("expected").path
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.filter { $0.hasSuffix(".out") }.sorted()
    }()

    /// The `pier` executable: `$PIER_BINARY` when set, else the one SwiftPM built into the
    /// same products directory as this test executable, else the newest `.build*/debug/pier`
    /// under the package root.
    static let pier: String? = {
        let manager = FileManager.default
        if let given = ProcessInfo.processInfo.environment["PIER_BINARY"], manager.isExecutableFile(atPath: given) {
            return given
        }
        var directories: [URL] = []
        if let executable = try? manager.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            directories.append(URL(fileURLWithPath: executable).deletingLastPathComponent())
        }
        if let executable = Bundle.main.executableURL {
            directories.append(executable.resolvingSymlinksInPath().deletingLastPathComponent())
        }
        if let first = CommandLine.arguments.first {
            directories.append(URL(fileURLWithPath: first).resolvingSymlinksInPath().deletingLastPathComponent())
        }
        // A test bundle directory (macOS: X.xctest/Contents/MacOS): its products dir is above.
        for directory in directories {
            var candidate = directory
            for _ in 0..<4 {
                let pier = candidate.appendingPathComponent("pier").path
                if manager.isExecutableFile(atPath: pier), !isDirectory(pier) { return pier }
                candidate.deleteLastPathComponent()
            }
        }
        // Fallback: the newest `.build*/debug/pier`.
        let builds = ((try? manager.contentsOfDirectory(atPath: packageRoot.path)) ?? []).filter { $0.hasPrefix(".build") }
        let found = builds.map { packageRoot.appendingPathComponent($0).appendingPathComponent("debug/pier").path }
            .filter { manager.isExecutableFile(atPath: $0) }
        return found.max { modificationDate($0) < modificationDate($1) }
    }()

    private static func isDirectory(_ path: String) -> Bool {
        var flag: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &flag) && flag.boolValue
    }

    private static func modificationDate(_ path: String) -> Date {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date) ?? .distantPast
    }
}

/// External programs: `pier` itself, and the oracles.
enum Tool {
    /// The full path of `name` on `PATH`, or nil.
    static func find(_ name: String) -> String? {
        let directories = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
            + ["/usr/sbin", "/sbin", "/usr/bin"]
        return directories.map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Why a test that needs root and `tools` cannot run here (the first thing missing), or
    /// nil when it can.
    static func missing(root: Bool = true, tools: [String]) -> String? {
        if root && geteuid() != 0 { return "needs root" }
        let absent = tools.filter { find($0) == nil }
        return absent.isEmpty ? nil : "needs \(absent.joined(separator: ", ")) (make test-deps installs them)"
    }

    static let tshark = find("tshark")
    static let tcpdump = find("tcpdump")

    /// What a finished process left behind.
    struct Result: CustomStringConvertible {
        var status: Int32
        var stdout: String
        var stderr: String

        /// The non-empty lines of stdout.
        var lines: [String] { stdout.split(separator: "\n").map(String.init) }
        /// The lines of stderr (an empty last line dropped).
        var errorLines: [String] { stderr.split(separator: "\n", omittingEmptySubsequences: false).map(String.init).filter { !$0.isEmpty } }

        var description: String { "exit \(status)\n--- stdout\n\(stdout.prefix(2000))\n--- stderr\n\(stderr.prefix(2000))" }
    }

    /// Runs `executable` with `arguments`; stdout and stderr go through temporary files, so a
    /// chatty process never blocks on a full pipe.
    static func run(_ executable: String, _ arguments: [String], environment: [String: String] = [:]) throws -> Result {
        let directory = try TemporaryDirectory()
        let outPath = directory.path("stdout"), errPath = directory.path("stderr")
        _ = FileManager.default.createFile(atPath: outPath, contents: nil)
        _ = FileManager.default.createFile(atPath: errPath, contents: nil)
        let out = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath))
        let err = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, given in given }
        }
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = out
        process.standardError = err
        try process.run()
        process.waitUntilExit()
        try out.close()
        try err.close()
        let stdout = String(decoding: try Data(contentsOf: URL(fileURLWithPath: outPath)), as: UTF8.self)
        let stderr = String(decoding: try Data(contentsOf: URL(fileURLWithPath: errPath)), as: UTF8.self)
        return Result(status: process.terminationStatus, stdout: stdout, stderr: stderr)
    }

    /// Runs `pier` with `arguments`.
    static func pier(_ arguments: String...) throws -> Result { try pier(arguments) }

    /// Runs `pier` with `arguments`.
    static func pier(_ arguments: [String]) throws -> Result {
        let binary = try #require(Paths.pier, "the pier binary was not found beside the test executable nor under .build*/debug")
        return try run(binary, arguments)
    }

    /// `pier inspect --json FILE [extra…]`: one parsed object per line.
    static func inspectJSON(_ file: String, _ extra: [String] = []) throws -> [JSON] {
        let result = try pier(["inspect", "--json"] + extra + [file])
        #expect(result.status == 0, "pier inspect --json \(file): \(result)")
        return try result.lines.map { try JSON.parse($0) }
    }

    /// The options every tshark run in these tests uses (DESIGN.md, "Oracles").
    static let tsharkOptions = [
        "-o", "ip.defragment:FALSE", "-o", "ip.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE",
        "-o", "tcp.check_checksum:TRUE", "-d", "udp.port==8472,vxlan",
    ]

    /// tshark's `-T fields` output for `fields`: per frame, per field, every occurrence in
    /// order (outer to inner).
    static func tsharkFields(_ file: String, _ fields: [String]) throws -> [[[String]]] {
        let tshark = try #require(Tool.tshark, "tshark is not installed")
        let result = try run(tshark, ["-r", file] + tsharkOptions + [
            "-T", "fields", "-E", "occurrence=a", "-E", "separator=/t", "-E", "aggregator=,",
        ] + fields.flatMap { ["-e", $0] })
        #expect(result.status == 0, "tshark -r \(file): \(result)")
        return result.lines.map { line in
            let columns = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            return fields.indices.map { index in
                guard index < columns.count, !columns[index].isEmpty else { return [] }
                return columns[index].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            }
        }
    }
}

/// A fresh directory for the files one test makes, removed when the value goes away.
final class TemporaryDirectory {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("PierTests-\(UUID().uuidString)")
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

/// The bytes of the file at `path`.
func fileBytes(_ path: String) throws -> [UInt8] { [UInt8](try Data(contentsOf: URL(fileURLWithPath: path))) }

/// One record as PacketIO reads it: everything a pass-through must keep.
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

/// Every record of the capture at `path` up to the first damage, and the damage if any.
func readRecords(_ path: String) throws -> (records: [Record], error: CaptureError?) {
    let reader = try PcapReader(path: path)
    var frame = Frame()
    var records: [Record] = []
    do {
        while try reader.next(into: &frame) { records.append(Record(frame)) }
    } catch {
        return (records, error)
    }
    return (records, nil)
}

/// The file offset of each record of a little-endian classic pcap file.
func recordOffsets(_ bytes: [UInt8]) -> [Int] {
    var offsets: [Int] = []
    var offset = 24
    while offset + 16 <= bytes.count {
        offsets.append(offset)
        offset += 16 + Int(readLE32(bytes, offset + 8))
    }
    return offsets
}

func readLE32(_ bytes: [UInt8], _ offset: Int) -> UInt32 {
    (0..<4).reversed().reduce(UInt32(0)) { $0 << 8 | UInt32(bytes[offset + $1]) }
}

func writeLE32(_ bytes: inout [UInt8], _ offset: Int, _ value: UInt32) {
    for index in 0..<4 { bytes[offset + index] = UInt8(truncatingIfNeeded: value >> (index * 8)) }
}

// MARK: - JSON

/// A JSON value that keeps each number's literal text, so `frame.time_epoch`
/// (`1368908504.837063000`) compares digit for digit, never through a Double.
enum JSON: Equatable, CustomStringConvertible {
    case object([(String, JSON)])
    case array([JSON])
    case string(String)
    case number(String)
    case bool(Bool)
    case null

    static func == (lhs: JSON, rhs: JSON) -> Bool {
        switch (lhs, rhs) {
        case let (.object(a), .object(b)): a.count == b.count && zip(a, b).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        case let (.array(a), .array(b)): a == b
        case let (.string(a), .string(b)): a == b
        case let (.number(a), .number(b)): a == b
        case let (.bool(a), .bool(b)): a == b
        case (.null, .null): true
        default: false
        }
    }

    /// The member `key` of an object.
    subscript(key: String) -> JSON? {
        guard case .object(let members) = self else { return nil }
        return members.first { $0.0 == key }?.1
    }

    /// The object's keys, in order.
    var keys: [String] {
        guard case .object(let members) = self else { return [] }
        return members.map(\.0)
    }

    /// A string's value, or a number's literal text.
    var text: String? {
        switch self {
        case .string(let value), .number(let value): value
        default: nil
        }
    }

    /// A number as an integer (nil for fractions and non-numbers).
    var integer: Int? {
        guard case .number(let literal) = self else { return nil }
        return Int(literal)
    }

    /// True for a number.
    var isNumber: Bool {
        if case .number = self { return true }
        return false
    }

    /// The layers of a frame, outer first: the object, then its "inner", recursively.
    var levels: [JSON] {
        var result: [JSON] = [self]
        while let inner = result.last?["inner"] { result.append(inner) }
        return result
    }

    var description: String {
        switch self {
        case .object(let members): "{" + members.map { "\"\($0.0)\":\($0.1)" }.joined(separator: ",") + "}"
        case .array(let items): "[" + items.map(\.description).joined(separator: ",") + "]"
        case .string(let value): "\"\(value)\""
        case .number(let literal): literal
        case .bool(let value): value ? "true" : "false"
        case .null: "null"
        }
    }

    struct ParseError: Error, CustomStringConvertible {
        var description: String
    }

    /// Parses one JSON text (the whole of `text`).
    static func parse(_ text: String) throws -> JSON {
        var parser = Parser(bytes: Array(text.utf8))
        let value = try parser.value()
        parser.skipSpace()
        guard parser.index == parser.bytes.count else { throw ParseError(description: "trailing bytes in \(text)") }
        return value
    }

    private struct Parser {
        let bytes: [UInt8]
        var index = 0

        mutating func skipSpace() {
            while index < bytes.count, [0x20, 0x09, 0x0a, 0x0d].contains(bytes[index]) { index += 1 }
        }

        mutating func fail(_ what: String) -> ParseError {
            ParseError(description: "\(what) at byte \(index) of \(String(decoding: bytes, as: UTF8.self))")
        }

        mutating func expect(_ byte: UInt8) throws {
            skipSpace()
            guard index < bytes.count, bytes[index] == byte else { throw fail("expected \(Character(UnicodeScalar(byte)))") }
            index += 1
        }

        mutating func value() throws -> JSON {
            skipSpace()
            guard index < bytes.count else { throw fail("unexpected end") }
            switch bytes[index] {
            case UInt8(ascii: "{"):
                index += 1
                var members: [(String, JSON)] = []
                skipSpace()
                if index < bytes.count, bytes[index] == UInt8(ascii: "}") { index += 1; return .object(members) }
                while true {
                    skipSpace()
                    let key = try string()
                    try expect(UInt8(ascii: ":"))
                    members.append((key, try value()))
                    skipSpace()
                    guard index < bytes.count else { throw fail("unterminated object") }
                    if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
                    try expect(UInt8(ascii: "}"))
                    return .object(members)
                }
            case UInt8(ascii: "["):
                index += 1
                var items: [JSON] = []
                skipSpace()
                if index < bytes.count, bytes[index] == UInt8(ascii: "]") { index += 1; return .array(items) }
                while true {
                    items.append(try value())
                    skipSpace()
                    guard index < bytes.count else { throw fail("unterminated array") }
                    if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
                    try expect(UInt8(ascii: "]"))
                    return .array(items)
                }
            case UInt8(ascii: "\""):
                return .string(try string())
            case UInt8(ascii: "t"): try literal("true"); return .bool(true)
            case UInt8(ascii: "f"): try literal("false"); return .bool(false)
            case UInt8(ascii: "n"): try literal("null"); return .null
            default:
                let start = index
                while index < bytes.count, "+-0123456789.eE".utf8.contains(bytes[index]) { index += 1 }
                guard index > start else { throw fail("unexpected byte") }
                let literal = String(decoding: bytes[start..<index], as: UTF8.self)
                guard Double(literal) != nil else { throw fail("bad number \(literal)") }
                return .number(literal)
            }
        }

        mutating func literal(_ word: String) throws {
            let expected = Array(word.utf8)
            guard index + expected.count <= bytes.count, Array(bytes[index..<index + expected.count]) == expected else {
                throw fail("expected \(word)")
            }
            index += expected.count
        }

        mutating func string() throws -> String {
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw fail("expected a string") }
            index += 1
            var result: [UInt8] = []
            while index < bytes.count {
                let byte = bytes[index]
                index += 1
                switch byte {
                case UInt8(ascii: "\""):
                    return String(decoding: result, as: UTF8.self)
                case UInt8(ascii: "\\"):
                    guard index < bytes.count else { throw fail("unterminated escape") }
                    let escape = bytes[index]
                    index += 1
                    switch escape {
                    case UInt8(ascii: "n"): result.append(0x0a)
                    case UInt8(ascii: "t"): result.append(0x09)
                    case UInt8(ascii: "r"): result.append(0x0d)
                    case UInt8(ascii: "b"): result.append(0x08)
                    case UInt8(ascii: "f"): result.append(0x0c)
                    case UInt8(ascii: "u"):
                        guard index + 4 <= bytes.count,
                              let code = UInt32(String(decoding: bytes[index..<index + 4], as: UTF8.self), radix: 16)
                        else { throw fail("bad \\u escape") }
                        index += 4
                        result += Array(String(UnicodeScalar(code).map(Character.init) ?? "\u{FFFD}").utf8)
                    default: result.append(escape)
                    }
                default:
                    result.append(byte)
                }
            }
            throw fail("unterminated string")
        }
    }
}

/// An integer written in decimal or as `0x…` hex (tshark's and Pier's forms).
func parseInteger(_ text: String) -> Int? {
    let lower = text.lowercased()
    if lower.hasPrefix("0x") { return Int(lower.dropFirst(2), radix: 16) }
    return Int(lower)
}
