import Dataplane
import Foundation
@testable import PacketIO
import Testing

/// The pieces of the live switch that need no TAP device: the virtio-net header and the
/// capture's wall-clock stamp.
struct LiveIOTests {
    /// A TCPv4 TSO request as the kernel writes it on x86-64 (little-endian fields).
    static let tsoHeader: [UInt8] = [
        0x01,        // flags: NEEDS_CSUM
        0x01,        // gso_type: TCPV4
        0x42, 0x00,  // hdr_len 66: Ethernet 14 + IPv4 20 + TCP 32
        0xa8, 0x05,  // gso_size 1448: the MSS
        0x22, 0x00,  // csum_start 34: the TCP header
        0x10, 0x00,  // csum_offset 16: TCP's checksum field
    ]

    @Test func readsTheKernelsHeader() {
        let offload = Self.tsoHeader.withUnsafeBytes { VirtioNetHeader.read($0.baseAddress!, frameLength: 65_226) }
        #expect(offload.flags == 1)
        #expect(offload.segmentationType == 1)
        #expect(offload.headerLength == 66)
        #expect(offload.segmentSize == 1_448)
        #expect(offload.checksumStart == 34)
        #expect(offload.checksumOffset == 16)
        #expect(offload.frameLength == 65_226)
        #expect(!offload.isNone)
    }

    @Test func writesTheSameHeaderBackForAnUnchangedFrame() {
        let offload = Self.tsoHeader.withUnsafeBytes { VirtioNetHeader.read($0.baseAddress!, frameLength: 65_226) }
        var out = [UInt8](repeating: 0xee, count: VirtioNetHeader.size)
        let passed = out.withUnsafeMutableBytes { VirtioNetHeader.write(offload, frameLength: 65_226, to: $0.baseAddress!) }
        #expect(passed)
        #expect(out == Self.tsoHeader)
    }

    /// A frame Pier made has no offload: an all-zero header (checksum complete, no GSO).
    @Test func framesWithoutOffloadGetAZeroHeader() {
        var out = [UInt8](repeating: 0xee, count: VirtioNetHeader.size)
        let passed = out.withUnsafeMutableBytes { VirtioNetHeader.write(.none, frameLength: 98, to: $0.baseAddress!) }
        #expect(passed)
        #expect(out == [UInt8](repeating: 0, count: VirtioNetHeader.size))
    }

    /// 50 bytes prepended in front (an encapsulation): a partial checksum moves with the data;
    /// a segmentation request cannot be passed on, its header lengths no longer hold.
    @Test func aLengthChangeMovesTheChecksumAndRefusesSegmentation() {
        var checksumOnly = Self.tsoHeader
        checksumOnly[1] = 0  // gso_type NONE
        let partial = checksumOnly.withUnsafeBytes { VirtioNetHeader.read($0.baseAddress!, frameLength: 100) }
        var out = [UInt8](repeating: 0, count: VirtioNetHeader.size)
        #expect(out.withUnsafeMutableBytes { VirtioNetHeader.write(partial, frameLength: 150, to: $0.baseAddress!) })
        #expect(out[6] == 84 && out[7] == 0, "csum_start 34 + 50")
        let tso = Self.tsoHeader.withUnsafeBytes { VirtioNetHeader.read($0.baseAddress!, frameLength: 65_226) }
        #expect(!out.withUnsafeMutableBytes { VirtioNetHeader.write(tso, frameLength: 65_276, to: $0.baseAddress!) })
    }

    /// 50 bytes removed from the front (a VXLAN decapsulation) of a frame whose partial
    /// checksum was the outer UDP one (csum_start 34): the checksum went with the outer
    /// headers, so the inner frame leaves with a zero header (its checksums are complete),
    /// not refused. A partial checksum inside the inner frame moves back with it.
    @Test func decapsulationDropsAnOuterPartialChecksum() {
        var outerUDP = Self.tsoHeader
        outerUDP[1] = 0   // gso_type NONE
        outerUDP[8] = 6   // csum_offset 6: UDP's checksum field
        let outer = outerUDP.withUnsafeBytes { VirtioNetHeader.read($0.baseAddress!, frameLength: 148) }
        var out = [UInt8](repeating: 0xee, count: VirtioNetHeader.size)
        #expect(out.withUnsafeMutableBytes { VirtioNetHeader.write(outer, frameLength: 98, to: $0.baseAddress!) })
        #expect(out == [UInt8](repeating: 0, count: VirtioNetHeader.size))
        var innerTCP = Self.tsoHeader
        innerTCP[1] = 0
        innerTCP[6] = 84  // csum_start 84: the inner TCP header behind 50 bytes of VXLAN
        let inner = innerTCP.withUnsafeBytes { VirtioNetHeader.read($0.baseAddress!, frameLength: 150) }
        #expect(out.withUnsafeMutableBytes { VirtioNetHeader.write(inner, frameLength: 100, to: $0.baseAddress!) })
        #expect(out[0] == 1 && out[6] == 34 && out[7] == 0, "NEEDS_CSUM, csum_start 84 - 50")
    }

    /// `write(_:at:)` stamps the record with the given time, not the frame's own.
    @Test func captureStampIsTheGivenTime() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("stamp.pcap")
        let writer = try PcapWriter(path: path, linkType: .ethernet, precision: .microseconds)
        var frame = Frame(bytes: [UInt8](repeating: 0xab, count: 60))
        frame.timestamp = Timestamp(nanoseconds: 5_000)  // a monotonic-clock time
        try writer.write(frame, at: Timestamp(seconds: 1_795_392_000, nanoseconds: 250_000_000))
        try writer.close()
        let reader = try PcapReader(path: path)
        var read = Frame()
        #expect(try reader.next(into: &read))
        #expect(read.timestamp == Timestamp(seconds: 1_795_392_000, nanoseconds: 250_000_000))
        #expect(read.count == 60)
    }
}
