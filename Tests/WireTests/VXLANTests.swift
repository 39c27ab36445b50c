import Testing
import Wire

/// VXLAN (RFC 7348).
struct VXLANTests {
    /// tcpdump__vxlan.pcap frame 1, bytes 42..<50 (tshark: flags 0x0800, VNI 100).
    static let header: [UInt8] = [
        0x08,              // flags: I (VNI valid)
        0x00, 0x00, 0x00,  // reserved
        0x00, 0x00, 0x64,  // VNI 100
        0x00,              // reserved
    ]

    @Test func fixtureIsFromCapture() throws {
        #expect(Array(try Capture.frame(1, of: "tcpdump__vxlan.pcap")[42..<50]) == Self.header)
    }

    @Test func deconstruct() throws {
        let frame = Self.header + [0xff, 0xff]  // the start of the inner frame
        let vxlan = try VXLANHeader(validating: frame.span.bytes)
        #expect(vxlan.flags == 0x08)
        #expect(vxlan.hasVNI == true)
        #expect(vxlan.vni == 100)
        #expect(vxlan.payload.byteCount == 2)
    }

    /// Reserved bits are ignored on receipt (RFC 7348 §5); the VNI is the middle 24 bits.
    @Test func reservedBitsAreIgnored() throws {
        let bytes: [UInt8] = [
            0xf7,              // flags: every bit but I
            0xff, 0xff, 0xff,  // reserved, all ones
            0xab, 0xcd, 0xef,  // VNI 0xabcdef
            0xff,              // reserved, all ones
        ]
        let vxlan = try VXLANHeader(validating: bytes.span.bytes)
        #expect(vxlan.hasVNI == false)
        #expect(vxlan.vni == 0xab_cdef)
        #expect(VXLANRepr(vxlan) == VXLANRepr(vni: 0xab_cdef))
    }

    @Test func parse() throws {
        #expect(VXLANRepr(try VXLANHeader(validating: Self.header.span.bytes)) == VXLANRepr(vni: 100))
    }

    @Test func emit() {
        #expect(emitted(count: 8) { VXLANRepr(vni: 100).emit(into: &$0) } == Self.header)
        // Emitting clears whatever the buffer held.
        #expect(emitted(over: [UInt8](repeating: 0xff, count: 8)) { VXLANRepr(vni: 100).emit(into: &$0) } == Self.header)
    }

    @Test(arguments: [0, 1, 100, 0x80_0000, 0xFF_FFFF] as [UInt32])
    func roundTrip(vni: UInt32) throws {
        let bytes = emitted(count: 8) { VXLANRepr(vni: vni).emit(into: &$0) }
        #expect(VXLANRepr(try VXLANHeader(validating: bytes.span.bytes)) == VXLANRepr(vni: vni))
    }

    /// The VNI is 24 bits: higher bits are dropped when making a repr.
    @Test func vniIsTwentyFourBits() {
        #expect(VXLANRepr(vni: 0x0100_0064).vni == 100)
    }

    @Test(arguments: 0..<8)
    func truncated(length: Int) {
        #expect(throws: WireError.truncated(needed: 8, available: length)) {
            _ = try VXLANHeader(validating: Self.header.span.bytes.extracting(0..<length))
        }
    }
}
