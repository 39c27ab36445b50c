import Wire

/// The packet side of NAT: reads a packet's flow key, and rewrites a packet from one key to
/// another (addresses, ports or ICMP identifier) with its IP and L4 checksums patched
/// incrementally (RFC 1624), never recomputed. The deltas of a rewrite depend only on the two
/// keys, so the conntrack stage computes them once per connection and direction (STYLE.md,
/// principle 11: precompute, then patch); per packet, the rewrite writes the new fields and
/// adds the deltas.
///
/// A UDP checksum of zero (none sent, RFC 768) stays zero; a patched UDP checksum that comes
/// out as zero is sent as 0xFFFF, its other representation.
enum NATRewrite {
    /// What a packet tells conntrack: its key, and for TCP its flags, for ICMP its type.
    struct Facts: Sendable {
        /// The packet's flow key (ICMP echo: the identifier in both port fields).
        var key: FlowKey
        /// TCP flags (empty for UDP and ICMP).
        var flags: TCPFlags
        /// The ICMP type (0 otherwise).
        var icmpType: UInt8
    }

    /// The facts of the IPv4 packet at `network` with its transport header at `transport`;
    /// nil when it is not TCP, UDP or ICMP or is too short. (A fragment after the first has no
    /// transport header: classification leaves `transport` unknown and nobody asks.)
    @inline(__always)
    static func facts(of bytes: RawSpan, network: Int, transport: Int) -> Facts? {
        guard network >= 0, transport >= network + IPv4Header.minimumLength, bytes.byteCount >= transport + 8 else { return nil }
        let proto = IPProtocol(rawValue: bytes.u8(at: network + IPv4Header.Field.protocol))
        let source = IPv4Address(rawValue: bytes.u32(at: network + IPv4Header.Field.source))
        let destination = IPv4Address(rawValue: bytes.u32(at: network + IPv4Header.Field.destination))
        switch proto {
        case .tcp:
            guard bytes.byteCount >= transport + TCPHeader.minimumLength else { return nil }
            let key = FlowKey(source: source, destination: destination, sourcePort: bytes.u16(at: transport),
                              destinationPort: bytes.u16(at: transport + 2), protocol: .tcp)
            return Facts(key: key, flags: TCPFlags(rawValue: bytes.u16(at: transport + TCPHeader.Field.dataOffsetAndFlags)), icmpType: 0)
        case .udp:
            let key = FlowKey(source: source, destination: destination, sourcePort: bytes.u16(at: transport),
                              destinationPort: bytes.u16(at: transport + 2), protocol: .udp)
            return Facts(key: key, flags: [], icmpType: 0)
        case .icmp:
            let identifier = bytes.u16(at: transport + ICMPv4Message.Field.identifier)
            let key = FlowKey(source: source, destination: destination, sourcePort: identifier, destinationPort: identifier, protocol: .icmp)
            return Facts(key: key, flags: [], icmpType: bytes.u8(at: transport))
        default:
            return nil
        }
    }

    /// The sum of `~old + new` over the 16-bit words of two addresses.
    @inline(__always)
    static func addressDelta(_ old: IPv4Address, _ new: IPv4Address) -> UInt32 {
        UInt32(~UInt16(truncatingIfNeeded: old.rawValue >> 16)) + UInt32(~UInt16(truncatingIfNeeded: old.rawValue))
            + UInt32(UInt16(truncatingIfNeeded: new.rawValue >> 16)) + UInt32(UInt16(truncatingIfNeeded: new.rawValue))
    }

    /// The checksum deltas of rewriting a packet with key `old` into one with key `new`: for
    /// the IP header (the addresses) and for the L4 checksum (TCP and UDP: the pseudo-header
    /// addresses and the ports; ICMP: the identifier, as its checksum has no pseudo-header).
    static func deltas(from old: FlowKey, to new: FlowKey) -> (ip: UInt16, l4: UInt16) {
        let addresses = UInt64(addressDelta(old.source, new.source)) + UInt64(addressDelta(old.destination, new.destination))
        let ip = InternetChecksum.fold(addresses)
        if old.protocol == .icmp {
            return (ip, InternetChecksum.fold(UInt64(~old.sourcePort) + UInt64(new.sourcePort)))
        }
        let ports = UInt64(~old.sourcePort) + UInt64(new.sourcePort) + UInt64(~old.destinationPort) + UInt64(new.destinationPort)
        return (ip, InternetChecksum.fold(addresses + ports))
    }

    /// A checksum after adding `delta` (a sum of `~old + new` words): RFC 1624 eqn. 3.
    @inline(__always)
    static func patch(_ checksum: UInt16, delta: UInt16) -> UInt16 {
        ~InternetChecksum.add(~checksum, delta)
    }

    /// Rewrites the packet at `network`/`transport` (whose key is `old`) to carry `new`, adding
    /// the precomputed `ipDelta` and `l4Delta` to its checksums.
    ///
    /// With `partialChecksum` (a frame from a TAP device with offloads whose TCP/UDP checksum
    /// the kernel will finish, `SegmentOffload.needsChecksum`) the TCP/UDP field holds the
    /// pseudo-header's sum, not yet complemented: only the address change is added to it, and
    /// uncomplemented, as Linux's `inet_proto_csum_replace4` does for `CHECKSUM_PARTIAL`; the
    /// ports are summed by the kernel later.
    @inline(__always)
    static func apply(_ bytes: inout MutableRawSpan, network: Int, transport: Int, old: FlowKey, new: FlowKey,
                             ipDelta: UInt16, l4Delta: UInt16, partialChecksum: Bool = false) {
        if old.addresses != new.addresses { rewriteAddresses(&bytes, network: network, new: new, ipDelta: ipDelta) }
        if partialChecksum && (old.protocol == .tcp || old.protocol == .udp) {
            bytes.setU16(new.sourcePort, at: transport + TCPHeader.Field.sourcePort)  // UDP's ports sit at the same offsets
            bytes.setU16(new.destinationPort, at: transport + TCPHeader.Field.destinationPort)
            let at = transport + (old.protocol == .tcp ? TCPHeader.Field.checksum : UDPHeader.Field.checksum)
            if old.addresses != new.addresses { bytes.setU16(InternetChecksum.add(bytes.bytes.u16(at: at), ipDelta), at: at) }
            return
        }
        rewriteTransport(&bytes, transport: transport, protocol: old.protocol, new: new, l4Delta: l4Delta)
    }

    /// Writes `new`'s addresses into the IPv4 header at `network` and adds `ipDelta` to its checksum.
    @inline(__always)
    static func rewriteAddresses(_ bytes: inout MutableRawSpan, network: Int, new: FlowKey, ipDelta: UInt16) {
        bytes.setU32(new.source.rawValue, at: network + IPv4Header.Field.source)
        bytes.setU32(new.destination.rawValue, at: network + IPv4Header.Field.destination)
        let at = network + IPv4Header.Field.checksum
        bytes.setU16(patch(bytes.bytes.u16(at: at), delta: ipDelta), at: at)
    }

    /// Writes `new`'s ports (ICMP echo: its identifier) into the `proto` header at `transport`
    /// and adds `l4Delta` to its checksum when the checksum lies before `end` (a quoted TCP
    /// header may be cut before it). A UDP checksum of zero (none, RFC 768) stays zero, and
    /// one that becomes zero is sent as 0xFFFF.
    @inline(__always)
    static func rewriteTransport(_ bytes: inout MutableRawSpan, transport: Int, protocol proto: IPProtocol, new: FlowKey,
                                 l4Delta: UInt16, end: Int = .max) {
        switch proto {
        case .tcp:
            bytes.setU16(new.sourcePort, at: transport + TCPHeader.Field.sourcePort)
            bytes.setU16(new.destinationPort, at: transport + TCPHeader.Field.destinationPort)
            let at = transport + TCPHeader.Field.checksum
            if at + 2 <= end { bytes.setU16(patch(bytes.bytes.u16(at: at), delta: l4Delta), at: at) }
        case .udp:
            bytes.setU16(new.sourcePort, at: transport + UDPHeader.Field.sourcePort)
            bytes.setU16(new.destinationPort, at: transport + UDPHeader.Field.destinationPort)
            let at = transport + UDPHeader.Field.checksum
            let checksum = bytes.bytes.u16(at: at)
            if checksum != 0 {
                let patched = patch(checksum, delta: l4Delta)
                bytes.setU16(patched == 0 ? 0xFFFF : patched, at: at)
            }
        default:
            bytes.setU16(new.sourcePort, at: transport + ICMPv4Message.Field.identifier)
            let at = transport + ICMPv4Message.Field.checksum
            bytes.setU16(patch(bytes.bytes.u16(at: at), delta: l4Delta), at: at)
        }
    }

    /// The key of the datagram an ICMP error at `transport` quotes, read from the quoted IP
    /// header and the first 8 bytes after it; nil when the quote is too short or not TCP, UDP
    /// or ICMP echo. Also returns where the quoted IP and L4 headers start.
    static func quotedFacts(of bytes: RawSpan, transport: Int) -> (key: FlowKey, network: Int, transport: Int)? {
        let inner = transport + ICMPv4Message.headerLength
        guard bytes.byteCount >= inner + IPv4Header.minimumLength else { return nil }
        let versionAndLength = bytes.u8(at: inner)
        let headerLength = Int(versionAndLength & 0x0F) * 4
        guard versionAndLength >> 4 == 4, headerLength >= IPv4Header.minimumLength,
              bytes.u16(at: inner + IPv4Header.Field.flagsAndFragmentOffset) & IPv4Header.FragmentMask.offset == 0,
              let facts = facts(of: bytes, network: inner, transport: inner + headerLength) else { return nil }
        if facts.key.protocol == .icmp && facts.icmpType != ICMPv4Type.echoRequest.rawValue
            && facts.icmpType != ICMPv4Type.echoReply.rawValue { return nil }
        return (facts.key, inner, inner + headerLength)
    }

    /// Translates an ICMP error (RFC 792) whose quoted datagram has key `quotedOld`: the
    /// quoted IP and L4 headers are rewritten to `quotedNew` (their own checksums patched,
    /// a quoted TCP checksum only when the quote reaches it), and the ICMP checksum gets the
    /// difference of the quoted bytes' sum before and after (RFC 1624 over that block).
    /// `end` is where the ICMP message ends (the outer IP total length; Ethernet padding
    /// after it is not part of the quote).
    static func translateQuoted(_ bytes: inout MutableRawSpan, icmp: Int, network: Int, transport: Int,
                                       end messageEnd: Int? = nil, quotedOld: FlowKey, quotedNew: FlowKey) {
        let end = min(messageEnd ?? bytes.byteCount, bytes.byteCount)
        // The block the rewrite touches: quoted IP header and up to 20 bytes of L4, even-sized
        // and starting at an even offset from the ICMP header (so word sums line up).
        let blockEnd = min(end, transport + TCPHeader.minimumLength)
        let blockCount = (blockEnd - network) & ~1
        let before = InternetChecksum.sum(bytes.bytes.slice(from: network, count: blockCount))
        let (ipDelta, l4Delta) = deltas(from: quotedOld, to: quotedNew)
        rewriteAddresses(&bytes, network: network, new: quotedNew, ipDelta: ipDelta)
        rewriteTransport(&bytes, transport: transport, protocol: quotedOld.protocol, new: quotedNew, l4Delta: l4Delta, end: end)
        let after = InternetChecksum.sum(bytes.bytes.slice(from: network, count: blockCount))
        let icmpAt = icmp + ICMPv4Message.Field.checksum
        let delta = InternetChecksum.add(~before, after)
        bytes.setU16(patch(bytes.bytes.u16(at: icmpAt), delta: delta), at: icmpAt)
    }

    /// Rewrites one address of the outer IP header (the ICMP error's own source or
    /// destination), patching only the IP header checksum (ICMP has no pseudo-header).
    static func setAddress(_ bytes: inout MutableRawSpan, network: Int, field: Int, to address: IPv4Address) {
        let old = IPv4Address(rawValue: bytes.bytes.u32(at: network + field))
        guard old != address else { return }
        bytes.setU32(address.rawValue, at: network + field)
        let at = network + IPv4Header.Field.checksum
        bytes.setU16(patch(bytes.bytes.u16(at: at), delta: InternetChecksum.fold(UInt64(addressDelta(old, address)))), at: at)
    }
}
