import Testing
import Wire

/// Ethernet II (IEEE 802.3, RFC 894).
struct EthernetTests {
    /// The outer Ethernet header of tcpdump__vxlan.pcap frame 1 (bytes 0..<14).
    static let fixture: [UInt8] = [
        0x00, 0x16, 0x3e, 0x08, 0x71, 0xcf,  // destination 00:16:3e:08:71:cf
        0x36, 0xdc, 0x85, 0x1e, 0xb3, 0x40,  // source 36:dc:85:1e:b3:40
        0x08, 0x00,                          // EtherType 0x0800 (IPv4)
    ]

    static let repr = EthernetRepr(
        destination: MACAddress(0x00, 0x16, 0x3e, 0x08, 0x71, 0xcf),
        source: MACAddress(0x36, 0xdc, 0x85, 0x1e, 0xb3, 0x40),
        etherType: .ipv4)

    @Test func fixtureIsFromCapture() throws {
        let frame = try Capture.frame(1, of: "tcpdump__vxlan.pcap")
        #expect(Array(frame[0..<14]) == Self.fixture)
    }

    @Test func deconstruct() throws {
        let frame = Self.fixture + [0xAA, 0xBB]  // two payload bytes
        let header = try EthernetHeader(validating: frame.span.bytes)
        #expect(header.destination == MACAddress(rawValue: 0x0016_3e08_71cf))
        #expect(header.source == MACAddress(rawValue: 0x36dc_851e_b340))
        #expect(header.etherType.rawValue == 0x0800)
        #expect(header.etherType == .ipv4)
        #expect(header.payload.byteCount == 2)
        #expect(header.payload.u8(at: 0) == 0xAA)
    }

    @Test func parse() throws {
        let header = try EthernetHeader(validating: Self.fixture.span.bytes)
        #expect(EthernetRepr(header) == Self.repr)
    }

    @Test func emit() {
        #expect(emitted(count: 14) { Self.repr.emit(into: &$0) } == Self.fixture)
    }

    @Test func roundTrip() throws {
        let repr = EthernetRepr(destination: .broadcast, source: MACAddress(0x02, 0x42, 0xac, 0x11, 0x00, 0x02),
                                etherType: EtherType(rawValue: 0x88B5))  // local experimental: an unknown type survives
        let bytes = emitted(count: 14) { repr.emit(into: &$0) }
        #expect(EthernetRepr(try EthernetHeader(validating: bytes.span.bytes)) == repr)
    }

    @Test(arguments: 0..<14)
    func truncated(length: Int) {
        #expect(throws: WireError.truncated(needed: 14, available: length)) {
            _ = try EthernetHeader(validating: Self.fixture.span.bytes.extracting(0..<length))
        }
    }

    @Test func etherTypeNames() {
        // Wireshark prints eth.type as four lower-case hex digits.
        #expect(EtherType.ipv6.description == "0x86dd")
        #expect(EtherType.qinq.description == "0x88a8")
        #expect(EtherType.vlan.isVLANTag && EtherType.qinq.isVLANTag && EtherType.qinqLegacy.isVLANTag)
        #expect(!EtherType.ipv4.isVLANTag)
    }
}
