import Wire

// ICMPv6 errors about tracked IPv6 connections (RFC 4443 §3: destination unreachable, packet
// too big, time exceeded, parameter problem), "related" in netfilter's words: translated
// inside (the quoted IPv6 header and L4 header) and out (the error's own addresses), and the
// ICMPv6 checksum computed again over the message, as Linux's
// `nf_nat_icmpv6_reply_translation` does. A quote whose IPv6 header is followed by extension
// headers is left alone.
extension ConntrackStage {
    /// Translates an ICMPv6 error about a tracked connection: the quoted packet went the other
    /// way, so its key reversed is the key of the error's own direction.
    func translateRelated6(_ frame: inout Frame) {
        let network = Int(frame.layers.network), icmp = Int(frame.layers.transport)
        let end = min(frame.count, network + IPv6Header.length + Int(frame.bytes.u16(at: network + IPv6Header.Field.payloadLength)))
        let inner = icmp + ICMPv6Message.headerLength
        guard end >= inner + IPv6Header.length + 8, frame.bytes.u8(at: inner) >> 4 == 6 else { return }
        let proto = IPProtocol(rawValue: frame.bytes.u8(at: inner + IPv6Header.Field.nextHeader))
        guard let quoted = NATRewrite.facts6(of: frame.bytes.slice(from: 0, count: end), network: inner,
                                             transport: inner + IPv6Header.length, proto: proto) else { return }
        if proto == .icmpv6 && quoted.facts.icmpType != ICMPv6Repr.echoRequest && quoted.facts.icmpType != ICMPv6Repr.echoReply { return }
        guard let hit = table.find(quoted.facts.key.reversed, addresses: quoted.addresses.reversed,
                                   tag: table.tag(of: quoted.facts.key.reversed), now: frame.timestamp.nanoseconds) else { return }
        let record = table[hit.index]
        guard record.has(.sourceNAT) || record.has(.destinationNAT) else { return }
        let stored = table.addresses6(at: hit.index)
        let pair = stored.pair(hit.direction)
        let translated = record.key(hit.direction.opposite).reversed, translatedPair = stored.pair(hit.direction.opposite).reversed
        let quotedNew = translated.reversed, quotedNewPair = translatedPair.reversed
        let (_, l4Delta) = NATRewrite.deltas6(from: quoted.facts.key, quoted.addresses, to: quotedNew, quotedNewPair)
        var bytes = frame.mutableBytes
        NATRewrite.setAddresses6(&bytes, network: inner, to: quotedNewPair)
        let transport = inner + IPv6Header.length
        // A quoted TCP checksum is patched only when the quote reaches it.
        NATRewrite.rewriteTransport(&bytes, transport: transport, protocol: quotedNew.protocol, new: quotedNew, l4Delta: l4Delta, end: end)
        var outer = AddressPair6(source: NATRewrite.address6(bytes.bytes, at: network + IPv6Header.Field.source),
                                 destination: NATRewrite.address6(bytes.bytes, at: network + IPv6Header.Field.destination))
        if outer.destination == pair.destination { outer.destination = translatedPair.destination }
        if outer.source == pair.source { outer.source = translatedPair.source }
        NATRewrite.setAddresses6(&bytes, network: network, to: outer)
        let checksumAt = icmp + ICMPv6Message.Field.checksum
        bytes.setU16(0, at: checksumAt)
        let pseudo = InternetChecksum.pseudoHeaderSum(source: outer.source, destination: outer.destination, protocol: .icmpv6, length: end - icmp)
        bytes.setU16(InternetChecksum.checksum(bytes.bytes.slice(from: icmp, count: end - icmp), initial: pseudo), at: checksumAt)
        context.counters.count(.relatedTranslated)
        context.trace(frame, "conntrack: ICMPv6 error about \(Self.tuple6(quoted.facts.key, quoted.addresses)) (related), translated to quote \(Self.tuple6(quotedNew, quotedNewPair))")
    }
}
