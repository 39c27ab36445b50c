import Dataplane
import Foundation
import PacketIO
import Testing
import Wire

/// The native pcapng reader and writer on built files: several interfaces with their own link
/// types and resolutions, both byte orders, several sections, every packet block type,
/// skipped blocks, direction flags, and damage named by block.
struct PcapNGReaderTests {
    /// Every frame of `path` with its interface's name and link type, and its direction.
    static func frames(_ path: String) throws -> [(record: Record, interface: String?, linkType: LinkType, direction: CaptureDirection)] {
        let reader = try PcapReader(path: path)
        var frame = Frame()
        var frames: [(Record, String?, LinkType, CaptureDirection)] = []
        while try reader.next(into: &frame) {
            let interface = try #require(reader.lastInterface)
            frames.append((Record(frame), interface.name, interface.linkType, reader.lastDirection))
        }
        return frames
    }

    static let payload = [UInt8](repeating: 0x45, count: 21)

    @Test(arguments: [false, true])
    func interfacesSectionsAndBlockTypes(_ bigEndian: Bool) throws {
        var file = PcapNGBuilder()
        file.addSection(bigEndian: bigEndian)
        file.block(type: 0xBAD, body: [0, 0, 0x7f, 0xff, 1, 2, 3, 4])            // custom block (PEN 32767)
        file.addInterface(linkType: 1, name: "eth0")                                // microseconds
        file.addInterface(linkType: 101, snapLength: 10, name: "tun0", resolution: 9)
        file.block(type: 4, body: [0, 0, 0, 0])                                     // name resolution: end of records
        file.addPacket(interface: 1, timestamp: 1_700_000_000_123_456_789, data: Self.payload, flags: 1)
        file.addPacket(interface: 0, timestamp: 1_700_000_000_000_001, data: Self.payload, originalLength: 60, flags: 2)
        file.block(type: 5, body: [0, 0, 0, 0] + [UInt8](repeating: 0, count: 8))   // interface statistics
        file.addObsoletePacket(interface: 1, timestamp: 7_000_000_000, data: [1, 2])
        file.block(type: 0x4000_0BAD, body: [0, 0, 0x7f, 0xff])                   // custom, do not copy
        file.block(type: 0x1234, body: [])                                          // unknown
        file.addSection(bigEndian: !bigEndian)                                      // interfaces restart at 0
        file.addInterface(linkType: 1, snapLength: 8, name: "veth1", resolution: 0x80 | 10)
        file.addSimplePacket(data: Self.payload)
        file.addPacket(interface: 0, timestamp: 3 * 1024 + 512, data: [9])
        let directory = try TemporaryDirectory()
        let path = try directory.write(file.bytes, to: "multi.pcapng")

        let frames = try Self.frames(path)
        #expect(frames.map(\.interface) == ["tun0", "eth0", "tun0", "veth1", "veth1"])
        #expect(frames.map(\.linkType) == [.raw, .ethernet, .raw, .ethernet, .ethernet])
        #expect(frames.map(\.direction) == [.inbound, .outbound, .unknown, .unknown, .unknown])
        #expect(frames.map(\.record.timestamp) == [
            Timestamp(seconds: 1_700_000_000, nanoseconds: 123_456_789), Timestamp(seconds: 1_700_000_000, nanoseconds: 1_000),
            Timestamp(seconds: 7, nanoseconds: 0), Timestamp(seconds: 7, nanoseconds: 0),  // the simple packet keeps the last time
            Timestamp(seconds: 3, nanoseconds: 500_000_000),
        ])
        // The simple packet's captured length is the snap length (8) of its section's interface 0.
        #expect(frames.map(\.record.bytes.count) == [21, 21, 2, 8, 1])
        #expect(frames[1].record.originalLength == 60)
        let reader = try PcapReader(path: path)
        #expect(reader.linkType == .ethernet)
        let survey = reader.survey()
        #expect(survey.interfaces.map(\.name) == ["eth0", "tun0", "veth1"])
        #expect(survey.interfaces.map(\.section) == [1, 1, 2])
        #expect(survey.frames == [1, 2, 2])
        #expect(survey.anyDirection)
    }

    @Test func readAsInputSkipsOutboundAndCutsTheFCS() throws {
        var file = PcapNGBuilder()
        file.addSection()
        file.addInterface(name: "eth0", fcsLength: 4)
        file.addPacket(timestamp: 1, data: [1, 2, 3, 4, 5, 6, 0xfc, 0xfc, 0xfc, 0xfc], flags: 1)
        file.addPacket(timestamp: 2, data: [7, 7, 7, 7, 7], flags: 2)
        file.addPacket(timestamp: 3, data: [8, 8, 8, 8, 8, 8])
        let directory = try TemporaryDirectory()
        let path = try directory.write(file.bytes, to: "directions.pcapng")
        let reader = try PcapReader(path: path)
        reader.readAsInput()
        #expect(try reader.readAll().map(\.bytes) == [[1, 2, 3, 4, 5, 6], [8, 8]])
        #expect(reader.outboundSkipped == 1)
    }

    @Test func readOnlyOneInterface() throws {
        var file = PcapNGBuilder()
        file.addSection()
        file.addInterface(name: "a")
        file.addInterface(name: "b")
        for index in 0..<6 { file.addPacket(interface: UInt32(index % 2), timestamp: UInt64(index), data: [UInt8(index)]) }
        let directory = try TemporaryDirectory()
        let path = try directory.write(file.bytes, to: "two.pcapng")
        let reader = try PcapReader(path: path)
        reader.readOnly(interface: 1)
        #expect(try reader.readAll().map(\.bytes) == [[1], [3], [5]])
    }

    /// A damaged block: the frames before it are returned, the error names the block, its
    /// offset and the problem.
    struct Damage: Sendable, CustomTestStringConvertible {
        var name: String
        /// Breaks the fourth block (the second packet) of a file of a section, an interface
        /// and three packets.
        var damage: @Sendable (inout [UInt8], Int) -> Void
        var problem: String
        var testDescription: String { name }
    }

    static let damages = [
        Damage(name: "cut block", damage: { bytes, offset in bytes.removeLast(bytes.count - offset - 20) },
               problem: "block cut off: 20 of 36 bytes present"),
        Damage(name: "bad block length", damage: { bytes, offset in bytes[offset + 4] = 35 },
               problem: "bad block length 35 (a multiple of 4, at least 12)"),
        Damage(name: "trailing length differs", damage: { bytes, offset in bytes[offset + 32] = 40 },
               problem: "block length 36 and trailing length 40 differ"),
        Damage(name: "unknown interface id", damage: { bytes, offset in bytes[offset + 8] = 3 },
               problem: "unknown interface 3 (section 1 describes 1)"),
        Damage(name: "captured length overruns", damage: { bytes, offset in bytes[offset + 20] = 9 },
               problem: "captured length 9 overruns the block of 36 bytes"),
    ]

    @Test(arguments: damages)
    func damagedBlock(_ damage: Damage) throws {
        var file = PcapNGBuilder()
        file.addSection()
        file.addInterface(name: "eth0")
        for index in 0..<3 { file.addPacket(timestamp: UInt64(index), data: [UInt8](repeating: UInt8(index), count: 4)) }
        var bytes = file.bytes
        let offset = file.blockOffsets[3]
        damage.damage(&bytes, offset)
        let directory = try TemporaryDirectory()
        let path = try directory.write(bytes, to: "damaged.pcapng")
        let (records, error) = try DamagedCaptureTests.readUntilError(path)
        #expect(records.map(\.bytes) == [[0, 0, 0, 0]])
        #expect(error.description == "\(path): block 4 at offset \(offset): \(damage.problem)")
    }

    @Test func missingSectionHeader() throws {
        var file = PcapNGBuilder(resolution: nil)
        file.addPacket(timestamp: 1, data: [1])
        let directory = try TemporaryDirectory()
        let path = try directory.write(Array(file.bytes.dropFirst(file.blockOffsets[1])), to: "headless.pcapng")
        let error = try DamagedCaptureTests.openError(path)
        #expect(error.description == "\(path): block 1 at offset 0: missing section header: the file starts with a block of type 1, not a section header block")
    }

    @Test func badByteOrderMagic() throws {
        var file = PcapNGBuilder(resolution: nil)
        file.addPacket(timestamp: 1, data: [1])
        file.addSection()
        file.addPacket(timestamp: 2, data: [2])
        var bytes = file.bytes
        bytes[file.blockOffsets[3] + 8] = 0x99
        let directory = try TemporaryDirectory()
        let path = try directory.write(bytes, to: "magic.pcapng")
        let (records, error) = try DamagedCaptureTests.readUntilError(path)
        #expect(records.map(\.bytes) == [[1]])
        #expect(error.description.hasPrefix("\(path): block 4 at offset \(file.blockOffsets[3]): bad byte-order magic"))
    }

    @Test func writerRoundTripsInterfacesAndDirections() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("out.pcapng")
        let writer = try PcapNGWriter(path: path, interfaces: [("eth0", .ethernet), ("c1", .ethernet)])
        var frame = makeFrame([1, 2, 3, 4, 5])
        frame.timestamp = Timestamp(seconds: 1_800_000_000, nanoseconds: 123_456_789)
        frame.originalLength = 70
        try writer.write(frame, interface: 1, direction: .outbound)
        frame.replaceContents(with: UnsafeRawBufferPointer(start: nil, count: 0))
        try writer.write(makeFrame([9, 9, 9, 9]), interface: 0)
        #expect(throws: CaptureError.self) { try writer.write(frame, interface: 2) }
        try writer.close()

        let frames = try Self.frames(path)
        #expect(frames.map(\.interface) == ["c1", "eth0"])
        #expect(frames.map(\.direction) == [.outbound, .unknown])
        #expect(frames[0].record == Record(bytes: [1, 2, 3, 4, 5], timestamp: Timestamp(seconds: 1_800_000_000, nanoseconds: 123_456_789), originalLength: 70))
        if let tshark = Tool.tshark {
            let text = try Tool.run(tshark, ["-r", path, "-T", "fields", "-e", "frame.interface_name", "-e", "frame.time_epoch",
                                             "-e", "frame.cap_len", "-e", "frame.len", "-e", "frame.packet_flags_direction"])
            #expect(text == "c1\t1800000000.123456789\t5\t70\t0x00000002\neth0\t0.000000000\t4\t4\t\n")
        }
    }
}
