import Testing
import Wire

/// The Linux cooked capture headers, SLL (LINKTYPE_LINUX_SLL) and SLL2 (LINKTYPE_LINUX_SLL2).
struct LinuxCookedTests {
    /// tcpdump__tcp-handshake-nano.pcap frame 1, bytes 0..<16 (tshark: packet type 4 "sent by
    /// us", ARPHRD 512 (PPP), address length 0, protocol IPv4).
    static let sll: [UInt8] = [
        0x00, 0x04,                                      // packet type 4 (sent by us)
        0x02, 0x00,                                      // ARPHRD type 512 (PPP)
        0x00, 0x00,                                      // link-layer address length 0
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  // address (unused)
        0x08, 0x00,                                      // protocol 0x0800 (IPv4)
    ]

    /// A hand-built SLL2 header, read by tshark (text2pcap -l 276) as protocol IPv4, interface
    /// index 2, ARPHRD 1 (Ethernet), packet type 0 (unicast to us), source 02:00:00:00:00:01.
    static let sll2: [UInt8] = [
        0x08, 0x00,                                      // protocol 0x0800 (IPv4)
        0x00, 0x00,                                      // reserved
        0x00, 0x00, 0x00, 0x02,                          // interface index 2
        0x00, 0x01,                                      // ARPHRD type 1 (Ethernet)
        0x00,                                            // packet type 0 (to us)
        0x06,                                            // address length 6
        0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00,  // address 02:00:00:00:00:01, padded to 8
    ]

    @Test func fixtureIsFromCapture() throws {
        #expect(Array(try Capture.frame(1, of: "tcpdump__tcp-handshake-nano.pcap")[0..<16]) == Self.sll)
    }

    @Test func deconstructSLL() throws {
        let header = try LinuxCookedHeader(validating: Self.sll.span.bytes, version2: false)
        #expect(header.isVersion2 == false)
        #expect(header.headerLength == 16)
        #expect(header.protocolType == .ipv4)
    }

    @Test func deconstructSLL2() throws {
        let header = try LinuxCookedHeader(validating: Self.sll2.span.bytes, version2: true)
        #expect(header.isVersion2 == true)
        #expect(header.headerLength == 20)
        #expect(header.protocolType == .ipv4)
    }

    /// The protocol field is where each version puts it: an IPv6 SLL2 header read as SLL
    /// would find bytes 14..<16 instead.
    @Test func protocolFieldPosition() throws {
        var bytes = Self.sll2
        bytes[0] = 0x86
        bytes[1] = 0xdd
        #expect(try LinuxCookedHeader(validating: bytes.span.bytes, version2: true).protocolType == .ipv6)
        #expect(try LinuxCookedHeader(validating: bytes.span.bytes, version2: false).protocolType.rawValue == 0x0000)
    }

    @Test(arguments: 0..<16)
    func truncatedSLL(length: Int) {
        #expect(throws: WireError.truncated(needed: 16, available: length)) {
            _ = try LinuxCookedHeader(validating: Self.sll.span.bytes.extracting(0..<length), version2: false)
        }
    }

    @Test(arguments: 0..<20)
    func truncatedSLL2(length: Int) {
        #expect(throws: WireError.truncated(needed: 20, available: length)) {
            _ = try LinuxCookedHeader(validating: Self.sll2.span.bytes.extracting(0..<length), version2: true)
        }
    }
}
