import Dataplane
import Foundation
import PacketIO
import Testing

/// `SoftwareSegmenter` against tshark: super-frames as a TAP device hands them over (partial
/// checksums holding the pseudo-header sum) are cut, the segments written to a capture, and
/// tshark must find every IPv4, TCP and UDP checksum good, the sequence numbers, lengths and
/// identifications as Linux's software GSO sets them, and the payloads put back together
/// equal to the original.
@Suite(.enabled(if: Tool.tshark != nil, "tshark is not installed"))
struct SoftwareSegmenterTests {
    static let payloadLength = 5_000
    static let payload = (0..<payloadLength).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 3) }

    /// Ethernet, IPv4 (ID 0x1234, DF), TCP (sequence 1000, ACK|PSH|FIN, 12 bytes of options)
    /// and the payload; the TCP checksum field holds the pseudo-header sum (CHECKSUM_PARTIAL).
    static func tcpSuperFrame() -> [UInt8] {
        var bytes: [UInt8] = [0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1, 0x08, 0x00]
        let tcpLength = 32 + payloadLength
        bytes += ipv4(totalLength: 20 + tcpLength, id: 0x1234, proto: 6, source: [10, 0, 1, 2], destination: [10, 0, 2, 2])
        bytes += [0x9c, 0x40, 0x14, 0x51, 0, 0, 0x03, 0xe8, 0, 0, 0, 1, 0x80, 0x19, 0x01, 0xf5, 0, 0, 0, 0]
        bytes += [1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2]
        bytes += payload
        let pseudo = partialSum(source: [10, 0, 1, 2], destination: [10, 0, 2, 2], proto: 6, length: tcpLength)
        bytes[34 + 16] = UInt8(pseudo >> 8)
        bytes[34 + 17] = UInt8(pseudo & 0xff)
        return bytes
    }

    static func ipv4(totalLength: Int, id: UInt16, proto: UInt8, source: [UInt8], destination: [UInt8]) -> [UInt8] {
        var header: [UInt8] = [0x45, 0, UInt8(totalLength >> 8), UInt8(totalLength & 0xff), UInt8(id >> 8), UInt8(id & 0xff),
                               0x40, 0, 64, proto, 0, 0] + source + destination
        var sum = 0
        for index in stride(from: 0, to: 20, by: 2) { sum += Int(header[index]) << 8 | Int(header[index + 1]) }
        while sum > 0xffff { sum = (sum & 0xffff) + (sum >> 16) }
        header[10] = UInt8((~sum & 0xffff) >> 8)
        header[11] = UInt8(~sum & 0xff)
        return header
    }

    static func partialSum(source: [UInt8], destination: [UInt8], proto: Int, length: Int) -> Int {
        var sum = proto + length
        for pair in [source, destination] { sum += Int(pair[0]) << 8 | Int(pair[1]); sum += Int(pair[2]) << 8 | Int(pair[3]) }
        while sum > 0xffff { sum = (sum & 0xffff) + (sum >> 16) }
        return sum
    }

    /// Segments `frame` and writes the segments to a capture; returns its path.
    static func segmentToCapture(_ frame: [UInt8], offload: SegmentOffload, in directory: TemporaryDirectory) throws -> (String, Int) {
        let path = directory.path("segments.pcap")
        let writer = try PcapWriter(path: path, linkType: .ethernet, precision: .microseconds)
        let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 70_000, alignment: 64)
        defer { scratch.deallocate() }
        var pieces: [[UInt8]] = []
        let outcome = frame.withUnsafeBytes { bytes in
            SoftwareSegmenter.segment(bytes, offload: offload, scratch: scratch) { piece in
                pieces.append(Array(piece))
                return true
            }
        }
        #expect(outcome == .success(pieces.count))
        for piece in pieces { try writer.write(Frame(bytes: piece)) }
        try writer.close()
        return (path, pieces.count)
    }

    /// A 5,000-byte TCP super-frame cut at 1,448: four segments of 1,448, 1,448, 1,448 and 656
    /// bytes, sequence numbers 1000 + 1,448 k, IPv4 IDs 0x1234 + k, PSH and FIN on the last
    /// only, every checksum good, the payload intact.
    @Test func tcpSuperFrame() throws {
        let directory = try TemporaryDirectory()
        var offload = SegmentOffload()
        offload.flags = 1
        offload.segmentationType = SegmentOffload.Kind.tcp4
        offload.segmentSize = 1_448
        offload.checksumStart = 34
        offload.checksumOffset = 16
        offload.headerLength = 66
        let frame = Self.tcpSuperFrame()
        offload.frameLength = Int32(frame.count)
        let (path, count) = try Self.segmentToCapture(frame, offload: offload, in: directory)
        #expect(count == 4)
        let rows = try Tool.tsharkFields(path, ["ip.id", "ip.checksum.status", "tcp.seq_raw", "tcp.len", "tcp.checksum.status",
                                               "tcp.flags.push", "tcp.flags.fin", "tcp.payload"])
        #expect(rows.map { $0[0] } == ["0x1234", "0x1235", "0x1236", "0x1237"].map { [$0] })
        #expect(rows.allSatisfy { $0[1] == ["1"] && $0[4] == ["1"] }, "checksum status 1 is good: \(rows.map { [$0[1], $0[4]] })")
        #expect(rows.map { $0[2] } == [["1000"], ["2448"], ["3896"], ["5344"]])
        #expect(rows.map { $0[3] } == [["1448"], ["1448"], ["1448"], ["656"]])
        let set = { (value: [String]) in value == ["1"] || value == ["True"] }
        #expect(rows.map { [set($0[5]), set($0[6])] } == [[false, false], [false, false], [false, false], [true, true]], "PSH, FIN")
        let joined = rows.map { $0[7].first ?? "" }.joined().replacingOccurrences(of: ":", with: "")
        #expect(joined == Self.payload.map { String(format: "%02x", $0) }.joined())
    }

    /// The same super-frame inside VXLAN (outer IPv4 ID 7, UDP checksum zero), as the encap
    /// stage leaves it for an uplink without UDP-tunnel GSO: four VXLAN segments, outer and
    /// inner IPv4 lengths and checksums, outer UDP lengths, inner TCP checksums all good.
    @Test func vxlanSuperFrame() throws {
        let directory = try TemporaryDirectory()
        let inner = Self.tcpSuperFrame()
        var frame: [UInt8] = [0x02, 0, 0, 0, 0, 0x20, 0x02, 0, 0, 0, 0, 0x10, 0x08, 0x00]
        let udpLength = 8 + 8 + inner.count
        frame += Self.ipv4(totalLength: 20 + udpLength, id: 7, proto: 17, source: [192, 168, 1, 10], destination: [192, 168, 1, 20])
        frame += [0x9c, 0x41, 0x21, 0x18, UInt8(udpLength >> 8), UInt8(udpLength & 0xff), 0, 0]
        frame += [0x08, 0, 0, 0, 0, 0, 1, 0]
        frame += inner
        var offload = SegmentOffload()
        offload.flags = 1
        offload.segmentationType = SegmentOffload.Kind.tcp4 | SegmentOffload.Kind.udpTunnel4
        offload.segmentSize = 1_448
        offload.checksumStart = 84
        offload.checksumOffset = 16
        offload.headerLength = 116
        offload.outerTransportOffset = 34
        offload.innerNetworkOffset = 64
        offload.frameLength = Int32(frame.count)
        let (path, count) = try Self.segmentToCapture(frame, offload: offload, in: directory)
        #expect(count == 4)
        let rows = try Tool.tsharkFields(path, ["ip.id", "ip.checksum.status", "udp.length", "tcp.len", "tcp.checksum.status", "vxlan.vni"])
        #expect(rows.count == 4)
        for (index, row) in rows.enumerated() {
            #expect(row[0] == [String(format: "0x%04x", 7 + index), String(format: "0x%04x", 0x1234 + index)], "\(row)")
            #expect(row[1] == ["1", "1"] && row[4] == ["1"] && row[5] == ["1"], "\(row)")
            let tcp = index < 3 ? 1_448 : 656
            #expect(row[2] == [String(8 + 8 + 14 + 20 + 32 + tcp)] && row[3] == [String(tcp)], "\(row)")
        }
    }

    /// A UDP GSO_UDP_L4 super-frame (4,000 bytes of payload, segments of 1,000): four
    /// datagrams with their own UDP lengths and good checksums.
    @Test func udpSuperFrame() throws {
        let directory = try TemporaryDirectory()
        var frame: [UInt8] = [0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1, 0x08, 0x00]
        let udpLength = 8 + 4_000
        frame += Self.ipv4(totalLength: 20 + udpLength, id: 0x100, proto: 17, source: [10, 0, 1, 2], destination: [10, 0, 2, 2])
        frame += [0x30, 0x39, 0x30, 0x3a, UInt8(udpLength >> 8), UInt8(udpLength & 0xff), 0, 0]
        frame += Self.payload.prefix(4_000)
        var offload = SegmentOffload()
        offload.flags = 1
        offload.segmentationType = SegmentOffload.Kind.udpL4
        offload.segmentSize = 1_000
        offload.checksumStart = 34
        offload.checksumOffset = 6
        offload.frameLength = Int32(frame.count)
        let (path, count) = try Self.segmentToCapture(frame, offload: offload, in: directory)
        #expect(count == 4)
        let rows = try Tool.tsharkFields(path, ["ip.id", "udp.length", "udp.checksum.status", "ip.checksum.status"])
        #expect(rows.map { $0[1] } == Array(repeating: ["1008"], count: 4))
        #expect(rows.allSatisfy { $0[2] == ["1"] && $0[3] == ["1"] }, "\(rows)")
    }

    /// A frame whose offsets lie outside it is refused and nothing is emitted.
    @Test func malformedIsRefused() {
        var offload = SegmentOffload()
        offload.segmentationType = SegmentOffload.Kind.tcp4
        offload.segmentSize = 1_448
        offload.checksumStart = 200
        let frame = [UInt8](repeating: 0x45, count: 100)
        let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 70_000, alignment: 64)
        defer { scratch.deallocate() }
        var emitted = 0
        let outcome = frame.withUnsafeBytes { SoftwareSegmenter.segment($0, offload: offload, scratch: scratch) { _ in emitted += 1; return true } }
        #expect(outcome == .failure(.malformed) && emitted == 0)
    }
}
