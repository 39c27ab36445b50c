import Testing
import Wire

/// ARP (RFC 826).
struct ARPTests {
    /// tcpdump__802.1ad_QinQ.pcap frame 1, bytes 22..<50: "Who has 172.21.79.100? Tell 172.21.79.97".
    static let request: [UInt8] = [
        0x00, 0x01,                          // hardware type 1 (Ethernet)
        0x08, 0x00,                          // protocol type 0x0800 (IPv4)
        0x06,                                // hardware size 6
        0x04,                                // protocol size 4
        0x00, 0x01,                          // operation 1 (request)
        0x00, 0x20, 0xd2, 0x5a, 0xfb, 0x3f,  // sender MAC 00:20:d2:5a:fb:3f
        0xac, 0x15, 0x4f, 0x61,              // sender IP 172.21.79.97
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  // target MAC 00:00:00:00:00:00
        0xac, 0x15, 0x4f, 0x64,              // target IP 172.21.79.100
    ]

    /// tcpdump__802.1ad_QinQ.pcap frame 2, bytes 22..<50: "172.21.79.100 is at 00:80:ea:81:88:63".
    static let reply: [UInt8] = [
        0x00, 0x01,                          // hardware type 1 (Ethernet)
        0x08, 0x00,                          // protocol type 0x0800 (IPv4)
        0x06,                                // hardware size 6
        0x04,                                // protocol size 4
        0x00, 0x02,                          // operation 2 (reply)
        0x00, 0x80, 0xea, 0x81, 0x88, 0x63,  // sender MAC 00:80:ea:81:88:63
        0xac, 0x15, 0x4f, 0x64,              // sender IP 172.21.79.100
        0x00, 0x20, 0xd2, 0x5a, 0xfb, 0x3f,  // target MAC 00:20:d2:5a:fb:3f
        0xac, 0x15, 0x4f, 0x61,              // target IP 172.21.79.97
    ]

    /// tcpdump__arp-too-long-tha.pcap frame 1, bytes 18..<64 (after an 802.1ad tag): 14-byte
    /// hardware addresses, so the packet needs 8 + 2 × (14 + 4) = 44 bytes. tshark reads
    /// hardware type 12336, sender and target IP 48.48.48.48.
    static let longHardwareAddresses: [UInt8] = [
        0x30, 0x30,                          // hardware type 0x3030 (12336, unknown)
        0x08, 0x00,                          // protocol type 0x0800 (IPv4)
        0x0e,                                // hardware size 14
        0x04,                                // protocol size 4
        0x00, 0x01,                          // operation 1 (request)
        0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30,
        0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30,  // sender hardware address (14 bytes)
        0x30, 0x30, 0x30, 0x30,              // sender IP 48.48.48.48
        0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30,
        0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30,  // target hardware address (14 bytes)
        0x30, 0x30, 0x30, 0x30,              // target IP 48.48.48.48
        0x30, 0x30,                          // two bytes beyond the packet, to the capture's end
    ]

    static let requestRepr = ARPRepr(
        operation: .request,
        senderMAC: MACAddress(0x00, 0x20, 0xd2, 0x5a, 0xfb, 0x3f), senderIP: IPv4Address(172, 21, 79, 97),
        targetMAC: .zero, targetIP: IPv4Address(172, 21, 79, 100))
    static let replyRepr = ARPRepr(
        operation: .reply,
        senderMAC: MACAddress(0x00, 0x80, 0xea, 0x81, 0x88, 0x63), senderIP: IPv4Address(172, 21, 79, 100),
        targetMAC: MACAddress(0x00, 0x20, 0xd2, 0x5a, 0xfb, 0x3f), targetIP: IPv4Address(172, 21, 79, 97))

    @Test func fixturesAreFromCaptures() throws {
        #expect(Array(try Capture.frame(1, of: "tcpdump__802.1ad_QinQ.pcap")[22..<50]) == Self.request)
        #expect(Array(try Capture.frame(2, of: "tcpdump__802.1ad_QinQ.pcap")[22..<50]) == Self.reply)
        #expect(Array(try Capture.frame(1, of: "tcpdump__arp-too-long-tha.pcap")[18...]) == Self.longHardwareAddresses)
    }

    @Test func deconstruct() throws {
        let packet = try ARPPacket(validating: Self.request.span.bytes)
        #expect(packet.hardwareType == 1)
        #expect(packet.protocolType == .ipv4)
        #expect(packet.hardwareSize == 6)
        #expect(packet.protocolSize == 4)
        #expect(packet.operation == .request)
        #expect(packet.isEthernetIPv4 == true)
        #expect(packet.hasIPv4Addresses == true)
        #expect(packet.senderMAC == MACAddress(rawValue: 0x0020_d25a_fb3f))
        #expect(packet.senderIPv4 == IPv4Address(rawValue: 0xac15_4f61))
        #expect(packet.targetMAC == MACAddress(rawValue: 0))
        #expect(packet.targetIPv4 == IPv4Address(rawValue: 0xac15_4f64))
    }

    @Test func deconstructLongHardwareAddresses() throws {
        let packet = try ARPPacket(validating: Self.longHardwareAddresses.span.bytes)
        #expect(packet.hardwareType == 12336)
        #expect(packet.hardwareSize == 14)
        #expect(packet.protocolSize == 4)
        #expect(packet.operation == .request)
        #expect(packet.isEthernetIPv4 == false)
        #expect(packet.hasIPv4Addresses == true)
        #expect(packet.senderIPv4 == IPv4Address(48, 48, 48, 48))
        #expect(packet.targetIPv4 == IPv4Address(48, 48, 48, 48))
    }

    @Test func parse() throws {
        #expect(try ARPRepr(ARPPacket(validating: Self.request.span.bytes)) == Self.requestRepr)
        #expect(try ARPRepr(ARPPacket(validating: Self.reply.span.bytes)) == Self.replyRepr)
    }

    @Test func parseRejectsOtherThanEthernetIPv4() throws {
        let packet = try ARPPacket(validating: Self.longHardwareAddresses.span.bytes)
        #expect(throws: WireError.malformed(.notEthernetIPv4ARP)) { _ = try ARPRepr(packet) }
        // Ethernet sizes but hardware type 6 (IEEE 802): still not Ethernet/IPv4.
        var ieee802 = Self.request
        ieee802[1] = 0x06
        let other = try ARPPacket(validating: ieee802.span.bytes)
        #expect(throws: WireError.malformed(.notEthernetIPv4ARP)) { _ = try ARPRepr(other) }
    }

    @Test func emit() {
        #expect(emitted(count: 28) { Self.requestRepr.emit(into: &$0) } == Self.request)
        #expect(emitted(count: 28) { Self.replyRepr.emit(into: &$0) } == Self.reply)
    }

    @Test func roundTrip() throws {
        let repr = ARPRepr(operation: ARPOperation(rawValue: 9), senderMAC: MACAddress(1, 2, 3, 4, 5, 6),
                           senderIP: IPv4Address(10, 0, 0, 1), targetMAC: .broadcast, targetIP: IPv4Address(10, 0, 0, 2))
        let bytes = emitted(count: 28) { repr.emit(into: &$0) }
        #expect(try ARPRepr(ARPPacket(validating: bytes.span.bytes)) == repr)
    }

    /// Below the 8-byte fixed part the sizes are unknown; from there on the packet needs
    /// 8 + 2 × (6 + 4) = 28 bytes.
    @Test(arguments: 0..<28)
    func truncated(length: Int) {
        let needed = length < 8 ? 8 : 28
        #expect(throws: WireError.truncated(needed: needed, available: length)) {
            _ = try ARPPacket(validating: Self.request.span.bytes.extracting(0..<length))
        }
    }

    /// With 14-byte hardware addresses the packet needs 44 bytes.
    @Test(arguments: 0..<44)
    func truncatedLongHardwareAddresses(length: Int) {
        let needed = length < 8 ? 8 : 44
        #expect(throws: WireError.truncated(needed: needed, available: length)) {
            _ = try ARPPacket(validating: Self.longHardwareAddresses.span.bytes.extracting(0..<length))
        }
    }

    /// With 8-byte hardware addresses the IPv4 addresses move: sender at 16, target at 28.
    @Test func ipv4AddressesFollowTheHardwareSize() throws {
        let bytes: [UInt8] = [
            0x00, 0x20,              // hardware type 32 (InfiniBand-like, any non-Ethernet)
            0x08, 0x00,              // protocol type IPv4
            0x08,                    // hardware size 8
            0x04,                    // protocol size 4
            0x00, 0x02,              // operation 2 (reply)
            0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7,  // sender hardware address
            0x0a, 0x00, 0x00, 0x01,  // sender IP 10.0.0.1
            0xb0, 0xb1, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7,  // target hardware address
            0x0a, 0x00, 0x00, 0x02,  // target IP 10.0.0.2
        ]
        let packet = try ARPPacket(validating: bytes.span.bytes)
        #expect(packet.hasIPv4Addresses == true)
        #expect(packet.isEthernetIPv4 == false)
        #expect(packet.operation == .reply)
        #expect(packet.senderIPv4 == IPv4Address(10, 0, 0, 1))
        #expect(packet.targetIPv4 == IPv4Address(10, 0, 0, 2))
        #expect(throws: WireError.truncated(needed: 32, available: 31)) {
            _ = try ARPPacket(validating: bytes.span.bytes.extracting(0..<31))
        }
    }

    /// Sizes of zero: the fixed part alone is a whole (if useless) packet.
    @Test func zeroAddressSizes() throws {
        let bytes: [UInt8] = [0x00, 0x01, 0x08, 0x00, 0x00, 0x00, 0x00, 0x01]
        let packet = try ARPPacket(validating: bytes.span.bytes)
        #expect(packet.hardwareSize == 0 && packet.protocolSize == 0)
        #expect(packet.isEthernetIPv4 == false)
        #expect(packet.hasIPv4Addresses == false)
    }
}
