import Testing
import Wire

/// IPv4 (RFC 791).
struct IPv4Tests {
    /// tcpdump__vxlan.pcap frame 1, bytes 14..<34: the outer header of a VXLAN packet
    /// (tshark: header checksum 0x5152 correct).
    static let header: [UInt8] = [
        0x45,                    // version 4, IHL 5 (20 bytes)
        0x00,                    // DSCP 0, ECN 0
        0x00, 0x86,              // total length 134
        0xd2, 0xc0,              // identification 0xd2c0
        0x40, 0x00,              // flags: DF; fragment offset 0
        0x40,                    // TTL 64
        0x11,                    // protocol 17 (UDP)
        0x51, 0x52,              // header checksum 0x5152
        0xc0, 0xa8, 0xcb, 0x01,  // source 192.168.203.1
        0xc0, 0xa8, 0xca, 0x01,  // destination 192.168.202.1
    ]

    static let headerRepr = IPv4Repr(
        source: IPv4Address(192, 168, 203, 1), destination: IPv4Address(192, 168, 202, 1), protocol: .udp,
        payloadLength: 114, ttl: 64, identification: 0xd2c0, dontFragment: true)

    /// A hand-built IGMPv2 report with a Router Alert option (IHL 6). tshark: header length
    /// 24, DSCP CS6 (48), checksum 0x416a correct, option "Router Alert", IGMP checksum correct.
    static let withOptions: [UInt8] = [
        0x46,                    // version 4, IHL 6 (24 bytes)
        0xc0,                    // DSCP 48 (CS6), ECN 0
        0x00, 0x20,              // total length 32
        0x00, 0x00,              // identification 0
        0x40, 0x00,              // flags: DF; fragment offset 0
        0x01,                    // TTL 1
        0x02,                    // protocol 2 (IGMP)
        0x41, 0x6a,              // header checksum 0x416a
        0xc0, 0xa8, 0x01, 0x0a,  // source 192.168.1.10
        0xe0, 0x00, 0x00, 0xfb,  // destination 224.0.0.251
        0x94, 0x04, 0x00, 0x00,  // option: Router Alert (type 148, length 4, value 0)
        // payload: IGMPv2 membership report
        0x16, 0x00, 0x09, 0x04, 0xe0, 0x00, 0x00, 0xfb,
    ]

    static let withOptionsRepr = IPv4Repr(
        source: IPv4Address(192, 168, 1, 10), destination: IPv4Address(224, 0, 0, 251),
        protocol: IPProtocol(rawValue: 2), payloadLength: 8, ttl: 1, identification: 0,
        dontFragment: true, dscp: 48, ecn: 0, options: [0x94, 0x04, 0x00, 0x00])

    /// zeek__ipv4_fragmented-2.pcap frame 1, bytes 14..<60: the first fragment (MF set, offset
    /// 0), total length 38, then 8 bytes of Ethernet padding.
    static let firstFragment: [UInt8] = [
        0x45, 0x00,
        0x00, 0x26,              // total length 38
        0x00, 0xf2,              // identification 0x00f2
        0x20, 0x00,              // flags: MF; fragment offset 0
        0x40, 0x11,              // TTL 64, protocol UDP
        0x1a, 0xf2,              // header checksum
        0xa4, 0x01, 0x7b, 0xa3,  // source 164.1.123.163
        0xa4, 0x01, 0x7b, 0x3d,  // destination 164.1.123.61
        0x00, 0x7b, 0x00, 0x89, 0x00, 0x12, 0xbf, 0xe2,  // 18 payload bytes: UDP header ...
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  // ... and data
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  // Ethernet padding (not payload)
    ]

    /// zeek__ipv4_fragmented-2.pcap frame 2, bytes 14..<34: a later fragment (tshark: off=48).
    static let laterFragment: [UInt8] = [
        0x45, 0x00,
        0x00, 0x88,              // total length 136
        0x00, 0xf2,              // identification 0x00f2
        0x00, 0x06,              // flags: none; fragment offset 6 (48 bytes)
        0x40, 0x11,              // TTL 64, protocol UDP
        0x3a, 0x8a,              // header checksum
        0xa4, 0x01, 0x7b, 0xa3,  // source 164.1.123.163
        0xa4, 0x01, 0x7b, 0x3d,  // destination 164.1.123.61
    ]

    @Test func fixturesAreFromCaptures() throws {
        #expect(Array(try Capture.frame(1, of: "tcpdump__vxlan.pcap")[14..<34]) == Self.header)
        #expect(Array(try Capture.frame(1, of: "zeek__ipv4_fragmented-2.pcap")[14...]) == Self.firstFragment)
        #expect(Array(try Capture.frame(2, of: "zeek__ipv4_fragmented-2.pcap")[14..<34]) == Self.laterFragment)
    }

    @Test func deconstruct() throws {
        let ip = try IPv4Header(validating: Self.header.span.bytes)
        #expect(ip.headerLength == 20)
        #expect(ip.dscp == 0)
        #expect(ip.ecn == 0)
        #expect(ip.totalLength == 134)
        #expect(ip.identification == 0xd2c0)
        #expect(ip.dontFragment == true)
        #expect(ip.moreFragments == false)
        #expect(ip.fragmentOffset == 0)
        #expect(ip.isFragment == false)
        #expect(ip.ttl == 64)
        #expect(ip.protocol == .udp)
        #expect(ip.checksum == 0x5152)
        #expect(ip.source == IPv4Address(rawValue: 0xc0a8_cb01))
        #expect(ip.destination == IPv4Address(rawValue: 0xc0a8_ca01))
        #expect(ip.isChecksumValid == true)
        #expect(ip.options.byteCount == 0)
        // Only the header is present: the 114 payload bytes the total length announces are not.
        #expect(ip.isTruncated == true)
        #expect(ip.payload.byteCount == 0)
    }

    @Test func deconstructOptions() throws {
        let ip = try IPv4Header(validating: Self.withOptions.span.bytes)
        #expect(ip.headerLength == 24)
        #expect(ip.dscp == 48)
        #expect(ip.ecn == 0)
        #expect(ip.totalLength == 32)
        #expect(ip.ttl == 1)
        #expect(ip.protocol.rawValue == 2)
        #expect(ip.checksum == 0x416a)
        #expect(ip.isChecksumValid == true)
        #expect(ip.destination == IPv4Address(224, 0, 0, 251))
        #expect(ip.options.byteCount == 4)
        #expect(ip.options.u8(at: 0) == 148)
        #expect(ip.payload.byteCount == 8)
        #expect(ip.payload.u8(at: 0) == 0x16)
        #expect(ip.isTruncated == false)
    }

    @Test func deconstructFragments() throws {
        let first = try IPv4Header(validating: Self.firstFragment.span.bytes)
        #expect(first.moreFragments == true)
        #expect(first.dontFragment == false)
        #expect(first.fragmentOffset == 0)
        #expect(first.isFragment == true)
        #expect(first.isChecksumValid == true)
        // The payload stops at the total length, not at the padded end of the frame.
        #expect(first.payload.byteCount == 18)
        #expect(first.isTruncated == false)
        let later = try IPv4Header(validating: Self.laterFragment.span.bytes)
        #expect(later.moreFragments == false)
        #expect(later.fragmentOffset == 6)
        #expect(later.isFragment == true)
        #expect(later.isChecksumValid == true)
    }

    /// zeek__chksums_merged.pcap frame 1 has a bad header checksum (0x0001); frame 4 is its good twin.
    @Test func checksumVerification() throws {
        let bad = try Capture.frame(1, of: "zeek__chksums_merged.pcap")
        let badIP = try IPv4Header(validating: bad.span.bytes.extracting(14...))
        #expect(badIP.checksum == 0x0001)
        #expect(badIP.isChecksumValid == false)
        let good = try Capture.frame(4, of: "zeek__chksums_merged.pcap")
        #expect(try IPv4Header(validating: good.span.bytes.extracting(14...)).isChecksumValid)
    }

    @Test func parse() throws {
        #expect(IPv4Repr(try IPv4Header(validating: Self.header.span.bytes)) == Self.headerRepr)
        #expect(IPv4Repr(try IPv4Header(validating: Self.withOptions.span.bytes)) == Self.withOptionsRepr)
        #expect(IPv4Repr(try IPv4Header(validating: Self.laterFragment.span.bytes)) == IPv4Repr(
            source: IPv4Address(164, 1, 123, 163), destination: IPv4Address(164, 1, 123, 61), protocol: .udp,
            payloadLength: 116, ttl: 64, identification: 0x00f2, dontFragment: false, moreFragments: false,
            fragmentOffset: 6))
    }

    /// The checksum the repr computes is the one the capture carries.
    @Test func emit() {
        #expect(emitted(count: 20) { Self.headerRepr.emit(into: &$0) } == Self.header)
        #expect(emitted(count: 24) { Self.withOptionsRepr.emit(into: &$0) } == Array(Self.withOptions[0..<24]))
    }

    @Test func roundTrip() throws {
        let repr = IPv4Repr(
            source: IPv4Address(10, 244, 1, 5), destination: IPv4Address(10, 244, 2, 7), protocol: .tcp,
            payloadLength: 1000, ttl: 17, identification: 0xbeef, dontFragment: false, moreFragments: true,
            fragmentOffset: 0x1abc, dscp: 46, ecn: 3,
            options: [0x01, 0x01, 0x01, 0x00, 0x07, 0x07, 0x04, 0x00])  // NOP, NOP, NOP, EOL; record route
        let bytes = emitted(count: 28) { repr.emit(into: &$0) }
        let header = try IPv4Header(validating: bytes.span.bytes)
        #expect(header.isChecksumValid == true)
        #expect(IPv4Repr(header) == repr)
    }

    @Test(arguments: 0..<20)
    func truncated(length: Int) {
        #expect(throws: WireError.truncated(needed: 20, available: length)) {
            _ = try IPv4Header(validating: Self.header.span.bytes.extracting(0..<length))
        }
    }

    /// IHL 6: the fixed 20 bytes first, then the whole 24-byte header.
    @Test(arguments: 0..<24)
    func truncatedOptions(length: Int) {
        let needed = length < 20 ? 20 : 24
        #expect(throws: WireError.truncated(needed: needed, available: length)) {
            _ = try IPv4Header(validating: Self.withOptions.span.bytes.extracting(0..<length))
        }
    }

    @Test(arguments: [0x05, 0x15, 0x65, 0xf5] as [UInt8])
    func badVersion(first: UInt8) {
        var bytes = Self.header
        bytes[0] = first
        #expect(throws: WireError.badVersion(first >> 4)) {
            _ = try IPv4Header(validating: bytes.span.bytes)
        }
    }

    @Test(arguments: 0...4)
    func badHeaderLength(ihl: UInt8) {
        var bytes = Self.header
        bytes[0] = 0x40 | ihl
        #expect(throws: WireError.badHeaderLength(Int(ihl) * 4)) {
            _ = try IPv4Header(validating: bytes.span.bytes)
        }
    }

    /// tcpdump__ipv4_invalid_hdr_length.pcap frame 1: the first byte is 0x44 (IHL 4, 16 bytes).
    @Test func badHeaderLengthFromCapture() throws {
        let frame = try Capture.frame(1, of: "tcpdump__ipv4_invalid_hdr_length.pcap")
        #expect(frame[14] == 0x44)
        #expect(throws: WireError.badHeaderLength(16)) {
            _ = try IPv4Header(validating: frame.span.bytes.extracting(14...))
        }
    }

    /// A total length shorter than the header.
    @Test(arguments: [(IPv4Tests.header, 0), (IPv4Tests.header, 19), (IPv4Tests.withOptions, 20), (IPv4Tests.withOptions, 23)])
    func badTotalLength(bytes: [UInt8], totalLength: Int) {
        var bytes = bytes
        bytes[2] = UInt8(totalLength >> 8)
        bytes[3] = UInt8(totalLength & 0xFF)
        #expect(throws: WireError.badTotalLength(totalLength)) {
            _ = try IPv4Header(validating: bytes.span.bytes)
        }
    }

    /// A total length equal to the header is a packet without payload.
    @Test func totalLengthOfTheHeaderAlone() throws {
        var bytes = Self.withOptions
        bytes[3] = 24
        let header = try IPv4Header(validating: bytes.span.bytes)
        #expect(header.payload.byteCount == 0)
        #expect(header.isTruncated == false)
    }

    /// tcpdump__ipv4_invalid_total_length.pcap frame 1: total length 85, 84 bytes present. The
    /// view accepts it (a capture may cut a packet) and says it is truncated.
    @Test func totalLengthBeyondTheBytes() throws {
        let frame = try Capture.frame(1, of: "tcpdump__ipv4_invalid_total_length.pcap")
        let header = try IPv4Header(validating: frame.span.bytes.extracting(14...))
        #expect(header.totalLength == 85)
        #expect(header.isTruncated == true)
        #expect(header.payload.byteCount == 64)
    }

    /// The word-at-a-time header check agrees with RFC 1071's byte-pair sum
    /// (`InternetChecksum.verify`) on random headers of every length, 5 to 15 words, with the
    /// checksum right and with one bit flipped.
    @Test func headerChecksumAgreesWithTheGeneralSum() throws {
        var random = SeededGenerator(seed: 1071)
        for round in 0..<2_000 {
            let words = 5 + round % 11
            var header = (0..<(words * 4)).map { _ in UInt8.random(in: 0...255, using: &random) }
            header[0] = 0x40 | UInt8(words)
            header[2] = 0x05; header[3] = 0xDC  // total length 1500, at least the header
            header[10] = 0; header[11] = 0
            let checksum = header.withUnsafeBytes { InternetChecksum.checksum(RawSpan(_unsafeBytes: $0)) }
            header[10] = UInt8(checksum >> 8); header[11] = UInt8(checksum & 0xFF)
            if round % 2 == 1 {
                let bit = Int.random(in: 0..<(words * 32), using: &random)
                header[bit / 8] ^= 1 << (bit % 8)
                header[0] = 0x40 | UInt8(words)  // keep it a header of this length
            }
            let general = header.withUnsafeBytes { InternetChecksum.verify(RawSpan(_unsafeBytes: $0)) }
            let fast = try header.withUnsafeBytes { raw in try IPv4Header(validating: RawSpan(_unsafeBytes: raw)).isChecksumValid }
            #expect(fast == general, "round \(round), \(words) words")
            if round % 2 == 0 { #expect(fast) }
        }
    }
}
