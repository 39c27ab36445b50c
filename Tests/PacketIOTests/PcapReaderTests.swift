import Dataplane
import Foundation
import PacketIO
import Testing
import Wire

/// The reader against the public captures, with tshark as the oracle.
struct PcapReaderTests {
    /// Link types of the public captures that are not Ethernet.
    static let linkTypes: [String: LinkType] = [
        "tcpdump__tcp-handshake-nano.pcap": .linuxSLL,
        "tcpdump__LINKTYPE_RAW_ipv4.pcap": .raw,
    ]

    @Test func publicCapturesArePresent() {
        #expect(Fixtures.publicCaptures.count >= 15, "expected the captures of \(Fixtures.publicDirectory.path)")
        #expect(Fixtures.publicCaptures.contains("pcapng-testgen__le_basic_test001.pcapng"))
    }

    @Test(arguments: Fixtures.publicCaptures)
    func linkType(_ name: String) throws {
        let reader = try PcapReader(path: Fixtures.path(name))
        #expect(reader.linkType == Self.linkTypes[name, default: .ethernet])
        #expect(reader.isPcapNG == name.hasSuffix(".pcapng"))
    }

    @Test(.enabled(if: Tool.tshark != nil, "tshark is not installed"), arguments: Fixtures.publicCaptures)
    func recordCountMatchesTshark(_ name: String) throws {
        let records = try PcapReader(path: Fixtures.path(name)).readAll()
        let frames = try Tool.tsharkFields(Fixtures.path(name), ["frame.number"])
        #expect(!records.isEmpty)
        #expect(records.count == frames.count)
    }

    @Test(.enabled(if: Tool.tshark != nil, "tshark is not installed"), arguments: Fixtures.publicCaptures)
    func firstRecordMatchesTshark(_ name: String) throws {
        let reader = try PcapReader(path: Fixtures.path(name))
        var frame = Frame()
        #expect(try reader.next(into: &frame))
        #expect(reader.recordsRead == 1)
        let fields = try #require(try Tool.tsharkFields(Fixtures.path(name), ["frame.time_epoch", "frame.len", "frame.cap_len"]).first)
        #expect(fields == [frame.timestamp.description, String(frame.originalLength), String(frame.count)])
    }

    @Test(.enabled(if: Tool.tshark != nil, "tshark is not installed"))
    func nanosecondTimestampsKeepNineDigits() throws {
        let name = "tcpdump__tcp-handshake-nano.pcap"
        let reader = try PcapReader(path: Fixtures.path(name))
        #expect(reader.precision == .nanoseconds)
        let records = try reader.readAll()
        let times = try Tool.tsharkFields(Fixtures.path(name), ["frame.time_epoch"]).map { $0[0] }
        #expect(records.map(\.timestamp.description) == times)
        #expect(records.first?.timestamp == Timestamp(seconds: 1_418_145_369, nanoseconds: 924_505_488))
        // The last three digits are not zero: nothing was rounded to microseconds.
        #expect(records.contains { $0.timestamp.nanoseconds % 1_000 != 0 })
    }

    @Test func microsecondFileSaysSo() throws {
        let reader = try PcapReader(path: Fixtures.path("tcpdump__vxlan.pcap"))
        #expect(reader.precision == .microseconds)
        #expect(reader.snapLength == 1500)
        #expect(!reader.isPcapNG)
        #expect(try reader.readAll().allSatisfy { $0.timestamp.nanoseconds % 1_000 == 0 })
    }

    @Test func pcapNGReads() throws {
        let reader = try PcapReader(path: Fixtures.path("pcapng-testgen__le_basic_test001.pcapng"))
        #expect(reader.isPcapNG)
        #expect(reader.linkType == .ethernet)
        #expect(reader.precision == .microseconds)  // the interface has no if_tsresol
        let records = try reader.readAll()
        #expect(records.map(\.bytes.count) == [314, 342, 314, 342])
        #expect(records.map(\.originalLength) == [314, 342, 314, 342])
        #expect(records.first?.bytes.prefix(6) == [0xff, 0xff, 0xff, 0xff, 0xff, 0xff])  // broadcast
        #expect(reader.recordsRead == 4)
    }

    @Test func capturedShorterThanOriginal() throws {
        let records = try PcapReader(path: Fixtures.path("tcpdump__tcp_rst_data-trunc.pcap")).readAll()
        #expect(records.map(\.bytes.count) == [111])
        #expect(records.map(\.originalLength) == [112])
    }

    @Test func endOfFileStaysEnded() throws {
        let reader = try PcapReader(path: Fixtures.path("tcpdump__LINKTYPE_RAW_ipv4.pcap"))
        var frame = Frame()
        #expect(try reader.next(into: &frame))
        #expect(try !reader.next(into: &frame))
        #expect(try !reader.next(into: &frame))
        #expect(reader.recordsRead == 1)
    }

    /// One frame read into again and again keeps its buffer: the reader copies into it and
    /// allocates no frame storage per record.
    @Test func reusedFrameKeepsItsBuffer() throws {
        let path = Fixtures.path("tcpdump__vxlan.pcap")
        var frame = Frame()
        let buffer = frame.withUnsafeBytes { $0.baseAddress }
        var passes: [[Record]] = []
        for _ in 0..<2 {
            let reader = try PcapReader(path: path)
            var records: [Record] = []
            while try reader.next(into: &frame) {
                #expect(frame.withUnsafeBytes { $0.baseAddress } == buffer)
                #expect(frame.availableHeadroom == Frame.headroom)
                records.append(Record(frame))
            }
            passes.append(records)
        }
        #expect(passes[0].count == 10)
        #expect(passes[0] == passes[1])
    }
}
