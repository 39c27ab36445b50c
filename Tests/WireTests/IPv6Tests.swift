import Testing
import Wire

/// IPv6 (RFC 8200) and the extension headers Pier walks (RFC 8200 §4).
struct IPv6Tests {
    /// zeek__chksums_merged.pcap frame 8, bytes 14..<54: the header of a TCP SYN.
    static let header: [UInt8] = [
        0x60, 0x00, 0x00, 0x00,  // version 6, traffic class 0, flow label 0
        0x00, 0x14,              // payload length 20
        0x06,                    // next header 6 (TCP)
        0x40,                    // hop limit 64
        0x20, 0x01, 0x04, 0xf8, 0x00, 0x04, 0x00, 0x07,  // source 2001:4f8:4:7:
        0x02, 0xe0, 0x81, 0xff, 0xfe, 0x52, 0xff, 0xff,  //   2e0:81ff:fe52:ffff
        0x20, 0x01, 0x04, 0xf8, 0x00, 0x04, 0x00, 0x07,  // destination 2001:4f8:4:7:
        0x02, 0xe0, 0x81, 0xff, 0xfe, 0x52, 0x9a, 0x6b,  //   2e0:81ff:fe52:9a6b
    ]

    static let headerRepr = IPv6Repr(
        source: IPv6Address(groups: [0x2001, 0x04f8, 0x0004, 0x0007, 0x02e0, 0x81ff, 0xfe52, 0xffff]),
        destination: IPv6Address(groups: [0x2001, 0x04f8, 0x0004, 0x0007, 0x02e0, 0x81ff, 0xfe52, 0x9a6b]),
        nextHeader: .tcp, payloadLength: 20, hopLimit: 64)

    /// A hand-built MLD-style packet: traffic class and flow label set, a hop-by-hop header
    /// (Router Alert, PadN), a fragment header (first fragment, more to come), then UDP.
    /// tshark reads traffic class 0xab, flow label 0xcdef0, payload length 28, Router Alert
    /// (MLD) and PadN options, fragment offset 0, M=1, identification 0x12345678, UDP 5000 → 6000.
    static let withExtensions: [UInt8] = [
        0x6a, 0xbc, 0xde, 0xf0,  // version 6, traffic class 0xab, flow label 0xcdef0
        0x00, 0x1c,              // payload length 28
        0x00,                    // next header 0 (hop-by-hop options)
        0x01,                    // hop limit 1
        0xfe, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  // source fe80::1
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
        0xff, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  // destination ff02::16
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x16,
        // hop-by-hop options, offset 40
        0x2c,                    // next header 44 (fragment)
        0x00,                    // header extension length 0 (8 bytes)
        0x05, 0x02, 0x00, 0x00,  // option: Router Alert, length 2, value 0 (MLD)
        0x01, 0x00,              // option: PadN, length 0
        // fragment header, offset 48
        0x11,                    // next header 17 (UDP)
        0x00,                    // reserved
        0x00, 0x01,              // fragment offset 0, M = 1
        0x12, 0x34, 0x56, 0x78,  // identification 0x12345678
        // UDP, offset 56
        0x13, 0x88, 0x17, 0x70,  // ports 5000 → 6000
        0x00, 0x0c, 0xd3, 0x3d,  // length 12, checksum
        0x01, 0x02, 0x03, 0x04,  // data
    ]
    static var hopByHop: [UInt8] { Array(withExtensions[40..<48]) }
    static var fragment: [UInt8] { Array(withExtensions[48..<56]) }

    /// A 16-byte destination options header (header extension length 1).
    static let destinationOptions: [UInt8] = [
        0x3b,                                // next header 59 (no next header)
        0x01,                                // header extension length 1 (16 bytes)
        0x01, 0x0c,                          // option: PadN, length 12
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  // 12 bytes of padding
    ]

    /// A routing header: type 4 (segment routing), 2 segments left, header extension length 2.
    static let routing: [UInt8] = [
        0x06,                    // next header 6 (TCP)
        0x02,                    // header extension length 2 (24 bytes)
        0x04,                    // routing type 4
        0x02,                    // segments left 2
        0x01, 0x00, 0x00, 0x00,  // last entry, flags, tag
        0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00,  // segment 2001:db8::1
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
    ]

    @Test func fixtureIsFromCapture() throws {
        #expect(Array(try Capture.frame(8, of: "zeek__chksums_merged.pcap")[14..<54]) == Self.header)
    }

    @Test func deconstruct() throws {
        let ip = try IPv6Header(validating: Self.header.span.bytes)
        #expect(ip.trafficClass == 0)
        #expect(ip.flowLabel == 0)
        #expect(ip.payloadLength == 20)
        #expect(ip.nextHeader == .tcp)
        #expect(ip.hopLimit == 64)
        #expect(ip.source == IPv6Address(high: 0x2001_04f8_0004_0007, low: 0x02e0_81ff_fe52_ffff))
        #expect(ip.destination == IPv6Address(high: 0x2001_04f8_0004_0007, low: 0x02e0_81ff_fe52_9a6b))
        #expect(ip.isTruncated == true)  // the 20 payload bytes are not in the fixture
        #expect(ip.payload.byteCount == 0)
    }

    @Test func deconstructClassAndFlow() throws {
        let ip = try IPv6Header(validating: Self.withExtensions.span.bytes)
        #expect(ip.trafficClass == 0xab)
        #expect(ip.flowLabel == 0xcdef0)
        #expect(ip.payloadLength == 28)
        #expect(ip.nextHeader == .hopByHop)
        #expect(ip.hopLimit == 1)
        #expect(ip.isTruncated == false)
        #expect(ip.payload.byteCount == 28)
    }

    @Test func deconstructExtensionChain() throws {
        let ip = try IPv6Header(validating: Self.withExtensions.span.bytes)
        let hopByHop = try IPv6ExtensionHeader(validating: ip.payload, kind: ip.nextHeader)
        #expect(hopByHop.kind == .hopByHop)
        #expect(hopByHop.length == 8)
        #expect(hopByHop.nextHeader == .fragment)
        let fragment = try IPv6ExtensionHeader(validating: hopByHop.payload, kind: hopByHop.nextHeader)
        #expect(fragment.kind == .fragment)
        #expect(fragment.length == 8)
        #expect(fragment.nextHeader == .udp)
        #expect(fragment.fragmentOffset == 0)
        #expect(fragment.moreFragments == true)
        #expect(fragment.identification == 0x1234_5678)
        let udp = try UDPHeader(validating: fragment.payload)
        #expect(udp.sourcePort == 5000)
        #expect(udp.destinationPort == 6000)
    }

    @Test func deconstructLaterFragment() throws {
        // Offset 185 (1480 bytes), M = 0: 185 << 3 = 0x05c8.
        let bytes: [UInt8] = [0x11, 0x00, 0x05, 0xc8, 0xca, 0xfe, 0xf0, 0x0d]
        let fragment = try IPv6ExtensionHeader(validating: bytes.span.bytes, kind: .fragment)
        #expect(fragment.fragmentOffset == 185)
        #expect(fragment.moreFragments == false)
        #expect(fragment.identification == 0xcafe_f00d)
    }

    @Test func deconstructRoutingAndDestinationOptions() throws {
        let routing = try IPv6ExtensionHeader(validating: Self.routing.span.bytes, kind: .routing)
        #expect(routing.length == 24)
        #expect(routing.routingType == 4)
        #expect(routing.segmentsLeft == 2)
        #expect(routing.nextHeader == .tcp)
        let options = try IPv6ExtensionHeader(validating: Self.destinationOptions.span.bytes, kind: .destinationOptions)
        #expect(options.length == 16)
        #expect(options.nextHeader == .noNextHeader)
        #expect(options.payload.byteCount == 0)
    }

    @Test func parse() throws {
        #expect(IPv6Repr(try IPv6Header(validating: Self.header.span.bytes)) == Self.headerRepr)
        #expect(IPv6Repr(try IPv6Header(validating: Self.withExtensions.span.bytes)) == IPv6Repr(
            source: IPv6Address(groups: [0xfe80, 0, 0, 0, 0, 0, 0, 1]),
            destination: IPv6Address(groups: [0xff02, 0, 0, 0, 0, 0, 0, 0x16]),
            nextHeader: .hopByHop, payloadLength: 28, hopLimit: 1, trafficClass: 0xab, flowLabel: 0xcdef0))
    }

    @Test func parseExtensions() throws {
        let hopByHop = try IPv6ExtensionHeader(validating: Self.hopByHop.span.bytes, kind: .hopByHop)
        #expect(IPv6ExtensionRepr(hopByHop) == IPv6ExtensionRepr(
            kind: .hopByHop, nextHeader: .fragment, body: [0x05, 0x02, 0x00, 0x00, 0x01, 0x00]))
        let fragment = try IPv6ExtensionHeader(validating: Self.fragment.span.bytes, kind: .fragment)
        #expect(IPv6ExtensionRepr(fragment) == IPv6ExtensionRepr(
            fragmentOffset: 0, moreFragments: true, identification: 0x1234_5678, nextHeader: .udp))
    }

    @Test func emit() {
        #expect(emitted(count: 40) { Self.headerRepr.emit(into: &$0) } == Self.header)
        let classAndFlow = IPv6Repr(
            source: IPv6Address(groups: [0xfe80, 0, 0, 0, 0, 0, 0, 1]),
            destination: IPv6Address(groups: [0xff02, 0, 0, 0, 0, 0, 0, 0x16]),
            nextHeader: .hopByHop, payloadLength: 28, hopLimit: 1, trafficClass: 0xab, flowLabel: 0xcdef0)
        #expect(emitted(count: 40) { classAndFlow.emit(into: &$0) } == Array(Self.withExtensions[0..<40]))
    }

    @Test func emitExtensions() {
        let hopByHop = IPv6ExtensionRepr(kind: .hopByHop, nextHeader: .fragment, body: [0x05, 0x02, 0x00, 0x00, 0x01, 0x00])
        #expect(emitted(count: 8) { hopByHop.emit(into: &$0) } == Self.hopByHop)
        let fragment = IPv6ExtensionRepr(fragmentOffset: 0, moreFragments: true, identification: 0x1234_5678, nextHeader: .udp)
        #expect(emitted(count: 8) { fragment.emit(into: &$0) } == Self.fragment)
        let later = IPv6ExtensionRepr(fragmentOffset: 185, moreFragments: false, identification: 0xcafe_f00d, nextHeader: .udp)
        #expect(emitted(count: 8) { later.emit(into: &$0) } == [0x11, 0x00, 0x05, 0xc8, 0xca, 0xfe, 0xf0, 0x0d])
        let options = IPv6ExtensionRepr(kind: .destinationOptions, nextHeader: .noNextHeader,
                                        body: Array(Self.destinationOptions[2...]))
        #expect(emitted(count: 16) { options.emit(into: &$0) } == Self.destinationOptions)
    }

    @Test func roundTrip() throws {
        let repr = IPv6Repr(source: IPv6Address("2001:db8::1")!, destination: IPv6Address("2001:db8::2")!,
                            nextHeader: .udp, payloadLength: 65535, hopLimit: 255, trafficClass: 0xff, flowLabel: 0xF_FFFF)
        let bytes = emitted(count: 40) { repr.emit(into: &$0) }
        #expect(IPv6Repr(try IPv6Header(validating: bytes.span.bytes)) == repr)
        let routing = IPv6ExtensionRepr(kind: .routing, nextHeader: .tcp, body: Array(Self.routing[2...]))
        let routingBytes = emitted(count: 24) { routing.emit(into: &$0) }
        #expect(routingBytes == Self.routing)
        #expect(IPv6ExtensionRepr(try IPv6ExtensionHeader(validating: routingBytes.span.bytes, kind: .routing)) == routing)
    }

    @Test(arguments: 0..<40)
    func truncated(length: Int) {
        #expect(throws: WireError.truncated(needed: 40, available: length)) {
            _ = try IPv6Header(validating: Self.header.span.bytes.extracting(0..<length))
        }
    }

    @Test(arguments: 0..<8)
    func truncatedFragment(length: Int) {
        #expect(throws: WireError.truncated(needed: 8, available: length)) {
            _ = try IPv6ExtensionHeader(validating: Self.fragment.span.bytes.extracting(0..<length), kind: .fragment)
        }
    }

    @Test(arguments: 0..<8)
    func truncatedHopByHop(length: Int) {
        #expect(throws: WireError.truncated(needed: 8, available: length)) {
            _ = try IPv6ExtensionHeader(validating: Self.hopByHop.span.bytes.extracting(0..<length), kind: .hopByHop)
        }
    }

    /// Header extension length 1: 8 bytes to read it, then all 16.
    @Test(arguments: 0..<16)
    func truncatedDestinationOptions(length: Int) {
        let needed = length < 8 ? 8 : 16
        #expect(throws: WireError.truncated(needed: needed, available: length)) {
            _ = try IPv6ExtensionHeader(validating: Self.destinationOptions.span.bytes.extracting(0..<length),
                                        kind: .destinationOptions)
        }
    }

    /// Header extension length 2: 8 bytes, then all 24.
    @Test(arguments: 0..<24)
    func truncatedRouting(length: Int) {
        let needed = length < 8 ? 8 : 24
        #expect(throws: WireError.truncated(needed: needed, available: length)) {
            _ = try IPv6ExtensionHeader(validating: Self.routing.span.bytes.extracting(0..<length), kind: .routing)
        }
    }

    /// The fragment header is 8 bytes whatever its second byte says.
    @Test func fragmentLengthIgnoresTheReservedByte() throws {
        var bytes = Self.fragment
        bytes[1] = 0xff
        let fragment = try IPv6ExtensionHeader(validating: bytes.span.bytes, kind: .fragment)
        #expect(fragment.length == 8)
    }

    @Test(arguments: [0x00, 0x40, 0x45, 0x70, 0xf0] as [UInt8])
    func badVersion(first: UInt8) {
        var bytes = Self.header
        bytes[0] = first
        #expect(throws: WireError.badVersion(first >> 4)) {
            _ = try IPv6Header(validating: bytes.span.bytes)
        }
    }

    /// A payload length beyond the bytes is accepted; the payload stops at the bytes present.
    @Test func payloadLengthBeyondTheBytes() throws {
        let frame = try Capture.frame(8, of: "zeek__chksums_merged.pcap")
        let whole = try IPv6Header(validating: frame.span.bytes.extracting(14...))
        #expect(whole.isTruncated == false)
        #expect(whole.payload.byteCount == 20)
        let cut = try IPv6Header(validating: frame.span.bytes.extracting(14..<64))
        #expect(cut.isTruncated == true)
        #expect(cut.payload.byteCount == 10)
    }

    @Test func extensionKinds() {
        #expect(IPProtocol.hopByHop.isIPv6Extension && IPProtocol.routing.isIPv6Extension)
        #expect(IPProtocol.fragment.isIPv6Extension && IPProtocol.destinationOptions.isIPv6Extension)
        #expect(!IPProtocol.tcp.isIPv6Extension && !IPProtocol.noNextHeader.isIPv6Extension)
    }
}
