import Wire

// The packet side of IPv6 NAT: facts of an IPv6 packet, and rewrites from one key and address
// pair to another. IPv6 has no header checksum (RFC 8200), but TCP, UDP and ICMPv6 checksums
// all cover the addresses through the pseudo-header (RFC 8200 §8.1, RFC 4443 §2.3), so every
// address change reaches the L4 checksum, ICMPv6 echo's included.
extension NATRewrite {
    /// The facts of the IPv6 packet at `network` whose transport header (`proto`: TCP, UDP or
    /// ICMPv6, after any extension headers) is at `transport`, and its addresses.
    @inline(__always)
    static func facts6(of bytes: RawSpan, network: Int, transport: Int, proto: IPProtocol) -> (facts: Facts, addresses: AddressPair6)? {
        guard network >= 0, transport >= network + IPv6Header.length, bytes.byteCount >= transport + 8 else { return nil }
        let pair = AddressPair6(source: address6(bytes, at: network + IPv6Header.Field.source),
                                destination: address6(bytes, at: network + IPv6Header.Field.destination))
        switch proto {
        case .tcp:
            guard bytes.byteCount >= transport + TCPHeader.minimumLength else { return nil }
            let key = FlowKey(source: pair.source, destination: pair.destination, sourcePort: bytes.u16(at: transport),
                              destinationPort: bytes.u16(at: transport + 2), protocol: .tcp)
            return (Facts(key: key, flags: TCPFlags(rawValue: bytes.u16(at: transport + TCPHeader.Field.dataOffsetAndFlags)), icmpType: 0), pair)
        case .udp:
            let key = FlowKey(source: pair.source, destination: pair.destination, sourcePort: bytes.u16(at: transport),
                              destinationPort: bytes.u16(at: transport + 2), protocol: .udp)
            return (Facts(key: key, flags: [], icmpType: 0), pair)
        case .icmpv6:
            let identifier = bytes.u16(at: transport + ICMPv6Message.Field.identifier)
            let key = FlowKey(source: pair.source, destination: pair.destination, sourcePort: identifier,
                              destinationPort: identifier, protocol: .icmpv6)
            return (Facts(key: key, flags: [], icmpType: bytes.u8(at: transport)), pair)
        default:
            return nil
        }
    }

    /// The IPv6 address at `offset`.
    @inline(__always)
    static func address6(_ bytes: RawSpan, at offset: Int) -> IPv6Address {
        IPv6Address(high: bytes.u64(at: offset), low: bytes.u64(at: offset + 8))
    }

    /// The sum of `~old + new` over the eight 16-bit words of two IPv6 addresses.
    static func addressDelta(_ old: IPv6Address, _ new: IPv6Address) -> UInt64 {
        var sum: UInt64 = 0
        for shift in stride(from: 0, to: 64, by: 16) {
            sum += UInt64(~UInt16(truncatingIfNeeded: old.high >> shift)) + UInt64(UInt16(truncatingIfNeeded: new.high >> shift))
            sum += UInt64(~UInt16(truncatingIfNeeded: old.low >> shift)) + UInt64(UInt16(truncatingIfNeeded: new.low >> shift))
        }
        return sum
    }

    /// The checksum deltas of rewriting an IPv6 packet with key `old` and addresses `oldPair`
    /// into one with `new` and `newPair`: the pseudo-header addresses alone (for a checksum the
    /// kernel finishes, `apply6`'s `partialChecksum`), and the whole L4 delta (addresses and
    /// ports, or ICMPv6 identifier).
    static func deltas6(from old: FlowKey, _ oldPair: AddressPair6, to new: FlowKey, _ newPair: AddressPair6) -> (addresses: UInt16, l4: UInt16) {
        let addresses = addressDelta(oldPair.source, newPair.source) + addressDelta(oldPair.destination, newPair.destination)
        let ports = old.protocol == .icmpv6 ? UInt64(~old.sourcePort) + UInt64(new.sourcePort)
            : UInt64(~old.sourcePort) + UInt64(new.sourcePort) + UInt64(~old.destinationPort) + UInt64(new.destinationPort)
        return (InternetChecksum.fold(addresses), InternetChecksum.fold(addresses + ports))
    }

    /// Rewrites the IPv6 packet at `network`/`transport` (key `old`, addresses `oldPair`) to
    /// carry `new` and `newPair`, adding the precomputed deltas to its L4 checksum; with
    /// `partialChecksum`, as `apply` does for IPv4.
    @inline(__always)
    static func apply6(_ bytes: inout MutableRawSpan, network: Int, transport: Int, old: FlowKey, oldPair: AddressPair6,
                       new: FlowKey, newPair: AddressPair6, addressDelta: UInt16, l4Delta: UInt16, partialChecksum: Bool = false) {
        if oldPair != newPair { setAddresses6(&bytes, network: network, to: newPair) }
        if partialChecksum && (old.protocol == .tcp || old.protocol == .udp) {
            bytes.setU16(new.sourcePort, at: transport + TCPHeader.Field.sourcePort)
            bytes.setU16(new.destinationPort, at: transport + TCPHeader.Field.destinationPort)
            let at = transport + (old.protocol == .tcp ? TCPHeader.Field.checksum : UDPHeader.Field.checksum)
            if oldPair != newPair { bytes.setU16(InternetChecksum.add(bytes.bytes.u16(at: at), addressDelta), at: at) }
            return
        }
        // ICMPv6 echo keeps its identifier and checksum where ICMP's are (RFC 4443 §4.1).
        rewriteTransport(&bytes, transport: transport, protocol: old.protocol, new: new, l4Delta: l4Delta)
    }

    /// Writes both addresses of the IPv6 header at `network`.
    @inline(__always)
    static func setAddresses6(_ bytes: inout MutableRawSpan, network: Int, to pair: AddressPair6) {
        bytes.setU64(pair.source.high, at: network + IPv6Header.Field.source)
        bytes.setU64(pair.source.low, at: network + IPv6Header.Field.source + 8)
        bytes.setU64(pair.destination.high, at: network + IPv6Header.Field.destination)
        bytes.setU64(pair.destination.low, at: network + IPv6Header.Field.destination + 8)
    }
}
