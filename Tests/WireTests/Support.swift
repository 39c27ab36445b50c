// Helpers shared by the Wire tests: emitting a repr into a fresh buffer, reading a frame out of a
// public capture (so every fixture can be checked against the file it was copied from), an
// RFC 1071 reference sum written the slow, obvious way, and a seeded random generator.

import Foundation
import Testing
import Wire

/// The `count` bytes that `body` writes into a buffer of zeros.
func emitted(count: Int, _ body: (inout MutableRawSpan) -> Void) -> [UInt8] {
    var bytes = [UInt8](repeating: 0, count: count)
    bytes.withMutableRawSpan { span in body(&span) }
    return bytes
}

/// `bytes` with the repr's header written over its start (the rest, the payload, is kept).
func emitted(over bytes: [UInt8], _ body: (inout MutableRawSpan) -> Void) -> [UInt8] {
    var bytes = bytes
    bytes.withMutableRawSpan { span in body(&span) }
    return bytes
}

/// Frames of the public captures in `fixtures/public`, read with a tiny classic-pcap
/// reader that shares no code with the project.
enum Capture {
    /// Why a frame could not be read.
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// The directory of the public captures, relative to this file.
    static let directory: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // WireTests
        .deletingLastPathComponent()  // Tests
        .deletingLastPathComponent()  // the package root
        .appendingPathComponent("fixtures/public")
        .standardizedFileURL

    /// The captured bytes of frame `number` (counted from 1, as tshark does) of `name`.
    static func frame(_ number: Int, of name: String) throws -> [UInt8] {
        let path = directory.appendingPathComponent(name).path
        guard let data = FileManager.default.contents(atPath: path) else {
            throw Failure(description: "cannot read \(path)")
        }
        let file = [UInt8](data)
        guard file.count >= 24 else { throw Failure(description: "\(name): no pcap header") }
        let magic = file[0..<4].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        let bigEndian: Bool
        switch magic {
        case 0xA1B2_C3D4, 0xA1B2_3C4D: bigEndian = true
        case 0xD4C3_B2A1, 0x4D3C_B2A1: bigEndian = false
        default: throw Failure(description: "\(name): not a classic pcap file")
        }
        func u32(_ at: Int) -> Int {
            let word = file[at..<(at + 4)]
            return Int(bigEndian ? word.reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
                                 : word.reversed().reduce(UInt32(0)) { $0 << 8 | UInt32($1) })
        }
        var offset = 24
        var index = 1
        while offset + 16 <= file.count {
            let capturedLength = u32(offset + 8)
            let start = offset + 16
            guard start + capturedLength <= file.count else { break }
            if index == number { return Array(file[start..<(start + capturedLength)]) }
            offset = start + capturedLength
            index += 1
        }
        throw Failure(description: "\(name) has no frame \(number)")
    }
}

/// The RFC 1071 one's-complement sum, the obvious way: 16-bit big-endian words, an odd last
/// byte padded with zero, carries folded at the end. The oracle for `InternetChecksum`.
func referenceSum(_ bytes: [UInt8], initial: UInt16 = 0) -> UInt16 {
    var total = UInt64(initial)
    var index = 0
    while index < bytes.count {
        let high = UInt64(bytes[index])
        let low = index + 1 < bytes.count ? UInt64(bytes[index + 1]) : 0
        total += high << 8 | low
        index += 2
    }
    while total > 0xFFFF { total = (total & 0xFFFF) + (total >> 16) }
    return UInt16(total)
}

/// SplitMix64: a small seeded generator, so property tests repeat exactly.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
