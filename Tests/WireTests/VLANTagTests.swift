import Testing
import Wire

/// IEEE 802.1Q / 802.1ad tags (the 4 bytes after the TPID).
struct VLANTagTests {
    /// tcpdump__802.1ad_QinQ.pcap frame 1, bytes 12..<22: the outer 802.1ad tag, then the
    /// 802.1Q tag, then ARP. Each tag's view starts after its TPID.
    static let qinq: [UInt8] = [
        0x88, 0xa8,  // TPID 0x88a8 (802.1ad service tag): Ethernet's EtherType field
        0x00, 0xc8,  // outer TCI: PCP 0, DEI 0, VID 200
        0x81, 0x00,  // next EtherType 0x8100: a customer tag follows
        0x07, 0xd1,  // inner TCI: PCP 0, DEI 0, VID 2001
        0x08, 0x06,  // next EtherType 0x0806: ARP
    ]
    static var outerTag: [UInt8] { Array(qinq[2..<6]) }
    static var innerTag: [UInt8] { Array(qinq[6..<10]) }

    /// A hand-built tag with every TCI field non-zero (tshark reads vlan.priority 5,
    /// vlan.dei 1, vlan.id 200, vlan.etype 0x0806).
    static let marked: [UInt8] = [
        0xb0, 0xc8,  // TCI: PCP 5 (101), DEI 1, VID 200 (0x0c8)
        0x08, 0x06,  // next EtherType: ARP
    ]

    @Test func fixtureIsFromCapture() throws {
        let frame = try Capture.frame(1, of: "tcpdump__802.1ad_QinQ.pcap")
        #expect(Array(frame[12..<22]) == Self.qinq)
    }

    @Test func deconstruct() throws {
        let outer = try VLANTag(validating: Self.outerTag.span.bytes)
        #expect(outer.priority == 0)
        #expect(outer.dropEligible == false)
        #expect(outer.vlanID == 200)
        #expect(outer.etherType == .vlan)
        let inner = try VLANTag(validating: Self.innerTag.span.bytes)
        #expect(inner.vlanID == 2001)
        #expect(inner.etherType == .arp)
        let marked = try VLANTag(validating: Self.marked.span.bytes)
        #expect(marked.priority == 5)
        #expect(marked.dropEligible == true)
        #expect(marked.vlanID == 200)
        #expect(marked.etherType == .arp)
    }

    @Test func payloadFollowsTheTag() throws {
        let tags = Array(Self.qinq[2...])
        let outer = try VLANTag(validating: tags.span.bytes)
        #expect(outer.payload.byteCount == 4)
        let inner = try VLANTag(validating: outer.payload)
        #expect(inner.vlanID == 2001)
    }

    @Test func parse() throws {
        #expect(VLANTagRepr(try VLANTag(validating: Self.outerTag.span.bytes)) == VLANTagRepr(vlanID: 200, etherType: .vlan))
        #expect(VLANTagRepr(try VLANTag(validating: Self.innerTag.span.bytes)) == VLANTagRepr(vlanID: 2001, etherType: .arp))
        #expect(VLANTagRepr(try VLANTag(validating: Self.marked.span.bytes))
                == VLANTagRepr(priority: 5, dropEligible: true, vlanID: 200, etherType: .arp))
    }

    @Test func emit() {
        #expect(emitted(count: 4) { VLANTagRepr(vlanID: 200, etherType: .vlan).emit(into: &$0) } == Self.outerTag)
        #expect(emitted(count: 4) { VLANTagRepr(vlanID: 2001, etherType: .arp).emit(into: &$0) } == Self.innerTag)
        let marked = VLANTagRepr(priority: 5, dropEligible: true, vlanID: 200, etherType: .arp)
        #expect(emitted(count: 4) { marked.emit(into: &$0) } == Self.marked)
    }

    @Test(arguments: [
        VLANTagRepr(priority: 7, dropEligible: true, vlanID: 4095, etherType: .ipv6),
        VLANTagRepr(priority: 0, dropEligible: false, vlanID: 0, etherType: .ipv4),
        VLANTagRepr(priority: 3, dropEligible: false, vlanID: 1, etherType: EtherType(rawValue: 0x1234)),
    ])
    func roundTrip(repr: VLANTagRepr) throws {
        let bytes = emitted(count: 4) { repr.emit(into: &$0) }
        #expect(VLANTagRepr(try VLANTag(validating: bytes.span.bytes)) == repr)
    }

    @Test(arguments: 0..<4)
    func truncated(length: Int) {
        #expect(throws: WireError.truncated(needed: 4, available: length)) {
            _ = try VLANTag(validating: Self.innerTag.span.bytes.extracting(0..<length))
        }
    }
}
