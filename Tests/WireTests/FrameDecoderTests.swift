import Testing
import Wire

/// Frames built from reprs, outermost layer last in the call (innermost argument first).
/// Checksums are left for `emit` to fill or zero: the decoder does not verify them.
enum Build {
    static let macA = MACAddress(0x02, 0x00, 0x00, 0x00, 0x00, 0x0a)
    static let macB = MACAddress(0x02, 0x00, 0x00, 0x00, 0x00, 0x0b)

    static func ethernet(_ type: EtherType, _ payload: [UInt8]) -> [UInt8] {
        emitted(over: [UInt8](repeating: 0, count: 14) + payload) {
            EthernetRepr(destination: macB, source: macA, etherType: type).emit(into: &$0)
        }
    }

    /// A VLAN tag (after its TPID, which is the previous header's EtherType).
    static func vlan(_ id: UInt16, _ type: EtherType, _ payload: [UInt8]) -> [UInt8] {
        emitted(over: [UInt8](repeating: 0, count: 4) + payload) { VLANTagRepr(vlanID: id, etherType: type).emit(into: &$0) }
    }

    static func ipv4(_ proto: IPProtocol, _ payload: [UInt8], fragmentOffset: UInt16 = 0,
                     source: IPv4Address = IPv4Address(10, 0, 0, 1),
                     destination: IPv4Address = IPv4Address(10, 0, 0, 2)) -> [UInt8] {
        let repr = IPv4Repr(source: source, destination: destination, protocol: proto, payloadLength: payload.count,
                            dontFragment: fragmentOffset == 0, fragmentOffset: fragmentOffset)
        return emitted(over: [UInt8](repeating: 0, count: 20) + payload) { repr.emit(into: &$0) }
    }

    static func ipv6(_ next: IPProtocol, _ payload: [UInt8]) -> [UInt8] {
        let repr = IPv6Repr(source: IPv6Address("fd00::1")!, destination: IPv6Address("fd00::2")!,
                            nextHeader: next, payloadLength: payload.count)
        return emitted(over: [UInt8](repeating: 0, count: 40) + payload) { repr.emit(into: &$0) }
    }

    static func udp(_ source: UInt16, _ destination: UInt16, _ payload: [UInt8]) -> [UInt8] {
        emitted(over: [UInt8](repeating: 0, count: 8) + payload) {
            UDPRepr(sourcePort: source, destinationPort: destination).emit(into: &$0, pseudoHeaderSum: nil)
        }
    }

    static func tcp(_ payload: [UInt8] = []) -> [UInt8] {
        let repr = TCPRepr(sourcePort: 40000, destinationPort: 80, sequence: 1, flags: .syn)
        return emitted(over: [UInt8](repeating: 0, count: 20) + payload) { repr.emit(into: &$0, pseudoHeaderSum: 0) }
    }

    static func icmpv4(_ type: ICMPv4Type, code: UInt8 = 0, _ data: [UInt8] = []) -> [UInt8] {
        emitted(over: [UInt8](repeating: 0, count: 8) + data) { ICMPv4Repr(type: type, code: code).emit(into: &$0) }
    }

    static func icmpv6(_ type: UInt8, _ data: [UInt8] = []) -> [UInt8] {
        emitted(over: [UInt8](repeating: 0, count: 8) + data) { ICMPv6Repr(type: type, code: 0).emit(into: &$0, pseudoHeaderSum: 0) }
    }

    static func vxlan(_ vni: UInt32, _ payload: [UInt8]) -> [UInt8] {
        emitted(over: [UInt8](repeating: 0, count: 8) + payload) { VXLANRepr(vni: vni).emit(into: &$0) }
    }

    static func geneve(_ vni: UInt32, _ type: EtherType, options: [UInt8] = [], _ payload: [UInt8]) -> [UInt8] {
        let repr = GENEVERepr(vni: vni, protocolType: type, options: options)
        return emitted(over: [UInt8](repeating: 0, count: repr.headerLength) + payload) { repr.emit(into: &$0) }
    }

    static let arp: [UInt8] = emitted(count: 28) {
        ARPRepr(operation: .request, senderMAC: macA, senderIP: IPv4Address(10, 0, 0, 1),
                targetMAC: .zero, targetIP: IPv4Address(10, 0, 0, 2)).emit(into: &$0)
    }

    /// An inner Ethernet frame carrying an ICMP echo request with 8 bytes of data.
    static let innerPing: [UInt8] = ethernet(.ipv4, ipv4(.icmp, icmpv4(.echoRequest, [1, 2, 3, 4, 5, 6, 7, 8])))
}

/// The layers of a decode, as "kind:depth" words ("q" marks a layer inside an ICMP quote).
func summary(_ decoded: DecodedFrame) -> String {
    (0..<decoded.layerCount).map { index in
        let layer = decoded.layers[index]
        return "\(layer.kind):\(layer.depth)" + (layer.isQuoted ? "q" : "")
    }.joined(separator: " ")
}

/// Where each layer starts and ends in the frame.
func extents(_ decoded: DecodedFrame) -> [Range<Int>] {
    (0..<decoded.layerCount).map { decoded.layers[$0].offset..<decoded.layers[$0].end }
}

/// The frame decoder: which layers it records, at what depth and extent, and which error.
struct FrameDecoderTests {
    let decoder = FrameDecoder()

    func decode(_ bytes: [UInt8], linkType: LinkType = .ethernet, capturedAll: Bool = true) -> DecodedFrame {
        decoder.decode(bytes.span.bytes, linkType: linkType, capturedAll: capturedAll)
    }

    // MARK: Tunnels

    @Test func vxlanBuiltFromReprs() {
        let frame = Build.ethernet(.ipv4, Build.ipv4(.udp, Build.udp(45149, 4789, Build.vxlan(100, Build.innerPing))))
        #expect(frame.count == 14 + 20 + 8 + 8 + 14 + 20 + 16)
        let decoded = decode(frame)
        #expect(decoded.error == nil)
        #expect(summary(decoded) == "ethernet:0 ipv4:0 udp:0 vxlan:0 ethernet:1 ipv4:1 icmpv4:1")
        #expect(extents(decoded) == [0..<100, 14..<100, 34..<100, 42..<100, 50..<100, 64..<100, 84..<100])
    }

    /// Linux's port 8472 is a default VXLAN port too; with no VXLAN ports the walk stops at UDP.
    @Test func vxlanPorts() {
        let linux = Build.ethernet(.ipv4, Build.ipv4(.udp, Build.udp(45149, 8472, Build.vxlan(1, Build.innerPing))))
        #expect(summary(decode(linux)) == "ethernet:0 ipv4:0 udp:0 vxlan:0 ethernet:1 ipv4:1 icmpv4:1")
        let none = FrameDecoder(vxlanPorts: [])
        #expect(summary(none.decode(linux.span.bytes)) == "ethernet:0 ipv4:0 udp:0")
        let custom = FrameDecoder(vxlanPorts: [9999])
        #expect(custom.isVXLANPort(9999) && !custom.isVXLANPort(4789))
        let frame = Build.ethernet(.ipv4, Build.ipv4(.udp, Build.udp(50000, 9999, Build.vxlan(1, Build.innerPing))))
        #expect(summary(custom.decode(frame.span.bytes)) == "ethernet:0 ipv4:0 udp:0 vxlan:0 ethernet:1 ipv4:1 icmpv4:1")
    }

    /// VXLAN and GENEVE are told by the destination port (RFC 7348 §5, RFC 8926 §3.3: the
    /// source port is a flow hash), as `vxlanPorts` says. A DNS query whose source port
    /// happens to be 4789, 8472 or 6081 (tcpdump__LINKTYPE_RAW_ipv4.pcap with the source port
    /// rewritten; tshark still reads DNS) is plain UDP.
    @Test(arguments: [4789, 8472, 6081] as [UInt16])
    func tunnelPortAsSourcePortIsNotATunnel(port: UInt16) throws {
        var packet = try Capture.frame(1, of: "tcpdump__LINKTYPE_RAW_ipv4.pcap")
        packet[20] = UInt8(port >> 8)
        packet[21] = UInt8(port & 0xFF)
        let decoded = decode(packet, linkType: .raw)
        #expect(summary(decoded) == "ipv4:0 udp:0")
        #expect(decoded.error == nil)
    }

    /// Every frame of tcpdump__vxlan.pcap: VNI 100 over UDP 4789; frames 2 and 3 carry ARP,
    /// the others ICMP echo (tshark).
    @Test(arguments: 1...10)
    func vxlanCapture(number: Int) throws {
        let frame = try Capture.frame(number, of: "tcpdump__vxlan.pcap")
        let decoded = decode(frame)
        #expect(decoded.error == nil)
        let inner = number == 2 || number == 3 ? "arp:1" : "ipv4:1 icmpv4:1"
        #expect(summary(decoded) == "ethernet:0 ipv4:0 udp:0 vxlan:0 ethernet:1 " + inner)
        #expect(decoded.layers[4].offset == 50)
    }

    @Test func vxlanInVXLAN() {
        let innermost = Build.ethernet(.arp, Build.arp)
        let middle = Build.ethernet(.ipv4, Build.ipv4(.udp, Build.udp(1000, 4789, Build.vxlan(2, innermost))))
        let frame = Build.ethernet(.ipv4, Build.ipv4(.udp, Build.udp(2000, 4789, Build.vxlan(1, middle))))
        let decoded = decode(frame)
        #expect(decoded.error == nil)
        #expect(summary(decoded)
                == "ethernet:0 ipv4:0 udp:0 vxlan:0 ethernet:1 ipv4:1 udp:1 vxlan:1 ethernet:2 arp:2")
        #expect(extents(decoded).last == 114..<142)  // 2 × 50 bytes of encapsulation, 14 of Ethernet
    }

    /// A VXLAN packet whose inner frame is 4 bytes: the error is the inner Ethernet's, one deep.
    @Test func vxlanWithFourByteInnerFrame() {
        let frame = Build.ethernet(.ipv4, Build.ipv4(.udp, Build.udp(45149, 4789, Build.vxlan(100, [0xde, 0xad, 0xbe, 0xef]))))
        let decoded = decode(frame)
        #expect(decoded.error == DecodeError(layer: .ethernet, depth: 1, problem: .truncated(needed: 14, available: 4)))
        #expect(summary(decoded) == "ethernet:0 ipv4:0 udp:0 vxlan:0")
        #expect(decoded.error?.description == "eth: truncated: needs 14 bytes, 4 present")
    }

    /// suricata-verify__geneve-decoder_input.pcap: VNI 123 over UDP 6081, inner ARP (frames 1,
    /// 2) and ICMP echo (3 to 10).
    @Test(arguments: 1...10)
    func geneveCapture(number: Int) throws {
        let frame = try Capture.frame(number, of: "suricata-verify__geneve-decoder_input.pcap")
        let decoded = decode(frame)
        #expect(decoded.error == nil)
        let inner = number <= 2 ? "arp:1" : "ipv4:1 icmpv4:1"
        #expect(summary(decoded) == "ethernet:0 ipv4:0 udp:0 geneve:0 ethernet:1 " + inner)
    }

    /// GENEVE options are skipped; a protocol type of IPv4 carries IP without Ethernet.
    @Test func geneveOptionsAndIPv4() {
        let options: [UInt8] = [0x01, 0x02, 0x80, 0x01, 0xde, 0xad, 0xbe, 0xef]
        let frame = Build.ethernet(.ipv4, Build.ipv4(.udp, Build.udp(1, 6081,
            Build.geneve(7, .ipv4, options: options, Build.ipv4(.tcp, Build.tcp())))))
        let decoded = decode(frame)
        #expect(decoded.error == nil)
        #expect(summary(decoded) == "ethernet:0 ipv4:0 udp:0 geneve:0 ipv4:1 tcp:1")
        #expect(decoded.layers[4].offset == 14 + 20 + 8 + 16)
    }

    /// zeek__tunnels_4in4.pcap: 1.2.3.4 → 5.6.7.8 carrying 10.0.0.1:30000 → 10.0.0.2:13000.
    @Test func ipInIP() throws {
        let decoded = decode(try Capture.frame(1, of: "zeek__tunnels_4in4.pcap"))
        #expect(decoded.error == nil)
        #expect(summary(decoded) == "ethernet:0 ipv4:0 ipv4:1 udp:1")
        #expect(extents(decoded) == [0..<66, 14..<66, 34..<66, 54..<66])
    }

    @Test func ipv6InIPv4() {
        let frame = Build.ethernet(.ipv4, Build.ipv4(.ipv6, Build.ipv6(.udp, Build.udp(1, 2, [0xaa]))))
        #expect(summary(decode(frame)) == "ethernet:0 ipv4:0 ipv6:1 udp:1")
    }

    // MARK: Link layers

    /// tcpdump__802.1ad_QinQ.pcap frame 1: an 802.1ad tag, an 802.1Q tag, ARP; the frame is
    /// padded to 64 bytes but the ARP layer ends with its 28 bytes.
    @Test func qinq() throws {
        let decoded = decode(try Capture.frame(1, of: "tcpdump__802.1ad_QinQ.pcap"))
        #expect(decoded.error == nil)
        #expect(summary(decoded) == "ethernet:0 vlan:0 vlan:0 arp:0")
        #expect(extents(decoded) == [0..<64, 14..<64, 18..<64, 22..<50])
    }

    @Test func qinqBuiltFromReprs() {
        for outer in [EtherType.qinq, .qinqLegacy, .vlan] {
            let frame = Build.ethernet(outer, Build.vlan(200, .vlan, Build.vlan(2001, .ipv4, Build.ipv4(.tcp, Build.tcp()))))
            #expect(summary(decode(frame)) == "ethernet:0 vlan:0 vlan:0 ipv4:0 tcp:0")
        }
    }

    /// tcpdump__tcp-handshake-nano.pcap frame 1, Linux cooked (SLL).
    @Test func linuxCooked() throws {
        let decoded = decode(try Capture.frame(1, of: "tcpdump__tcp-handshake-nano.pcap"), linkType: .linuxSLL)
        #expect(decoded.error == nil)
        #expect(summary(decoded) == "linuxCooked:0 ipv4:0 tcp:0")
        #expect(extents(decoded) == [0..<76, 16..<76, 36..<76])
    }

    /// The SLL2 header of LinuxCookedTests in front of the packet of tcpdump__LINKTYPE_RAW_ipv4.pcap.
    @Test func linuxCookedVersion2() throws {
        let frame = LinuxCookedTests.sll2 + (try Capture.frame(1, of: "tcpdump__LINKTYPE_RAW_ipv4.pcap"))
        let decoded = decode(frame, linkType: .linuxSLL2)
        #expect(decoded.error == nil)
        #expect(summary(decoded) == "linuxCooked:0 ipv4:0 udp:0")
        #expect(decoded.layers[1].offset == 20)
    }

    /// tcpdump__LINKTYPE_RAW_ipv4.pcap: a DNS query with no link-layer header.
    @Test func rawIP() throws {
        let packet = try Capture.frame(1, of: "tcpdump__LINKTYPE_RAW_ipv4.pcap")
        let decoded = decode(packet, linkType: .raw)
        #expect(decoded.error == nil)
        #expect(summary(decoded) == "ipv4:0 udp:0")
        #expect(summary(decode(packet, linkType: .ipv4)) == "ipv4:0 udp:0")
        let v6 = Build.ipv6(.tcp, Build.tcp())
        #expect(summary(decode(v6, linkType: .raw)) == "ipv6:0 tcp:0")
        #expect(summary(decode(v6, linkType: .ipv6)) == "ipv6:0 tcp:0")
        var bad = packet
        bad[0] = 0x55
        #expect(decode(bad, linkType: .raw).error == DecodeError(layer: .ipv4, depth: 0, problem: .badVersion(5)))
        #expect(decode([], linkType: .raw).error == DecodeError(layer: .ipv4, depth: 0, problem: .truncated(needed: 1, available: 0)))
    }

    @Test func unknownLinkTypeDecodesNothing() throws {
        let decoded = decode(try Capture.frame(1, of: "tcpdump__LINKTYPE_RAW_ipv4.pcap"), linkType: LinkType(rawValue: 147))
        #expect(decoded.layerCount == 0)
        #expect(decoded.error == nil)
    }

    // MARK: ICMP errors

    /// zeek__icmp_icmp-destunreach-udp.pcap: port unreachable quoting a UDP datagram whose
    /// total length (163) runs past the quote; inside a quote that is not an error.
    @Test func icmpErrorWithQuote() throws {
        let decoded = decode(try Capture.frame(1, of: "zeek__icmp_icmp-destunreach-udp.pcap"))
        #expect(decoded.error == nil)
        #expect(summary(decoded) == "ethernet:0 ipv4:0 icmpv4:0 ipv4:1q udp:1q")
        // The outer IPv4 ends at its total length (176) before 4 trailing bytes.
        #expect(extents(decoded) == [0..<194, 14..<190, 34..<190, 42..<190, 62..<190])
    }

    /// A quote cut inside the UDP header, or inside the IP header: no error, fewer layers.
    @Test func truncatedQuoteIsNotAnError() {
        let quote = Build.ipv4(.udp, Build.udp(53, 59207, [UInt8](repeating: 0, count: 100)))
        let cutInUDP = Build.ethernet(.ipv4, Build.ipv4(.icmp, Build.icmpv4(.destinationUnreachable, code: 3, Array(quote[0..<24]))))
        let decoded = decode(cutInUDP)
        #expect(decoded.error == nil)
        #expect(summary(decoded) == "ethernet:0 ipv4:0 icmpv4:0 ipv4:1q")
        let cutInIP = Build.ethernet(.ipv4, Build.ipv4(.icmp, Build.icmpv4(.timeExceeded, Array(quote[0..<10]))))
        let short = decode(cutInIP)
        #expect(short.error == nil)
        #expect(summary(short) == "ethernet:0 ipv4:0 icmpv4:0")
    }

    /// A quote that is not truncated but wrong (version 5) is still an error, one deep.
    @Test func malformedQuoteIsAnError() {
        var quote = Build.ipv4(.udp, Build.udp(53, 59207, []))
        quote[0] = 0x55
        let frame = Build.ethernet(.ipv4, Build.ipv4(.icmp, Build.icmpv4(.destinationUnreachable, code: 3, quote)))
        #expect(decode(frame).error == DecodeError(layer: .ipv4, depth: 1, problem: .badVersion(5)))
    }

    /// An echo is not an error: its data is not decoded as a quote.
    @Test func echoDataIsNotAQuote() {
        let frame = Build.ethernet(.ipv4, Build.ipv4(.icmp, Build.icmpv4(.echoRequest, Build.ipv4(.udp, Build.udp(1, 2, [])))))
        #expect(summary(decode(frame)) == "ethernet:0 ipv4:0 icmpv4:0")
    }

    @Test func icmpv6ErrorWithQuote() {
        let quote = Build.ipv6(.udp, Build.udp(5000, 6000, [UInt8](repeating: 0, count: 1200)))
        let frame = Build.ethernet(.ipv6, Build.ipv6(.icmpv6, Build.icmpv6(2, Array(quote[0..<60]))))  // packet too big
        let decoded = decode(frame)
        #expect(decoded.error == nil)
        #expect(summary(decoded) == "ethernet:0 ipv6:0 icmpv6:0 ipv6:1q udp:1q")
        let echo = Build.ethernet(.ipv6, Build.ipv6(.icmpv6, Build.icmpv6(128, Array(quote[0..<60]))))
        #expect(summary(decode(echo)) == "ethernet:0 ipv6:0 icmpv6:0")
    }

    // MARK: Fragments and extension headers

    /// zeek__ipv4_fragmented-2.pcap: frame 1 is the first fragment (UDP header inside, frame
    /// padded to 60 bytes); frame 2 has offset 6 and is not decoded past IP.
    @Test func ipv4Fragments() throws {
        let first = decode(try Capture.frame(1, of: "zeek__ipv4_fragmented-2.pcap"))
        #expect(first.error == nil)
        #expect(summary(first) == "ethernet:0 ipv4:0 udp:0")
        #expect(extents(first) == [0..<60, 14..<52, 34..<52])
        let later = decode(try Capture.frame(2, of: "zeek__ipv4_fragmented-2.pcap"))
        #expect(later.error == nil)
        #expect(summary(later) == "ethernet:0 ipv4:0")
        #expect(later.last(.udp) == nil)
    }

    /// The hop-by-hop + fragment packet of IPv6Tests, then the same with a later fragment.
    @Test func ipv6ExtensionHeaders() {
        let frame = Build.ethernet(.ipv6, IPv6Tests.withExtensions)
        let decoded = decode(frame)
        #expect(decoded.error == nil)
        #expect(summary(decoded) == "ethernet:0 ipv6:0 ipv6Extension:0 ipv6Extension:0 udp:0")
        #expect(extents(decoded) == [0..<82, 14..<82, 54..<62, 62..<70, 70..<82])

        var later = frame
        later[14 + 50] = 0x05  // fragment offset 185, M = 0
        later[14 + 51] = 0xc8
        let laterDecoded = decode(later)
        #expect(laterDecoded.error == nil)
        #expect(summary(laterDecoded) == "ethernet:0 ipv6:0 ipv6Extension:0 ipv6Extension:0")
    }

    @Test func ipv6ExtensionTruncated() {
        // Destination options announcing 16 bytes with only 8 in the packet.
        let options: [UInt8] = [0x06, 0x01, 0x01, 0x04, 0x00, 0x00, 0x00, 0x00]
        let frame = Build.ethernet(.ipv6, Build.ipv6(.destinationOptions, options))
        let decoded = decode(frame)
        #expect(decoded.error == DecodeError(layer: .ipv6Extension, depth: 0, problem: .truncated(needed: 16, available: 8)))
        #expect(summary(decoded) == "ethernet:0 ipv6:0")
    }

    // MARK: Lengths and errors

    /// tcpdump__ipv4_invalid_total_length.pcap: total length 85, 84 bytes. The error is
    /// recorded and the payload present still decoded; a frame the capture cut short
    /// (capturedAll false) is not in error.
    @Test func totalLengthBeyondTheBytes() throws {
        let frame = try Capture.frame(1, of: "tcpdump__ipv4_invalid_total_length.pcap")
        let decoded = decode(frame)
        #expect(decoded.error == DecodeError(layer: .ipv4, depth: 0, problem: .badTotalLength(85)))
        #expect(decoded.error?.description == "ipv4: bad total length 85")
        #expect(summary(decoded) == "ethernet:0 ipv4:0 udp:0")
        #expect(extents(decoded) == [0..<98, 14..<98, 34..<98])
        let cut = decode(frame, capturedAll: false)
        #expect(cut.error == nil)
        #expect(summary(cut) == "ethernet:0 ipv4:0 udp:0")
    }

    /// tcpdump__tcp_rst_data-trunc.pcap: 111 of 112 bytes captured (IPv4 total length 98).
    @Test func snapLengthCut() throws {
        let frame = try Capture.frame(1, of: "tcpdump__tcp_rst_data-trunc.pcap")
        #expect(frame.count == 111)
        let cut = decode(frame, capturedAll: false)
        #expect(cut.error == nil)
        #expect(summary(cut) == "ethernet:0 ipv4:0 tcp:0")
        #expect(decode(frame).error == DecodeError(layer: .ipv4, depth: 0, problem: .badTotalLength(98)))
    }

    @Test func ipv6PayloadLengthBeyondTheBytes() {
        var frame = Build.ethernet(.ipv6, Build.ipv6(.udp, Build.udp(1, 2, [1, 2, 3, 4])))
        frame[14 + 5] += 1  // payload length 13, 12 present
        let decoded = decode(frame)
        #expect(decoded.error == DecodeError(layer: .ipv6, depth: 0, problem: .badTotalLength(13)))
        #expect(summary(decoded) == "ethernet:0 ipv6:0 udp:0")
        #expect(decode(frame, capturedAll: false).error == nil)
    }

    /// tcpdump__ipv4_invalid_hdr_length.pcap: IHL 4. The error names IPv4, which is not a layer.
    @Test func badIHL() throws {
        let decoded = decode(try Capture.frame(1, of: "tcpdump__ipv4_invalid_hdr_length.pcap"))
        #expect(decoded.error == DecodeError(layer: .ipv4, depth: 0, problem: .badHeaderLength(16)))
        #expect(decoded.error?.description == "ipv4: bad header length 16")
        #expect(summary(decoded) == "ethernet:0")
        #expect(decoded.last(.ipv4) == nil)
    }

    @Test func truncatedTCPIsAnError() {
        let frame = Build.ethernet(.ipv4, Build.ipv4(.tcp, Array(Build.tcp()[0..<12])))
        let decoded = decode(frame)
        #expect(decoded.error == DecodeError(layer: .tcp, depth: 0, problem: .truncated(needed: 20, available: 12)))
        #expect(summary(decoded) == "ethernet:0 ipv4:0")
    }

    /// Ethernet and 15 tags fill the 16 layers; whatever comes next does not fit.
    @Test(arguments: [(14, nil), (15, LayerKind.arp), (16, LayerKind.vlan), (40, LayerKind.vlan)] as [(Int, LayerKind?)])
    func tooManyLayers(tags: Int, failing: LayerKind?) {
        var payload = Build.arp
        for _ in 0..<tags { payload = Build.vlan(7, payload.count == 28 ? .arp : .vlan, payload) }
        let frame = Build.ethernet(.vlan, payload)
        let decoded = decode(frame)
        #expect(decoded.layerCount == min(1 + tags + 1, 16))
        if let failing {
            #expect(decoded.error == DecodeError(layer: failing, depth: 0, problem: .malformed(.tooManyLayers)))
            #expect(decoded.error?.description == "\(failing.name): malformed: more than 16 layers")
        } else {
            #expect(decoded.error == nil)
            #expect(decoded.layers[15].kind == .arp)
        }
    }

    // MARK: The result

    @Test func lastFindsTheInnermost() {
        let frame = Build.ethernet(.ipv4, Build.ipv4(.udp, Build.udp(45149, 4789, Build.vxlan(100, Build.innerPing))))
        let decoded = decode(frame)
        #expect(decoded.last(.ethernet)?.offset == 50)
        #expect(decoded.last(.ethernet)?.depth == 1)
        #expect(decoded.last(.vxlan)?.offset == 42)
        #expect(decoded.last(.tcp) == nil)
    }

    @Test func layerBytes() throws {
        let frame = try Capture.frame(1, of: "tcpdump__802.1ad_QinQ.pcap")
        let decoded = decode(frame)
        let arp = try #require(decoded.last(.arp))
        var bytes: [UInt8] = []
        arp.bytes(in: frame.span.bytes).withUnsafeBytes { bytes = Array($0) }
        #expect(bytes == ARPTests.request)
    }

    /// Decoding into a used result starts afresh.
    @Test func decodeIntoResets() throws {
        var result = DecodedFrame()
        let bad = try Capture.frame(1, of: "tcpdump__ipv4_invalid_hdr_length.pcap")
        decoder.decode(bad.span.bytes, into: &result)
        #expect(result.error != nil)
        let good = try Capture.frame(1, of: "zeek__tunnels_4in4.pcap")
        decoder.decode(good.span.bytes, into: &result)
        #expect(result.error == nil)
        #expect(summary(result) == "ethernet:0 ipv4:0 ipv4:1 udp:1")
    }

    @Test func layerPacking() {
        let layer = Layer(kind: .geneve, depth: 127, isQuoted: true, offset: 0xFF_FFFF, end: 0x40000)
        #expect(layer.kind == .geneve)
        #expect(layer.depth == 127)
        #expect(layer.isQuoted)
        #expect(layer.offset == 0xFF_FFFF)
        #expect(layer.end == 0x40000)
    }
}
