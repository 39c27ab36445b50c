import Testing
import Wire

/// TCP (RFC 9293).
struct TCPTests {
    /// tcpdump__dns_tcp.pcap frame 1, bytes 34..<74: a SYN with options (data offset 10),
    /// 192.168.1.11 → 209.87.249.18 (tshark: checksum 0x0c41 good).
    static let syn: [UInt8] = [
        0x83, 0xf3,              // source port 33779
        0x00, 0x35,              // destination port 53
        0x23, 0xfe, 0xc8, 0x0c,  // sequence number 603899916
        0x00, 0x00, 0x00, 0x00,  // acknowledgment number 0
        0xa0,                    // data offset 10 (40 bytes), reserved 0, AE 0
        0x02,                    // flags: SYN
        0xfa, 0xf0,              // window 64240
        0x0c, 0x41,              // checksum 0x0c41
        0x00, 0x00,              // urgent pointer 0
        0x02, 0x04, 0x05, 0xb4,  // option: MSS 1460
        0x04, 0x02,              // option: SACK permitted
        0x08, 0x0a, 0x79, 0xe2, 0xca, 0x9a, 0x00, 0x00, 0x00, 0x00,  // option: timestamps 2044906138, 0
        0x01,                    // option: NOP
        0x03, 0x03, 0x07,        // option: window scale 7
    ]

    static let synRepr = TCPRepr(
        sourcePort: 33779, destinationPort: 53, sequence: 603_899_916, acknowledgment: 0, flags: .syn,
        window: 64240, urgentPointer: 0, options: Array(syn[20...]))

    static var synPseudoHeaderSum: UInt16 {
        InternetChecksum.pseudoHeaderSum(source: IPv4Address(192, 168, 1, 11), destination: IPv4Address(209, 87, 249, 18),
                                         protocol: .tcp, length: 40)
    }

    /// A hand-built SYN with the ECN setup flags and AE, 10.0.0.1 → 10.0.0.2. tshark:
    /// tcp.flags 0x1c2 (AE, CWR, ECE, SYN), checksum 0xfd8e correct.
    static let ecnSyn: [UInt8] = [
        0x9c, 0x40,              // source port 40000
        0x00, 0x50,              // destination port 80
        0x00, 0x00, 0x00, 0x01,  // sequence number 1
        0x00, 0x00, 0x00, 0x00,  // acknowledgment number 0
        0x51,                    // data offset 5, reserved 0, AE 1
        0xc2,                    // flags: CWR, ECE, SYN
        0xff, 0xff,              // window 65535
        0xfd, 0x8e,              // checksum 0xfd8e
        0x00, 0x00,              // urgent pointer 0
    ]

    @Test func fixtureIsFromCapture() throws {
        #expect(Array(try Capture.frame(1, of: "tcpdump__dns_tcp.pcap")[34...]) == Self.syn)
    }

    @Test func deconstruct() throws {
        let tcp = try TCPHeader(validating: Self.syn.span.bytes)
        #expect(tcp.sourcePort == 33779)
        #expect(tcp.destinationPort == 53)
        #expect(tcp.sequence == 603_899_916)
        #expect(tcp.acknowledgment == 0)
        #expect(tcp.headerLength == 40)
        #expect(tcp.flags == .syn)
        #expect(tcp.flags.rawValue == 0x002)
        #expect(tcp.window == 64240)
        #expect(tcp.checksum == 0x0c41)
        #expect(tcp.urgentPointer == 0)
        #expect(tcp.options.byteCount == 20)
        #expect(tcp.options.u8(at: 0) == 2)   // MSS kind
        #expect(tcp.options.u16(at: 2) == 1460)
        #expect(tcp.payload.byteCount == 0)
        #expect(tcp.isChecksumValid(pseudoHeaderSum: Self.synPseudoHeaderSum) == true)
    }

    @Test func deconstructECNFlags() throws {
        let tcp = try TCPHeader(validating: Self.ecnSyn.span.bytes)
        #expect(tcp.headerLength == 20)
        #expect(tcp.flags == [.ae, .cwr, .ece, .syn])
        #expect(tcp.flags.hexDescription == "0x1c2")
        let sum = InternetChecksum.pseudoHeaderSum(source: IPv4Address(10, 0, 0, 1), destination: IPv4Address(10, 0, 0, 2),
                                                   protocol: .tcp, length: 20)
        #expect(tcp.isChecksumValid(pseudoHeaderSum: sum) == true)
    }

    /// Every segment of tcpdump__dns_tcp.pcap: flags, header length, sequence and
    /// acknowledgment numbers and window as tshark prints them (tcp.flags, tcp.hdr_len,
    /// tcp.seq_raw, tcp.ack_raw, tcp.window_size_value), and the checksum, which tshark
    /// reports good for all eleven.
    @Test(arguments: [
        (1, 0x002, 40, 603_899_916, 0, 64240),
        (2, 0x012, 24, 2_043_824_403, 603_899_917, 64240),
        (3, 0x010, 20, 603_899_917, 2_043_824_404, 64240),
        (4, 0x018, 20, 603_899_917, 2_043_824_404, 64240),
        (5, 0x010, 20, 2_043_824_404, 603_899_975, 64240),
        (6, 0x018, 20, 2_043_824_404, 603_899_975, 64240),
        (7, 0x010, 20, 603_899_975, 2_043_824_630, 64014),
        (8, 0x011, 20, 603_899_975, 2_043_824_630, 64014),
        (9, 0x010, 20, 2_043_824_630, 603_899_976, 64239),
        (10, 0x019, 20, 2_043_824_630, 603_899_976, 64239),
        (11, 0x010, 20, 603_899_976, 2_043_824_631, 64014),
    ] as [(Int, UInt16, Int, UInt32, UInt32, UInt16)])
    func dnsConnection(frame number: Int, flags: UInt16, headerLength: Int, sequence: UInt32,
                       acknowledgment: UInt32, window: UInt16) throws {
        let frame = try Capture.frame(number, of: "tcpdump__dns_tcp.pcap")
        // The IPv4 header (IHL 5) gives the addresses and where the segment ends (before padding).
        let totalLength = Int(frame[16]) << 8 | Int(frame[17])
        let segment = Array(frame[34..<(14 + totalLength)])
        let tcp = try TCPHeader(validating: segment.span.bytes)
        #expect(tcp.flags.rawValue == flags)
        #expect(tcp.headerLength == headerLength)
        #expect(tcp.sequence == sequence)
        #expect(tcp.acknowledgment == acknowledgment)
        #expect(tcp.window == window)
        let source = IPv4Address(frame[26], frame[27], frame[28], frame[29])
        let destination = IPv4Address(frame[30], frame[31], frame[32], frame[33])
        let sum = InternetChecksum.pseudoHeaderSum(source: source, destination: destination, protocol: .tcp,
                                                   length: segment.count)
        #expect(tcp.isChecksumValid(pseudoHeaderSum: sum) == true)
    }

    /// zeek__chksums_merged.pcap: frame 2 (IPv4) and 8 (IPv6) are good, 3 and 9 their bad twins.
    @Test(arguments: [(2, 34, true), (3, 34, false), (8, 54, true), (9, 54, false)])
    func checksumVerification(frame number: Int, offset: Int, good: Bool) throws {
        let frame = try Capture.frame(number, of: "zeek__chksums_merged.pcap")
        let tcp = try TCPHeader(validating: frame.span.bytes.extracting(offset...))
        let sum = offset == 34
            ? InternetChecksum.pseudoHeaderSum(source: IPv4Address(127, 0, 0, 1), destination: IPv4Address(127, 0, 0, 1),
                                               protocol: .tcp, length: 20)
            : InternetChecksum.pseudoHeaderSum(
                source: IPv6Address(groups: [0x2001, 0x04f8, 0x0004, 0x0007, 0x02e0, 0x81ff, 0xfe52, 0xffff]),
                destination: IPv6Address(groups: [0x2001, 0x04f8, 0x0004, 0x0007, 0x02e0, 0x81ff, 0xfe52, 0x9a6b]),
                protocol: .tcp, length: 20)
        #expect(tcp.isChecksumValid(pseudoHeaderSum: sum) == good)
    }

    @Test func parse() throws {
        #expect(TCPRepr(try TCPHeader(validating: Self.syn.span.bytes)) == Self.synRepr)
        #expect(TCPRepr(try TCPHeader(validating: Self.ecnSyn.span.bytes)) == TCPRepr(
            sourcePort: 40000, destinationPort: 80, sequence: 1, flags: [.ae, .cwr, .ece, .syn], window: 65535))
    }

    /// The data offset and checksum the repr computes are the capture's.
    @Test func emit() {
        #expect(emitted(count: 40) { Self.synRepr.emit(into: &$0, pseudoHeaderSum: Self.synPseudoHeaderSum) } == Self.syn)
        let ecn = TCPRepr(sourcePort: 40000, destinationPort: 80, sequence: 1, flags: [.ae, .cwr, .ece, .syn], window: 65535)
        let sum = InternetChecksum.pseudoHeaderSum(source: IPv4Address(10, 0, 0, 1), destination: IPv4Address(10, 0, 0, 2),
                                                   protocol: .tcp, length: 20)
        #expect(emitted(count: 20) { ecn.emit(into: &$0, pseudoHeaderSum: sum) } == Self.ecnSyn)
    }

    /// A segment with data: tcpdump__dns_tcp.pcap frame 4, the DNS query (58 bytes of data).
    @Test func emitWithData() throws {
        let frame = try Capture.frame(4, of: "tcpdump__dns_tcp.pcap")
        let segment = Array(frame[34...])
        #expect(segment.count == 78)
        let repr = TCPRepr(sourcePort: 33779, destinationPort: 53, sequence: 603_899_917, acknowledgment: 2_043_824_404,
                           flags: [.psh, .ack], window: 64240)
        let sum = InternetChecksum.pseudoHeaderSum(source: IPv4Address(192, 168, 1, 11),
                                                   destination: IPv4Address(209, 87, 249, 18), protocol: .tcp, length: 78)
        let rebuilt = emitted(over: [UInt8](repeating: 0, count: 20) + segment[20...]) { repr.emit(into: &$0, pseudoHeaderSum: sum) }
        #expect(rebuilt == segment)
    }

    @Test func roundTrip() throws {
        let repr = TCPRepr(sourcePort: 1, destinationPort: 65535, sequence: 0xffff_ffff, acknowledgment: 0x8000_0001,
                           flags: [.fin, .rst, .urg, .ae], window: 0, urgentPointer: 0x1234,
                           options: [0x01, 0x01, 0x01, 0x00])
        let bytes = emitted(over: [UInt8](repeating: 0x77, count: 31)) { repr.emit(into: &$0, pseudoHeaderSum: 0xabcd) }
        let tcp = try TCPHeader(validating: bytes.span.bytes)
        #expect(tcp.payload.byteCount == 7)
        #expect(tcp.isChecksumValid(pseudoHeaderSum: 0xabcd) == true)
        #expect(TCPRepr(tcp) == repr)
    }

    /// The three reserved bits stay in the 12-bit flags value (as in Wireshark's tcp.flags)
    /// but are none of the named flags, and do not change the data offset.
    @Test func reservedBitsStayInTheRawFlags() throws {
        var bytes = Self.ecnSyn
        bytes[12] = 0x5e  // data offset 5, reserved 111, AE 0
        let tcp = try TCPHeader(validating: bytes.span.bytes)
        #expect(tcp.flags.rawValue == 0xec2)
        #expect(tcp.flags.contains(.ae) == false)
        #expect(tcp.headerLength == 20)
    }

    @Test(arguments: 0..<20)
    func truncated(length: Int) {
        #expect(throws: WireError.truncated(needed: 20, available: length)) {
            _ = try TCPHeader(validating: Self.ecnSyn.span.bytes.extracting(0..<length))
        }
    }

    /// Data offset 10: the fixed 20 bytes, then all 40.
    @Test(arguments: 0..<40)
    func truncatedOptions(length: Int) {
        let needed = length < 20 ? 20 : 40
        #expect(throws: WireError.truncated(needed: needed, available: length)) {
            _ = try TCPHeader(validating: Self.syn.span.bytes.extracting(0..<length))
        }
    }

    @Test(arguments: 0...4)
    func badDataOffset(dataOffset: UInt8) {
        var bytes = Self.syn
        bytes[12] = dataOffset << 4
        #expect(throws: WireError.badHeaderLength(Int(dataOffset) * 4)) {
            _ = try TCPHeader(validating: bytes.span.bytes)
        }
    }
}
