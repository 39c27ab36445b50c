import Testing
import Wire

/// Neighbor Solicitation/Advertisement (RFC 4861 §4.3, §4.4): deconstruct, construct,
/// parse and emit, and the malformed cases §7.1 says to discard.
struct NeighborDiscoveryTests {
    /// A solicitation for fd00::1 from 02:00:c0:a8:01:19, checksummed for fd00::19 →
    /// ff02::1:ff00:1 (the checksum field below was computed by Python's RFC 1071 code in
    /// fixtures/generate.py, the demo capture's solicitation).
    static let solicitation: [UInt8] = [
        0x87, 0x00, 0xBB, 0xC0,                          // type 135, code 0, checksum
        0x00, 0x00, 0x00, 0x00,                          // reserved
        0xFD, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01,  // target fd00::1
        0x01, 0x01, 0x02, 0x00, 0xC0, 0xA8, 0x01, 0x19,  // source link-layer option
    ]
    static let source = IPv6Address(high: 0xFD00_0000_0000_0000, low: 0x19)
    static let group = IPv6Address(high: 0xFF02_0000_0000_0000, low: 0x1_FF00_0001)

    /// Parses `bytes` as an ICMPv6 message and then as neighbour discovery.
    static func parse(_ bytes: [UInt8]) throws -> NeighborDiscoveryRepr {
        let message = try ICMPv6Message(validating: bytes.span.bytes)
        return try NeighborDiscoveryRepr(message)
    }

    /// True when the ICMPv6 checksum of `bytes` is right for the test's addresses.
    static func checksumIsValid(_ bytes: [UInt8]) throws -> Bool {
        let message = try ICMPv6Message(validating: bytes.span.bytes)
        return message.isChecksumValid(pseudoHeaderSum: sum(length: bytes.count))
    }

    static func sum(length: Int) -> UInt16 {
        InternetChecksum.pseudoHeaderSum(source: source, destination: group, protocol: .icmpv6, length: length)
    }

    @Test func deconstruct() throws {
        #expect(try Self.checksumIsValid(Self.solicitation))
        let repr = try Self.parse(Self.solicitation)
        #expect(repr == NeighborDiscoveryRepr(kind: .solicitation, target: IPv6Address(high: 0xFD00_0000_0000_0000, low: 1),
                                              linkLayerAddress: MACAddress(rawValue: 0x0200_C0A8_0119)))
    }

    @Test func constructMatchesTheFixture() {
        let repr = NeighborDiscoveryRepr(kind: .solicitation, target: IPv6Address(high: 0xFD00_0000_0000_0000, low: 1),
                                         linkLayerAddress: MACAddress(rawValue: 0x0200_C0A8_0119))
        var bytes = [UInt8](repeating: 0xAA, count: repr.length)
        bytes.withMutableRawSpan { repr.emit(into: &$0, pseudoHeaderSum: Self.sum(length: repr.length)) }
        #expect(bytes == Self.solicitation)
    }

    @Test func advertisementFlagsRoundTrip() throws {
        let repr = NeighborDiscoveryRepr(kind: .advertisement,
                                         flags: NeighborDiscoveryRepr.solicitedFlag | NeighborDiscoveryRepr.overrideFlag,
                                         target: Self.source, linkLayerAddress: MACAddress(rawValue: 0x0242_AC11_0001))
        var bytes = [UInt8](repeating: 0, count: repr.length)
        bytes.withMutableRawSpan { repr.emit(into: &$0, pseudoHeaderSum: Self.sum(length: repr.length)) }
        #expect(bytes[4] == 0x60)   // S and O
        #expect(bytes[24] == 2)     // target link-layer address option
        #expect(try Self.checksumIsValid(bytes))
        #expect(try Self.parse(bytes) == repr)
    }

    @Test func anOptionOfLengthZeroIsRejected() throws {
        var bytes = Self.solicitation
        bytes[25] = 0
        #expect(throws: WireError.malformed(.badNeighborDiscoveryOption)) { try Self.parse(bytes) }
    }

    @Test func anOptionPastTheEndIsRejected() throws {
        var bytes = Self.solicitation
        bytes[25] = 2
        #expect(throws: WireError.malformed(.badNeighborDiscoveryOption)) { try Self.parse(bytes) }
    }

    @Test(arguments: [8, 16, 23])
    func aTruncatedMessageIsRejected(count: Int) throws {
        let bytes = Array(Self.solicitation.prefix(count))
        #expect(throws: WireError.self) { try Self.parse(bytes) }
    }

    @Test func echoIsNotNeighbourDiscovery() throws {
        let bytes: [UInt8] = [128, 0, 0, 0, 0, 1, 0, 1] + [UInt8](repeating: 0, count: 16)
        #expect(throws: WireError.malformed(.notNeighborDiscovery)) { try Self.parse(bytes) }
    }

    @Test func solicitedNodeAndMulticastMAC() {
        let address = IPv6Address(high: 0xFD00_0000_0000_0000, low: 0x1234_5678_9ABC)
        #expect(address.solicitedNode == IPv6Address(high: 0xFF02_0000_0000_0000, low: 0x1_FF78_9ABC))
        #expect(MACAddress(ipv6Multicast: address.solicitedNode) == MACAddress(rawValue: 0x3333_FF78_9ABC))
    }
}
