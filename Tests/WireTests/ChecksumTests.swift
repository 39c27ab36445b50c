import Testing
import Wire

/// The Internet checksum: RFC 1071 (sum), RFC 1624 (incremental update), RFC 768/793 and
/// RFC 8200 §8.1 (pseudo-headers).
struct ChecksumTests {
    /// RFC 1071 §3, "Numerical Example": these bytes sum to 0xddf2 (2's complement
    /// 0x2ddf0 folded), so the checksum field is ~0xddf2 = 0x220d.
    static let rfc1071: [UInt8] = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]

    @Test func rfc1071NumericalExample() {
        #expect(InternetChecksum.sum(Self.rfc1071.span.bytes) == 0xddf2)
        #expect(InternetChecksum.checksum(Self.rfc1071.span.bytes) == 0x220d)
        // With the checksum appended the receiver's sum is all ones.
        let withChecksum = Self.rfc1071 + [0x22, 0x0d]
        #expect(InternetChecksum.verify(withChecksum.span.bytes) == true)
    }

    /// An odd final byte is the high byte of a word padded with zero (RFC 1071 §4.1):
    /// 0xddf2 + 0xab00 = 0x188f2 → 0x88f3.
    @Test func oddLength() {
        let bytes = Self.rfc1071 + [0xab]
        #expect(InternetChecksum.sum(bytes.span.bytes) == 0x88f3)
        #expect(InternetChecksum.checksum(bytes.span.bytes) == 0x770c)
        #expect(InternetChecksum.sum(([0xab] as [UInt8]).span.bytes) == 0xab00)
    }

    @Test func emptyAndInitial() {
        let empty: [UInt8] = []
        #expect(InternetChecksum.sum(empty.span.bytes) == 0)
        #expect(InternetChecksum.sum(empty.span.bytes, initial: 0x1234) == 0x1234)
        #expect(InternetChecksum.sum(Self.rfc1071.span.bytes, initial: 0x2000) == 0xfdf2)
        #expect(InternetChecksum.sum(Self.rfc1071.span.bytes, initial: 0x3000) == 0x0df3)  // 0x10df2 → 0x0df3
    }

    @Test func onesComplementAddition() {
        #expect(InternetChecksum.add(0xffff, 0x0001) == 0x0001)
        #expect(InternetChecksum.add(0x8000, 0x8000) == 0x0001)
        #expect(InternetChecksum.add(0xfffe, 0x0001) == 0xffff)
        #expect(InternetChecksum.add(0x1234, 0x0000) == 0x1234)
        #expect(InternetChecksum.fold(0x2_ddf0) == 0xddf2)
        #expect(InternetChecksum.fold(0xffff_ffff_ffff_ffff) == 0xffff)
    }

    /// A real header verifies: tcpdump__vxlan.pcap frame 1's outer IPv4 header, and its
    /// checksum recomputed with the field zeroed is the captured 0x5152.
    @Test func realIPv4Header() throws {
        let header = Array(try Capture.frame(1, of: "tcpdump__vxlan.pcap")[14..<34])
        #expect(Array(header[10..<12]) == [0x51, 0x52])
        #expect(InternetChecksum.verify(header.span.bytes) == true)
        var zeroed = header
        zeroed[10] = 0
        zeroed[11] = 0
        #expect(InternetChecksum.checksum(zeroed.span.bytes) == 0x5152)
        // zeek__chksums_merged.pcap frame 1: header checksum 0x0001, bad.
        let bad = Array(try Capture.frame(1, of: "zeek__chksums_merged.pcap")[14..<34])
        #expect(InternetChecksum.verify(bad.span.bytes) == false)
    }

    /// RFC 1624 §4: HC = 0xDD2F, a field changes from m = 0x5555 to m' = 0x3285. Eqn. 3 gives
    /// 0x0000; RFC 1141's HC' = HC + m + ~m' gives 0xFFFF, the wrong zero.
    @Test func rfc1624Example() {
        #expect(InternetChecksum.update(0xdd2f, old: UInt16(0x5555), new: UInt16(0x3285)) == 0x0000)
        let rfc1141 = InternetChecksum.add(InternetChecksum.add(0xdd2f, 0x5555), ~UInt16(0x3285))
        #expect(rfc1141 == 0xffff)
    }

    /// The sum agrees with the word-by-word reference for every length from 0 to 70 and
    /// every start parity, over all-ones bytes (the most carries) and random bytes.
    @Test func sumMatchesReference() {
        var generator = SeededGenerator(seed: 1071)
        for length in 0...70 {
            let ones = [UInt8](repeating: 0xff, count: length)
            #expect(InternetChecksum.sum(ones.span.bytes) == referenceSum(ones), "all ones, \(length) bytes")
            for _ in 0..<8 {
                let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
                let initial = UInt16.random(in: 0...0xffff, using: &generator)
                #expect(InternetChecksum.sum(bytes.span.bytes, initial: initial) == referenceSum(bytes, initial: initial),
                        "\(bytes) initial \(initial)")
            }
        }
    }

    /// Long buffers (a jumbo frame) and every start alignment: the 64-bit accumulator's
    /// carries must all come back.
    @Test func sumOfLongAndMisalignedBuffers() {
        var generator = SeededGenerator(seed: 9000)
        let ones = [UInt8](repeating: 0xff, count: 9001)
        #expect(InternetChecksum.sum(ones.span.bytes) == referenceSum(ones))
        let random = (0..<9001).map { _ in UInt8.random(in: 0...255, using: &generator) }
        #expect(InternetChecksum.sum(random.span.bytes) == referenceSum(random))
        for start in 1..<8 {
            let slice = random.span.bytes.extracting(start..<(start + 1500))
            #expect(InternetChecksum.sum(slice) == referenceSum(Array(random[start..<(start + 1500)])), "from \(start)")
        }
    }

    /// Changing a 32-bit field (an IPv4 address) by RFC 1624 eqn. 3, twice over, gives the
    /// checksum a full recomputation gives: 300 random headers from a fixed seed.
    @Test func incrementalAddressUpdate() {
        var generator = SeededGenerator(seed: 1624)
        for _ in 0..<300 {
            var header = (0..<20).map { _ in UInt8.random(in: 0...255, using: &generator) }
            header[0] = 0x45
            header[10] = 0
            header[11] = 0
            let oldChecksum = ~referenceSum(header)
            header[10] = UInt8(oldChecksum >> 8)
            header[11] = UInt8(oldChecksum & 0xff)

            let field = [12, 16].randomElement(using: &generator)!  // source or destination
            let old = header[field..<(field + 4)].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            let new = UInt32.random(in: 0...UInt32.max, using: &generator)
            for index in 0..<4 { header[field + index] = UInt8(truncatingIfNeeded: new >> (24 - 8 * index)) }

            let updated = InternetChecksum.update(oldChecksum, old: old, new: new)
            header[10] = 0
            header[11] = 0
            let recomputed = ~referenceSum(header)
            #expect(updated == recomputed, "\(header) \(old) → \(new)")
        }
    }

    /// The same for 16-bit fields (TTL and protocol, a port).
    @Test func incrementalWordUpdate() {
        var generator = SeededGenerator(seed: 768)
        for _ in 0..<300 {
            var words = (0..<10).map { _ in UInt16.random(in: 0...0xffff, using: &generator) }
            words[5] = 0
            func bytes() -> [UInt8] { words.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xff)] } }
            let oldChecksum = ~referenceSum(bytes())
            let index = Int.random(in: 0..<10, using: &generator)
            guard index != 5 else { continue }
            let old = words[index]
            let new = UInt16.random(in: 0...0xffff, using: &generator)
            words[index] = new
            #expect(InternetChecksum.update(oldChecksum, old: old, new: new) == ~referenceSum(bytes()))
        }
    }

    /// The IPv4 pseudo-header sum is the sum of the 12 bytes RFC 768 lays out, and with it the
    /// TCP segment of zeek__chksums_merged.pcap frame 2 and the UDP datagram of frame 4
    /// (127.0.0.1 → 127.0.0.1, both good in tshark) verify and re-emit byte for byte.
    @Test func ipv4PseudoHeader() throws {
        let loopback = IPv4Address(127, 0, 0, 1)
        let tcpSum = InternetChecksum.pseudoHeaderSum(source: loopback, destination: loopback, protocol: .tcp, length: 20)
        let tcpPseudoHeader: [UInt8] = [
            0x7f, 0x00, 0x00, 0x01,  // source 127.0.0.1
            0x7f, 0x00, 0x00, 0x01,  // destination 127.0.0.1
            0x00, 0x06,              // zero, protocol 6
            0x00, 0x14,              // TCP length 20
        ]
        #expect(tcpSum == referenceSum(tcpPseudoHeader))
        #expect(tcpSum == 0xfe1c)

        let tcp = Array(try Capture.frame(2, of: "zeek__chksums_merged.pcap")[34...])
        #expect(Array(tcp[16..<18]) == [0x1c, 0x60])
        #expect(InternetChecksum.verify(tcp.span.bytes, initial: tcpSum) == true)
        let tcpRepr = TCPRepr(sourcePort: 30000, destinationPort: 80, sequence: 0, flags: .syn, window: 8192)
        #expect(emitted(count: 20) { tcpRepr.emit(into: &$0, pseudoHeaderSum: tcpSum) } == tcp)

        let udpSum = InternetChecksum.pseudoHeaderSum(source: loopback, destination: loopback, protocol: .udp, length: 12)
        #expect(udpSum == referenceSum([0x7f, 0, 0, 1, 0x7f, 0, 0, 1, 0x00, 0x11, 0x00, 0x0c]))
        let udp = Array(try Capture.frame(4, of: "zeek__chksums_merged.pcap")[34...])
        #expect(Array(udp[6..<8]) == [0xa9, 0x2a])
        #expect(InternetChecksum.verify(udp.span.bytes, initial: udpSum) == true)
        let udpRepr = UDPRepr(sourcePort: 30000, destinationPort: 13000)
        #expect(emitted(over: [UInt8](repeating: 0, count: 8) + udp[8...]) { udpRepr.emit(into: &$0, pseudoHeaderSum: udpSum) } == udp)
    }

    /// The IPv6 pseudo-header (RFC 8200 §8.1: source, destination, 32-bit length, 3 zero
    /// bytes, next header) with frames 8 (TCP), 10 (UDP) and 12 (ICMPv6) of
    /// zeek__chksums_merged.pcap, all good in tshark; frames 9, 11 and 13 are the bad twins.
    @Test(arguments: [
        (8, IPProtocol.tcp, 20, [0x2f, 0x8a] as [UInt8], 9),
        (10, IPProtocol.udp, 12, [0xbc, 0x54] as [UInt8], 11),
        (12, IPProtocol.icmpv6, 15, [0x54, 0xcf] as [UInt8], 13),
    ])
    func ipv6PseudoHeader(frame number: Int, protocol proto: IPProtocol, length: Int, checksum: [UInt8], badTwin: Int) throws {
        let frame = try Capture.frame(number, of: "zeek__chksums_merged.pcap")
        let source = IPv6Address(groups: [0x2001, 0x04f8, 0x0004, 0x0007, 0x02e0, 0x81ff, 0xfe52, 0xffff])
        let destination = IPv6Address(groups: [0x2001, 0x04f8, 0x0004, 0x0007, 0x02e0, 0x81ff, 0xfe52, 0x9a6b])
        let sum = InternetChecksum.pseudoHeaderSum(source: source, destination: destination, protocol: proto, length: length)
        let pseudoHeader = Array(frame[22..<54]) + [0, 0, 0, UInt8(length), 0, 0, 0, proto.rawValue]
        #expect(sum == referenceSum(pseudoHeader))

        let segment = Array(frame[54...])
        #expect(segment.count == length)
        #expect(Array(segment[(proto == .udp ? 6 : proto == .tcp ? 16 : 2)...].prefix(2)) == checksum)
        #expect(InternetChecksum.verify(segment.span.bytes, initial: sum) == true)
        let bad = Array(try Capture.frame(badTwin, of: "zeek__chksums_merged.pcap")[54...])
        #expect(InternetChecksum.verify(bad.span.bytes, initial: sum) == false)

        // Re-emitting the header over the same data computes the captured checksum.
        let headerLength = proto == .tcp ? 20 : 8
        let data = [UInt8](repeating: 0, count: headerLength) + segment[headerLength...]
        let rebuilt: [UInt8]
        switch proto {
        case .tcp:
            let repr = TCPRepr(sourcePort: 30000, destinationPort: 80, sequence: 0, flags: .syn, window: 8192)
            rebuilt = emitted(over: data) { repr.emit(into: &$0, pseudoHeaderSum: sum) }
        case .udp:
            rebuilt = emitted(over: data) { UDPRepr(sourcePort: 30000, destinationPort: 13000).emit(into: &$0, pseudoHeaderSum: sum) }
        default:
            rebuilt = emitted(over: data) { ICMPv6Repr(type: ICMPv6Repr.echoRequest, code: 0).emit(into: &$0, pseudoHeaderSum: sum) }
        }
        #expect(rebuilt == segment)
    }

    /// A length above 65535 (an IPv6 jumbogram) adds its high half too.
    @Test func pseudoHeaderLengthAbove16Bits() {
        let sum = InternetChecksum.pseudoHeaderSum(source: IPv6Address.any, destination: IPv6Address.any,
                                                   protocol: .udp, length: 0x1_0002)
        #expect(sum == referenceSum([UInt8](repeating: 0, count: 32) + [0x00, 0x01, 0x00, 0x02, 0, 0, 0, 17]))
        let sum4 = InternetChecksum.pseudoHeaderSum(source: IPv4Address.any, destination: IPv4Address.any,
                                                    protocol: .udp, length: 0x1_0002)
        #expect(sum4 == 0x0014)  // 17 + 2 + 1
    }
}
