import PierBench
import Testing
import PierTestSupport
import Wire
@testable import Dataplane

/// NAT rewrites patch checksums incrementally (RFC 1624); every result is checked by
/// recomputing the checksums over the whole header and segment.
struct NATRewriteTests {
    static let container = IPv4Address(172, 17, 0, 2), node = IPv4Address(192, 168, 1, 25)
    static let outside = IPv4Address(198, 51, 100, 7)

    /// Rewrites `bytes` (whose key is read from them) to `new`; returns the bytes after.
    static func rewrite(_ bytes: [UInt8], to makeNew: (FlowKey) -> FlowKey) throws -> [UInt8] {
        var frame = Frame(bytes: bytes)
        let read = NATRewrite.facts(of: frame.bytes, network: 14, transport: 34)
        let facts = try #require(read)
        let new = makeNew(facts.key)
        let (ip, l4) = NATRewrite.deltas(from: facts.key, to: new)
        var span = frame.mutableBytes
        NATRewrite.apply(&span, network: 14, transport: 34, old: facts.key, new: new, ipDelta: ip, l4Delta: l4)
        let after = NATRewrite.facts(of: frame.bytes, network: 14, transport: 34)
        #expect(after?.key == new)
        return frame.withUnsafeBytes { Array($0) }
    }

    @Test func sourceNATOfTCPKeepsBothChecksumsRight() throws {
        let packet = Packets.tcp(Self.container, 40_000, Self.outside, 80, flags: [.syn])
        let out = try Self.rewrite(packet) { $0.withSource(Self.node, port: 1_025) }
        #expect(Packets.checksumsVerify(out))
        #expect(out != packet)
    }

    @Test func destinationNATOfUDPKeepsBothChecksumsRight() throws {
        let packet = Packets.udp(Self.outside, 51_000, Self.node, 5_353)
        let out = try Self.rewrite(packet) { $0.withDestination(Self.container, port: 53) }
        #expect(Packets.checksumsVerify(out))
    }

    @Test func aUDPChecksumOfZeroStaysZero() throws {
        let packet = Packets.udp(Self.container, 5_000, Self.outside, 53, checksummed: false)
        let out = try Self.rewrite(packet) { $0.withSource(Self.node, port: 61_000) }
        #expect(out[34 + 6] == 0 && out[34 + 7] == 0)
        #expect(Packets.checksumsVerify(out))
    }

    /// Every possible new source port: the patched UDP checksum verifies and is never the
    /// zero that would mean "none" (one of them sums to zero and must be sent as 0xFFFF).
    @Test func everySourcePortGivesAValidNonZeroUDPChecksum() throws {
        let packet = Packets.udp(Self.container, 5_000, Self.outside, 53)
        var frame = Frame(bytes: packet)
        let read = NATRewrite.facts(of: frame.bytes, network: 14, transport: 34)
        let old = try #require(read).key
        var sawFFFF = false
        for port in 0...UInt16.max {
            frame.replaceContents(with: packet.withUnsafeBytes { $0 })
            let new = old.withSource(Self.node, port: port)
            let (ip, l4) = NATRewrite.deltas(from: old, to: new)
            var span = frame.mutableBytes
            NATRewrite.apply(&span, network: 14, transport: 34, old: old, new: new, ipDelta: ip, l4Delta: l4)
            let checksum = frame.bytes.u16(at: 34 + 6)
            if checksum == 0 || !Packets.checksumsVerify(frame) {
                Issue.record("port \(port): checksum \(checksum) wrong")
                break
            }
            sawFFFF = sawFFFF || checksum == 0xFFFF
        }
        #expect(sawFFFF)
    }

    @Test func anEchoIdentifierRewriteKeepsTheICMPChecksumRight() throws {
        let packet = Packets.echo(Self.container, Self.outside, identifier: 7)
        let out = try Self.rewrite(packet) { key in
            FlowKey(source: Self.node, destination: key.destination, sourcePort: 9_999, destinationPort: 9_999, protocol: .icmp)
        }
        #expect(Packets.checksumsVerify(out))
        #expect(out[34 + 4] == 0x27 && out[34 + 5] == 0x0F)  // identifier 9999
    }

    @Test(arguments: 0..<50)
    func randomRewritesOfEveryProtocolVerify(seed: Int) throws {
        var random = SplitMix64(seed: UInt64(seed))
        func address() -> IPv4Address { IPv4Address(rawValue: UInt32(truncatingIfNeeded: random.next())) }
        func port() -> UInt16 { UInt16(truncatingIfNeeded: random.next()) }
        let packets = [
            Packets.tcp(address(), port(), address(), port(), flags: [.ack]),
            Packets.udp(address(), port(), address(), port(), payload: (0..<Int(random.next() % 40)).map { _ in UInt8(truncatingIfNeeded: random.next()) }),
        ]
        for packet in packets {
            let source = address(), sourcePort = port(), destination = address(), destinationPort = port()
            let out = try Self.rewrite(packet) { $0.withSource(source, port: sourcePort).withDestination(destination, port: destinationPort) }
            #expect(Packets.checksumsVerify(out))
        }
    }

    /// An ICMP error quoting a masqueraded datagram, translated back: quoted addresses,
    /// port, quoted IP checksum and the ICMP checksum all right; the quote is what the
    /// container sent.
    @Test func anICMPErrorIsTranslatedInsideAndOut() throws {
        let sent = Packets.udp(Self.container, 45_000, Self.outside, 33_434)
        let masqueraded = try Self.rewrite(sent) { $0.withSource(Self.node, port: 45_000 &+ 7) }
        let error = Packets.icmpError(type: .destinationUnreachable, code: 3, Self.outside, Self.node, quoting: masqueraded)
        var frame = Frame(bytes: error)
        let read = NATRewrite.quotedFacts(of: frame.bytes, transport: 34)
        let quoted = try #require(read)
        #expect(quoted.key == FlowKey(source: Self.node, destination: Self.outside, sourcePort: 45_007, destinationPort: 33_434, protocol: .udp))
        var span = frame.mutableBytes
        NATRewrite.translateQuoted(&span, icmp: 34, network: quoted.network, transport: quoted.transport,
                                   quotedOld: quoted.key, quotedNew: quoted.key.withSource(Self.container, port: 45_000))
        NATRewrite.setAddress(&span, network: 14, field: IPv4Header.Field.destination, to: Self.container)
        let out = frame.withUnsafeBytes { Array($0) }
        #expect(Packets.checksumsVerify(out))
        #expect(Array(out[42...].prefix(28)) == Array(sent[14...].prefix(28)))
        #expect(Array(out[30..<34]) == [172, 17, 0, 2])
    }
}
