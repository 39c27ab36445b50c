import Testing
import Wire

/// GENEVE (RFC 8926).
struct GENEVETests {
    /// suricata-verify__geneve-decoder_input.pcap frame 1, bytes 42..<50 (tshark: version 0,
    /// no options, protocol 0x6558, VNI 123).
    static let header: [UInt8] = [
        0x00,              // version 0, option length 0
        0x00,              // flags: O 0, C 0
        0x65, 0x58,        // protocol type 0x6558 (transparent Ethernet bridging)
        0x00, 0x00, 0x7b,  // VNI 123
        0x00,              // reserved
    ]

    /// A hand-built header with one 8-byte option. tshark: length 8 bytes of options, flags
    /// 0x40 (critical options present), option class 0x0102 (OVN), type 0x80 (critical), data
    /// deadbeef.
    static let withOption: [UInt8] = [
        0x02,                    // version 0, option length 2 (8 bytes)
        0x40,                    // flags: C (critical options present)
        0x65, 0x58,              // protocol type 0x6558
        0x00, 0x00, 0x7b,        // VNI 123
        0x00,                    // reserved
        0x01, 0x02,              // option class 0x0102
        0x80,                    // option type 0x80 (critical)
        0x01,                    // reserved, option length 1 (4 bytes of data)
        0xde, 0xad, 0xbe, 0xef,  // option data
    ]

    @Test func fixtureIsFromCapture() throws {
        #expect(Array(try Capture.frame(1, of: "suricata-verify__geneve-decoder_input.pcap")[42..<50]) == Self.header)
    }

    @Test func deconstruct() throws {
        let frame = Self.header + [0xff]  // the start of the inner frame
        let geneve = try GENEVEHeader(validating: frame.span.bytes)
        #expect(geneve.version == 0)
        #expect(geneve.optionsLength == 0)
        #expect(geneve.headerLength == 8)
        #expect(geneve.isControl == false)
        #expect(geneve.hasCriticalOptions == false)
        #expect(geneve.protocolType == .transparentEthernet)
        #expect(geneve.vni == 123)
        #expect(geneve.options.byteCount == 0)
        #expect(geneve.payload.byteCount == 1)
    }

    @Test func deconstructOptions() throws {
        let geneve = try GENEVEHeader(validating: Self.withOption.span.bytes)
        #expect(geneve.optionsLength == 8)
        #expect(geneve.headerLength == 16)
        #expect(geneve.hasCriticalOptions == true)
        #expect(geneve.isControl == false)
        #expect(geneve.vni == 123)
        #expect(geneve.options.byteCount == 8)
        #expect(geneve.options.u16(at: 0) == 0x0102)
        #expect(geneve.options.u32(at: 4) == 0xdead_beef)
        #expect(geneve.payload.byteCount == 0)
    }

    @Test func deconstructControl() throws {
        let bytes: [UInt8] = [0x00, 0x80, 0x08, 0x00, 0xff, 0xff, 0xff, 0x00]  // O set, IPv4, VNI 0xffffff
        let geneve = try GENEVEHeader(validating: bytes.span.bytes)
        #expect(geneve.isControl == true)
        #expect(geneve.hasCriticalOptions == false)
        #expect(geneve.protocolType == .ipv4)
        #expect(geneve.vni == 0xFF_FFFF)
    }

    @Test func parse() throws {
        #expect(GENEVERepr(try GENEVEHeader(validating: Self.header.span.bytes)) == GENEVERepr(vni: 123))
        #expect(GENEVERepr(try GENEVEHeader(validating: Self.withOption.span.bytes))
                == GENEVERepr(vni: 123, hasCriticalOptions: true, options: Array(Self.withOption[8...])))
    }

    @Test func emit() {
        #expect(emitted(count: 8) { GENEVERepr(vni: 123).emit(into: &$0) } == Self.header)
        let repr = GENEVERepr(vni: 123, hasCriticalOptions: true, options: Array(Self.withOption[8...]))
        #expect(emitted(count: 16) { repr.emit(into: &$0) } == Self.withOption)
    }

    @Test func roundTrip() throws {
        let repr = GENEVERepr(vni: 0xab_cdef, protocolType: .ipv6, isControl: true, hasCriticalOptions: true,
                              options: [UInt8](0..<252).map { UInt8($0) })  // the longest: 63 words
        let bytes = emitted(count: 260) { repr.emit(into: &$0) }
        let geneve = try GENEVEHeader(validating: bytes.span.bytes)
        #expect(geneve.optionsLength == 252)
        #expect(GENEVERepr(geneve) == repr)
    }

    @Test(arguments: 0..<8)
    func truncated(length: Int) {
        #expect(throws: WireError.truncated(needed: 8, available: length)) {
            _ = try GENEVEHeader(validating: Self.header.span.bytes.extracting(0..<length))
        }
    }

    /// Option length 2: the fixed 8 bytes, then all 16.
    @Test(arguments: 0..<16)
    func truncatedOptions(length: Int) {
        let needed = length < 8 ? 8 : 16
        #expect(throws: WireError.truncated(needed: needed, available: length)) {
            _ = try GENEVEHeader(validating: Self.withOption.span.bytes.extracting(0..<length))
        }
    }

    @Test(arguments: [0x40, 0x80, 0xc0, 0x42] as [UInt8])
    func badVersion(first: UInt8) {
        var bytes = Self.withOption
        bytes[0] = first
        #expect(throws: WireError.badVersion(first >> 6)) {
            _ = try GENEVEHeader(validating: bytes.span.bytes)
        }
    }
}
