import Testing
import Wire

/// ICMP for IPv4 (RFC 792).
struct ICMPv4Tests {
    /// zeek__chksums_merged.pcap frame 6, bytes 34..<42: an echo request without data
    /// (tshark: checksum 0xf7ff good).
    static let echoRequest: [UInt8] = [
        0x08,        // type 8 (echo request)
        0x00,        // code 0
        0xf7, 0xff,  // checksum 0xf7ff
        0x00, 0x00,  // identifier 0
        0x00, 0x00,  // sequence 0
    ]

    /// tcpdump__vxlan.pcap frame 1, bytes 84..<148: the inner echo request (tshark: id=0x050c,
    /// seq=1, checksum good), a header and 56 bytes of ping data.
    static let echoWithData: [UInt8] = [
        0x08,        // type 8 (echo request)
        0x00,        // code 0
        0xf6, 0xf2,  // checksum 0xf6f2
        0x05, 0x0c,  // identifier 0x050c
        0x00, 0x01,  // sequence 1
        // data: an 8-byte timestamp, then the bytes 0x08 ... 0x37 of Linux ping
        0xfc, 0xe2, 0x97, 0x51, 0x00, 0x00, 0x00, 0x00, 0xa6, 0xf8, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f,
        0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2a, 0x2b, 0x2c, 0x2d, 0x2e, 0x2f,
        0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37,
    ]

    /// zeek__icmp_icmp-destunreach-udp.pcap frame 1, bytes 34..<70: a port unreachable message
    /// and the start of its quote (the whole message, 156 bytes, runs to byte 190).
    static let portUnreachable: [UInt8] = [
        0x03,                    // type 3 (destination unreachable)
        0x03,                    // code 3 (port unreachable)
        0x03, 0xbb,              // checksum 0x03bb
        0x00, 0x00, 0x00, 0x00,  // unused
        // quote: the IPv4 header of the datagram that could not be delivered
        0x45, 0x00, 0x00, 0xa3,  // version 4, IHL 5, total length 163
        0x37, 0x11, 0x00, 0x00,  // identification, no flags
        0x40, 0x11, 0xbf, 0x81,  // TTL 64, UDP, checksum
        0xc0, 0xa8, 0x01, 0x01,  // source 192.168.1.1
        0xc0, 0xa8, 0x01, 0x66,  // destination 192.168.1.102
        // ... and its UDP header
        0x00, 0x35, 0xe7, 0x47,  // ports 53 → 59207
        0x00, 0x8f, 0x76, 0xd2,  // length 143, checksum
    ]

    @Test func fixturesAreFromCaptures() throws {
        #expect(Array(try Capture.frame(6, of: "zeek__chksums_merged.pcap")[34..<42]) == Self.echoRequest)
        #expect(Array(try Capture.frame(1, of: "tcpdump__vxlan.pcap")[84..<148]) == Self.echoWithData)
        #expect(Array(try Capture.frame(1, of: "zeek__icmp_icmp-destunreach-udp.pcap")[34..<70]) == Self.portUnreachable)
    }

    @Test func deconstruct() throws {
        let message = try ICMPv4Message(validating: Self.echoWithData.span.bytes)
        #expect(message.type == .echoRequest)
        #expect(message.type.rawValue == 8)
        #expect(message.code == 0)
        #expect(message.checksum == 0xf6f2)
        #expect(message.identifier == 0x050c)
        #expect(message.sequence == 1)
        #expect(message.restOfHeader == 0x050c_0001)
        #expect(message.isChecksumValid == true)
        #expect(message.data.byteCount == 56)
        #expect(message.data.u8(at: 55) == 0x37)
        #expect(message.type.isError == false)
    }

    @Test func deconstructError() throws {
        let message = try ICMPv4Message(validating: Self.portUnreachable.span.bytes)
        #expect(message.type == .destinationUnreachable)
        #expect(message.code == 3)
        #expect(message.type.isError == true)
        let quote = try IPv4Header(validating: message.data)
        #expect(quote.source == IPv4Address(192, 168, 1, 1))
        #expect(quote.destination == IPv4Address(192, 168, 1, 102))
        #expect(quote.protocol == .udp)
    }

    /// A fragmentation-needed message (type 3 code 4) carries the next-hop MTU (RFC 1191).
    @Test func deconstructFragmentationNeeded() throws {
        let bytes: [UInt8] = [
            0x03, 0x04,  // destination unreachable, fragmentation needed
            0x00, 0x00,  // checksum (not checked here)
            0x00, 0x00,  // unused
            0x05, 0xdc,  // next-hop MTU 1500
        ]
        let message = try ICMPv4Message(validating: bytes.span.bytes)
        #expect(message.nextHopMTU == 1500)
        #expect(message.isChecksumValid == false)
    }

    /// The whole message from the capture verifies; frame 7 of zeek__chksums_merged.pcap is
    /// the bad twin (checksum 0x000d).
    @Test func checksumVerification() throws {
        let unreachable = try Capture.frame(1, of: "zeek__icmp_icmp-destunreach-udp.pcap")
        #expect(try ICMPv4Message(validating: unreachable.span.bytes.extracting(34..<190)).isChecksumValid == true)
        let bad = try Capture.frame(7, of: "zeek__chksums_merged.pcap")
        let badMessage = try ICMPv4Message(validating: bad.span.bytes.extracting(34...))
        #expect(badMessage.checksum == 0x000d)
        #expect(badMessage.isChecksumValid == false)
        #expect(try ICMPv4Message(validating: Self.echoRequest.span.bytes).isChecksumValid == true)
    }

    @Test func parse() throws {
        #expect(ICMPv4Repr(try ICMPv4Message(validating: Self.echoRequest.span.bytes))
                == ICMPv4Repr.echo(reply: false, identifier: 0, sequence: 0))
        #expect(ICMPv4Repr(try ICMPv4Message(validating: Self.echoWithData.span.bytes))
                == ICMPv4Repr(type: .echoRequest, code: 0, restOfHeader: 0x050c_0001))
        #expect(ICMPv4Repr(try ICMPv4Message(validating: Self.portUnreachable.span.bytes))
                == ICMPv4Repr(type: .destinationUnreachable, code: 3))
    }

    /// The checksums the repr computes over header and data are the captures'.
    @Test func emit() throws {
        #expect(emitted(count: 8) { ICMPv4Repr.echo(reply: false, identifier: 0, sequence: 0).emit(into: &$0) }
                == Self.echoRequest)
        let withData = [UInt8](repeating: 0, count: 8) + Self.echoWithData[8...]
        #expect(emitted(over: withData) { ICMPv4Repr.echo(reply: false, identifier: 0x050c, sequence: 1).emit(into: &$0) }
                == Self.echoWithData)
        let unreachable = Array(try Capture.frame(1, of: "zeek__icmp_icmp-destunreach-udp.pcap")[34..<190])
        let quote = [UInt8](repeating: 0xee, count: 8) + unreachable[8...]  // stale header bytes are overwritten
        #expect(emitted(over: quote) { ICMPv4Repr(type: .destinationUnreachable, code: 3).emit(into: &$0) } == unreachable)
    }

    @Test func roundTrip() throws {
        let repr = ICMPv4Repr(type: .timeExceeded, code: 1, restOfHeader: 0xdead_beef)
        let bytes = emitted(over: [UInt8](repeating: 0x5a, count: 37)) { repr.emit(into: &$0) }  // odd length
        let message = try ICMPv4Message(validating: bytes.span.bytes)
        #expect(message.isChecksumValid == true)
        #expect(ICMPv4Repr(message) == repr)
    }

    @Test(arguments: 0..<8)
    func truncated(length: Int) {
        #expect(throws: WireError.truncated(needed: 8, available: length)) {
            _ = try ICMPv4Message(validating: Self.echoRequest.span.bytes.extracting(0..<length))
        }
    }

    @Test(arguments: [(0, false), (3, true), (4, true), (5, true), (8, false), (11, true), (12, true), (13, false)] as [(UInt8, Bool)])
    func errorTypes(type: UInt8, isError: Bool) {
        #expect(ICMPv4Type(rawValue: type).isError == isError)
    }
}
