import Dataplane
import Foundation
import PacketIO
import Testing
import Wire

/// The file variants the public captures lack: big-endian classic pcap, and pcapng interfaces
/// that state their timestamp resolution.
struct FileVariantTests {
    struct Variant: Sendable, CustomTestStringConvertible {
        var precision: TimestampPrecision
        var bigEndian: Bool
        var testDescription: String { "\(bigEndian ? "big" : "little")-endian, \(precision)" }
    }

    static let classicVariants = [TimestampPrecision.microseconds, .nanoseconds].flatMap { precision in
        [false, true].map { Variant(precision: precision, bigEndian: $0) }
    }

    @Test(arguments: classicVariants)
    func classicByteOrderAndPrecision(_ variant: Variant) throws {
        var file = PcapBuilder(snapLength: 128, linkType: 101, precision: variant.precision, bigEndian: variant.bigEndian)
        file.addRecord(capturedLength: 40, originalLength: 60, seconds: 1_000, fraction: 123_456, fill: 0x45)
        file.addRecord(capturedLength: 20, seconds: 1_001, fraction: 999_999, fill: 0x46)
        let directory = try TemporaryDirectory()
        let path = try directory.write(file.bytes, to: "variant.pcap")

        let reader = try PcapReader(path: path)
        #expect(reader.precision == variant.precision)
        #expect(reader.linkType == .raw)
        #expect(reader.snapLength == 128)
        let scale: Int64 = variant.precision == .nanoseconds ? 1 : 1_000
        #expect(try reader.readAll() == [
            Record(bytes: [UInt8](repeating: 0x45, count: 40), timestamp: Timestamp(seconds: 1_000, nanoseconds: 123_456 * scale), originalLength: 60),
            Record(bytes: [UInt8](repeating: 0x46, count: 20), timestamp: Timestamp(seconds: 1_001, nanoseconds: 999_999 * scale), originalLength: 20),
        ])
    }

    /// The damage checks read record headers themselves, so they must honour the byte order.
    @Test(arguments: [false, true])
    func damageInBigAndLittleEndian(_ bigEndian: Bool) throws {
        var snapped = PcapBuilder(snapLength: 64, bigEndian: bigEndian)
        snapped.addRecord(capturedLength: 60)
        snapped.addRecord(capturedLength: 100)
        var cut = PcapBuilder(snapLength: 65_535, bigEndian: bigEndian)
        cut.addRecord(capturedLength: 60)
        cut.addRecord(capturedLength: 80)
        let directory = try TemporaryDirectory()
        let snappedPath = try directory.write(snapped.bytes, to: "snapped.pcap")
        let cutPath = try directory.write(Array(cut.bytes.dropLast(40)), to: "cut.pcap")

        let (snappedRecords, snappedError) = try DamagedCaptureTests.readUntilError(snappedPath)
        #expect(snappedRecords.count == 1)
        #expect(snappedError.description == "\(snappedPath): record 2: captured length 100 exceeds the snap length 64")
        let (cutRecords, cutError) = try DamagedCaptureTests.readUntilError(cutPath)
        #expect(cutRecords.count == 1)
        #expect(cutError.description == "\(cutPath): record 2: record cut off: 40 of 80 captured bytes present")
    }

    struct Resolution: Sendable, CustomTestStringConvertible {
        var option: UInt8?
        var precision: TimestampPrecision
        /// Timestamp units per second.
        var unitsPerSecond: UInt64
        var testDescription: String { option.map { "if_tsresol \($0)" } ?? "no if_tsresol" }
    }

    static let resolutions = [
        Resolution(option: nil, precision: .microseconds, unitsPerSecond: 1_000_000),
        Resolution(option: 6, precision: .microseconds, unitsPerSecond: 1_000_000),
        Resolution(option: 3, precision: .microseconds, unitsPerSecond: 1_000),
        Resolution(option: 9, precision: .nanoseconds, unitsPerSecond: 1_000_000_000),
        Resolution(option: 0x80 | 10, precision: .microseconds, unitsPerSecond: 1_024),
        Resolution(option: 0x80 | 30, precision: .nanoseconds, unitsPerSecond: 1 << 30),
    ]

    @Test(arguments: resolutions)
    func pcapNGResolution(_ resolution: Resolution) throws {
        var file = PcapNGBuilder(resolution: resolution.option)
        let seconds: UInt64 = 1_700_000_000
        file.addPacket(timestamp: seconds * resolution.unitsPerSecond + resolution.unitsPerSecond / 2, data: [UInt8](repeating: 7, count: 61))
        let directory = try TemporaryDirectory()
        let path = try directory.write(file.bytes, to: "resolution.pcapng")

        let reader = try PcapReader(path: path)
        #expect(reader.isPcapNG)
        #expect(reader.precision == resolution.precision)
        let records = try reader.readAll()
        #expect(records == [Record(bytes: [UInt8](repeating: 7, count: 61), timestamp: Timestamp(seconds: Int64(seconds), nanoseconds: 500_000_000), originalLength: 61)])
    }

    @Test func pcapNGCutOffNamesTheBlock() throws {
        let name = "pcapng-testgen__le_basic_test001.pcapng"
        let original = try Fixtures.bytes(name)
        let directory = try TemporaryDirectory()
        let path = try directory.write(Array(original.dropLast(100)), to: "cut.pcapng")
        let expected = try PcapReader(path: Fixtures.path(name)).readAll()
        let (records, error) = try DamagedCaptureTests.readUntilError(path)
        #expect(records == Array(expected.prefix(3)))
        // Blocks: section header, interface, four enhanced packets; the last is cut.
        #expect(error.description == "\(path): block 6 at offset 1220: block cut off: 276 of 376 bytes present")
    }
}
