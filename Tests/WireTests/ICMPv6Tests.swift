import Testing
import Wire

/// ICMP for IPv6 (RFC 4443).
struct ICMPv6Tests {
    /// zeek__chksums_merged.pcap frame 12, bytes 54..<69: an echo request with 7 bytes of data,
    /// an odd length (tshark: checksum 0x54cf good).
    static let echoRequest: [UInt8] = [
        0x80,                                // type 128 (echo request)
        0x00,                                // code 0
        0x54, 0xcf,                          // checksum 0x54cf
        0x00, 0x00,                          // identifier 0
        0x00, 0x00,                          // sequence 0
        0x77, 0x70, 0x44, 0x46, 0x4e, 0x57, 0x36,  // data "wpDFNW6"
    ]

    /// The addresses of that packet's IPv6 header.
    static let source = IPv6Address(groups: [0x2001, 0x04f8, 0x0004, 0x0007, 0x02e0, 0x81ff, 0xfe52, 0xffff])
    static let destination = IPv6Address(groups: [0x2001, 0x04f8, 0x0004, 0x0007, 0x02e0, 0x81ff, 0xfe52, 0x9a6b])

    static var pseudoHeaderSum: UInt16 {
        InternetChecksum.pseudoHeaderSum(source: source, destination: destination, protocol: .icmpv6, length: 15)
    }

    /// A packet-too-big error (type 2) announcing an MTU of 1280.
    static let packetTooBig: [UInt8] = [
        0x02,                    // type 2 (packet too big)
        0x00,                    // code 0
        0x00, 0x00,              // checksum (not checked here)
        0x00, 0x00, 0x05, 0x00,  // MTU 1280
        0x60, 0x00, 0x00, 0x00,  // start of the quoted IPv6 header
    ]

    @Test func fixtureIsFromCapture() throws {
        let frame = try Capture.frame(12, of: "zeek__chksums_merged.pcap")
        #expect(Array(frame[54...]) == Self.echoRequest)
        #expect(Array(frame[22..<38]) == Self.source.groups.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] })
        #expect(Array(frame[38..<54]) == Self.destination.groups.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] })
    }

    @Test func deconstruct() throws {
        let message = try ICMPv6Message(validating: Self.echoRequest.span.bytes)
        #expect(message.type == 128)
        #expect(message.code == 0)
        #expect(message.checksum == 0x54cf)
        #expect(message.identifier == 0)
        #expect(message.sequence == 0)
        #expect(message.restOfHeader == 0)
        #expect(message.isError == false)
        #expect(message.data.byteCount == 7)
        #expect(message.data.u8(at: 0) == 0x77)  // "w"
        #expect(message.isChecksumValid(pseudoHeaderSum: Self.pseudoHeaderSum) == true)
    }

    @Test func deconstructError() throws {
        let message = try ICMPv6Message(validating: Self.packetTooBig.span.bytes)
        #expect(message.type == 2)
        #expect(message.isError == true)
        #expect(message.restOfHeader == 1280)
        #expect(message.data.byteCount == 4)
    }

    /// Frame 13 is the bad twin: checksum 0x000d.
    @Test func checksumVerification() throws {
        let bad = try Capture.frame(13, of: "zeek__chksums_merged.pcap")
        let message = try ICMPv6Message(validating: bad.span.bytes.extracting(54...))
        #expect(message.checksum == 0x000d)
        #expect(message.isChecksumValid(pseudoHeaderSum: Self.pseudoHeaderSum) == false)
        // The right bytes with the wrong pseudo-header (another destination) do not verify either.
        let elsewhere = InternetChecksum.pseudoHeaderSum(source: Self.source, destination: Self.source,
                                                         protocol: .icmpv6, length: 15)
        #expect(try ICMPv6Message(validating: Self.echoRequest.span.bytes).isChecksumValid(pseudoHeaderSum: elsewhere) == false)
    }

    @Test func parse() throws {
        #expect(ICMPv6Repr(try ICMPv6Message(validating: Self.echoRequest.span.bytes))
                == ICMPv6Repr(type: ICMPv6Repr.echoRequest, code: 0, restOfHeader: 0))
        #expect(ICMPv6Repr(try ICMPv6Message(validating: Self.packetTooBig.span.bytes))
                == ICMPv6Repr(type: 2, code: 0, restOfHeader: 1280))
    }

    @Test func emit() {
        let data = [UInt8](repeating: 0, count: 8) + Self.echoRequest[8...]
        let bytes = emitted(over: data) {
            ICMPv6Repr(type: ICMPv6Repr.echoRequest, code: 0).emit(into: &$0, pseudoHeaderSum: Self.pseudoHeaderSum)
        }
        #expect(bytes == Self.echoRequest)
    }

    @Test func roundTrip() throws {
        let repr = ICMPv6Repr(type: ICMPv6Repr.echoReply, code: 0, restOfHeader: 0x1234_0007)
        let sum = InternetChecksum.pseudoHeaderSum(source: IPv6Address("fe80::1")!, destination: IPv6Address("fe80::2")!,
                                                   protocol: .icmpv6, length: 20)
        let bytes = emitted(over: [UInt8](repeating: 0xa5, count: 20)) { repr.emit(into: &$0, pseudoHeaderSum: sum) }
        let message = try ICMPv6Message(validating: bytes.span.bytes)
        #expect(message.isChecksumValid(pseudoHeaderSum: sum) == true)
        #expect(ICMPv6Repr(message) == repr)
    }

    @Test(arguments: 0..<8)
    func truncated(length: Int) {
        #expect(throws: WireError.truncated(needed: 8, available: length)) {
            _ = try ICMPv6Message(validating: Self.echoRequest.span.bytes.extracting(0..<length))
        }
    }
}
