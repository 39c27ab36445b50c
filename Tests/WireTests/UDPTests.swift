import Testing
import Wire

/// UDP (RFC 768).
struct UDPTests {
    /// zeek__chksums_merged.pcap frame 4, bytes 34..<46: a datagram over IPv4 from 127.0.0.1
    /// to 127.0.0.1 (tshark: checksum 0xa92a good).
    static let datagram: [UInt8] = [
        0x75, 0x30,              // source port 30000
        0x32, 0xc8,              // destination port 13000
        0x00, 0x0c,              // length 12
        0xa9, 0x2a,              // checksum 0xa92a
        0x58, 0x58, 0x58, 0x58,  // data "XXXX"
    ]
    static let repr = UDPRepr(sourcePort: 30000, destinationPort: 13000)
    static var pseudoHeaderSum: UInt16 {
        InternetChecksum.pseudoHeaderSum(source: IPv4Address(127, 0, 0, 1), destination: IPv4Address(127, 0, 0, 1),
                                         protocol: .udp, length: 12)
    }

    /// tcpdump__vxlan.pcap frame 1, bytes 34..<42: the outer UDP header of VXLAN, checksum 0 (none).
    static let vxlanOuter: [UInt8] = [
        0xb0, 0x5d,  // source port 45149
        0x12, 0xb5,  // destination port 4789 (VXLAN)
        0x00, 0x72,  // length 114
        0x00, 0x00,  // checksum 0: none sent
    ]

    @Test func fixturesAreFromCaptures() throws {
        #expect(Array(try Capture.frame(4, of: "zeek__chksums_merged.pcap")[34...]) == Self.datagram)
        #expect(Array(try Capture.frame(1, of: "tcpdump__vxlan.pcap")[34..<42]) == Self.vxlanOuter)
    }

    @Test func deconstruct() throws {
        let udp = try UDPHeader(validating: Self.datagram.span.bytes)
        #expect(udp.sourcePort == 30000)
        #expect(udp.destinationPort == 13000)
        #expect(udp.length == 12)
        #expect(udp.checksum == 0xa92a)
        #expect(udp.isTruncated == false)
        #expect(udp.payload.byteCount == 4)
        #expect(udp.payload.u8(at: 3) == 0x58)
        #expect(udp.isChecksumValid(pseudoHeaderSum: Self.pseudoHeaderSum) == true)
    }

    @Test func deconstructVXLANOuter() throws {
        let udp = try UDPHeader(validating: Self.vxlanOuter.span.bytes)
        #expect(udp.sourcePort == 45149)
        #expect(udp.destinationPort == 4789)
        #expect(udp.length == 114)
        #expect(udp.checksum == 0)
        #expect(udp.isTruncated == true)
        #expect(udp.payload.byteCount == 0)
    }

    /// Frame 5 is the bad twin (checksum 0x0001); the IPv6 frames 10 (good) and 11 (bad) too.
    @Test func checksumVerification() throws {
        let bad = try Capture.frame(5, of: "zeek__chksums_merged.pcap")
        let badUDP = try UDPHeader(validating: bad.span.bytes.extracting(34...))
        #expect(badUDP.checksum == 0x0001)
        #expect(badUDP.isChecksumValid(pseudoHeaderSum: Self.pseudoHeaderSum) == false)

        let source = IPv6Address(groups: [0x2001, 0x04f8, 0x0004, 0x0007, 0x02e0, 0x81ff, 0xfe52, 0xffff])
        let destination = IPv6Address(groups: [0x2001, 0x04f8, 0x0004, 0x0007, 0x02e0, 0x81ff, 0xfe52, 0x9a6b])
        let sum6 = InternetChecksum.pseudoHeaderSum(source: source, destination: destination, protocol: .udp, length: 12)
        let good6 = try Capture.frame(10, of: "zeek__chksums_merged.pcap")
        #expect(try UDPHeader(validating: good6.span.bytes.extracting(54...)).isChecksumValid(pseudoHeaderSum: sum6) == true)
        let bad6 = try Capture.frame(11, of: "zeek__chksums_merged.pcap")
        #expect(try UDPHeader(validating: bad6.span.bytes.extracting(54...)).isChecksumValid(pseudoHeaderSum: sum6) == false)
    }

    /// Bytes past the length field (Ethernet padding) are not covered by the checksum.
    @Test func checksumStopsAtTheLength() throws {
        let padded = Self.datagram + [0xff, 0xff, 0x12, 0x34]
        let udp = try UDPHeader(validating: padded.span.bytes)
        #expect(udp.payload.byteCount == 4)
        #expect(udp.isChecksumValid(pseudoHeaderSum: Self.pseudoHeaderSum) == true)
    }

    @Test func parse() throws {
        #expect(UDPRepr(try UDPHeader(validating: Self.datagram.span.bytes)) == Self.repr)
        #expect(UDPRepr(try UDPHeader(validating: Self.vxlanOuter.span.bytes)) == UDPRepr(sourcePort: 45149, destinationPort: 4789))
    }

    /// The length and checksum the repr computes are the capture's.
    @Test func emit() throws {
        let data = [UInt8](repeating: 0, count: 8) + Self.datagram[8...]
        #expect(emitted(over: data) { Self.repr.emit(into: &$0, pseudoHeaderSum: Self.pseudoHeaderSum) } == Self.datagram)
        // No checksum: the outer UDP of tcpdump__vxlan.pcap frame 1, over its 106 bytes of VXLAN.
        let frame = try Capture.frame(1, of: "tcpdump__vxlan.pcap")
        let outer = Array(frame[34..<148])
        let rebuilt = emitted(over: [UInt8](repeating: 0xee, count: 8) + outer[8...]) {
            UDPRepr(sourcePort: 45149, destinationPort: 4789).emit(into: &$0, pseudoHeaderSum: nil)
        }
        #expect(rebuilt == outer)
    }

    /// RFC 768: a computed checksum of zero is sent as all ones. Data 0xa92a takes the place
    /// of the fixture's checksum, so header and data sum to 0xffff.
    @Test func computedZeroIsSentAsAllOnes() throws {
        let data: [UInt8] = [0, 0, 0, 0, 0, 0, 0, 0, 0x58, 0x58, 0x58, 0x58, 0xa9, 0x2a]
        let sum = InternetChecksum.pseudoHeaderSum(source: IPv4Address(127, 0, 0, 1), destination: IPv4Address(127, 0, 0, 1),
                                                   protocol: .udp, length: 14)
        // The length grows by 2 (0x000c → 0x000e) in the header and in the pseudo-header: +4 in all.
        // Then 0xa92a - 4 = 0xa926 makes the total 0xffff: use that as the last data word.
        var bytes = data
        bytes[12] = 0xa9
        bytes[13] = 0x26
        let emittedBytes = emitted(over: bytes) { Self.repr.emit(into: &$0, pseudoHeaderSum: sum) }
        #expect(referenceSum(Array(emittedBytes[0..<6]) + [0, 0] + emittedBytes[8...], initial: sum) == 0xffff)
        #expect(Array(emittedBytes[6..<8]) == [0xff, 0xff])
        #expect(try UDPHeader(validating: emittedBytes.span.bytes).isChecksumValid(pseudoHeaderSum: sum) == true)
    }

    @Test func roundTrip() throws {
        let repr = UDPRepr(sourcePort: 0, destinationPort: 65535)
        let bytes = emitted(count: 8) { repr.emit(into: &$0, pseudoHeaderSum: 0x1234) }
        let udp = try UDPHeader(validating: bytes.span.bytes)
        #expect(udp.length == 8)
        #expect(udp.isChecksumValid(pseudoHeaderSum: 0x1234) == true)
        #expect(UDPRepr(udp) == repr)
    }

    @Test(arguments: 0..<8)
    func truncated(length: Int) {
        #expect(throws: WireError.truncated(needed: 8, available: length)) {
            _ = try UDPHeader(validating: Self.datagram.span.bytes.extracting(0..<length))
        }
    }

    /// A length field below the 8-byte header.
    @Test(arguments: 0..<8)
    func badLength(length: Int) {
        var bytes = Self.datagram
        bytes[4] = 0
        bytes[5] = UInt8(length)
        #expect(throws: WireError.badTotalLength(length)) {
            _ = try UDPHeader(validating: bytes.span.bytes)
        }
    }
}
