import Wire

/// Defrag: reassembles IPv4 and IPv6 fragments left for the node's interfaces before
/// conntrack sees them, as Linux's `nf_defrag_ipv4` and `nf_defrag_ipv6` do at PREROUTING, so
/// that every fragment of a datagram is tracked and translated with it. A fragment waits in
/// the `ReassemblyTable` (its verdict `held`); the one that completes the datagram becomes it:
/// the first fragment's headers, the whole payload, the IPv4 total length, flags and checksum
/// (DF kept when every fragment had it) or the IPv6 payload length without the fragment header,
/// classified again. The datagram remembers its largest fragment (`Frame.fragmentLimit`):
/// the output step cuts it into fragments of that size again (`Fragmenter`), as Linux
/// refragments to `frag_max_size`.
///
/// Dropped: an IPv4 fragment with a bad header checksum (`bad-ipv4-checksum`, as `ip_rcv`
/// drops it before defrag); a duplicate alone (`fragment-duplicate`); with its whole datagram,
/// an overlap (`fragment-overlap`: RFC 5722, and IPv4 as Linux since 4.19), an inconsistent
/// fragment (`fragment-inconsistent`: bytes beyond the last fragment, a second last fragment
/// elsewhere, an empty one, too many holes), a datagram over 65,535 bytes
/// (`fragment-oversize`); an IPv6 first fragment without the whole upper-layer header
/// (`fragment-incomplete-header`, RFC 8200 §4.5 / RFC 7112) or a non-last one whose length is
/// not a multiple of 8; datagrams not complete 30 s after their first fragment
/// (`reassembly-timeout`) or evicted, oldest first, when the waiting fragments would hold more
/// than 4 MB (`reassembly-evicted`). An IPv4 tiny first fragment (RFC 1858) is reassembled like
/// any other, so conntrack sees the whole transport header. An IPv6 atomic fragment (offset 0,
/// M clear) is passed on alone, never queued (RFC 6946).
///
/// It does not reassemble bridged traffic (Linux does only with br_netfilter) or outer
/// fragments of tunnel packets (the decap stage drops those first).
package final class DefragStage: BatchStage {
    private let context: PipelineContext
    private let classify: ClassifyStage
    /// The datagrams waiting for their fragments.
    let table: ReassemblyTable

    /// Makes the stage; `classify` classifies reassembled datagrams again.
    init(context: PipelineContext, classify: ClassifyStage) {
        self.context = context
        self.classify = classify
        table = ReassemblyTable(pool: context.pool, counters: context.counters)
    }

    /// Makes the stage with a classify stage of its own (for benchmarks).
    package convenience init(context: PipelineContext) {
        self.init(context: context, classify: ClassifyStage(context: context))
    }

    /// The datagrams waiting for fragments.
    package var waitingCount: Int { table.count }

    /// Says that the next batch may hold fragments, as classify says when its general decoder
    /// saw an IP packet (for a benchmark that classifies its frames itself).
    package func expectFragments() { classify.sawPossibleFragment = true }

    /// Files every fragment of the batch bound for the node's interfaces; expires what
    /// waited too long first.
    package func run(_ batch: inout Batch) {
        if table.count > 0 { table.expire(now: context.now.nanoseconds) }
        // Plain IPv4 never is a fragment: classify's fast path took it.
        guard classify.sawPossibleFragment else { return }
        classify.sawPossibleFragment = false
        for index in 0..<batch.count {
            guard case .toInterface = batch[index].verdict else { continue }
            let type = batch[index].layers.networkType
            if type == .ipv4 {
                let network = Int(batch[index].layers.network)
                guard batch[index].bytes.u16(at: network + IPv4Header.Field.flagsAndFragmentOffset) & 0x3FFF != 0 else { continue }
                defragment4(&batch[index], network: network)
            } else if type == .ipv6 {
                defragment6(&batch[index])
            }
        }
    }

    /// What the stage reads of a packet.
    enum Reading {
        /// Not a fragment, or one the stage leaves alone.
        case whole
        /// An IPv6 atomic fragment (RFC 6946).
        case atomic
        /// A fragment refused before it reaches the table.
        case refused(DropReason, String)
        /// A fragment for the table.
        case fragment(FragmentFacts)
    }

    private func file(_ frame: inout Frame, _ reading: Reading, network: Int, isIPv6: Bool) {
        switch reading {
        case .whole: return
        case .atomic:
            context.counters.count(.atomicFragments)
            context.trace(frame, "defrag: atomic fragment (RFC 6946), passed on alone")
        case .refused(let reason, let why):
            frame.verdict = .drop(reason)
            context.trace(frame, "defrag: \(why) -> drop \(reason.name)")
        case .fragment(let facts):
            file(&frame, facts: facts, network: network, isIPv6: isIPv6)
        }
    }

    // MARK: IPv4

    private func defragment4(_ frame: inout Frame, network: Int) {
        file(&frame, Self.read4(frame.bytes, network: network), network: network, isIPv6: false)
    }

    /// Reads an IPv4 fragment (classify checked the header's lengths).
    static func read4(_ bytes: RawSpan, network: Int) -> Reading {
        let headerLength = Int(bytes.u8(at: network) & 0x0F) * 4
        guard InternetChecksum.verify(bytes.slice(from: network, count: headerLength)) else {
            return .refused(.badIPv4Checksum, "fragment with a bad header checksum")
        }
        let totalLength = Int(bytes.u16(at: network + IPv4Header.Field.totalLength))
        let flags = bytes.u16(at: network + IPv4Header.Field.flagsAndFragmentOffset)
        let offset = Int(flags & 0x1FFF) * 8
        let source = bytes.u32(at: network + IPv4Header.Field.source)
        let destination = bytes.u32(at: network + IPv4Header.Field.destination)
        let key = FragmentKey(sourceHigh: 0, sourceLow: UInt64(source), destinationHigh: 0, destinationLow: UInt64(destination),
                              identification: UInt32(bytes.u16(at: network + IPv4Header.Field.identification)),
                              proto: bytes.u8(at: network + IPv4Header.Field.protocol), family: 4)
        return .fragment(FragmentFacts(key: key, headerEnd: network + headerLength, payloadStart: network + headerLength,
                                       offset: offset, end: offset + totalLength - headerLength, more: flags & 0x2000 != 0,
                                       maximumEnd: ReassemblyTable.maximumDatagram - headerLength, size: totalLength,
                                       dontFragment: flags & 0x4000 != 0, nextHeaderField: 0, innerNextHeader: 0))
    }

    // MARK: IPv6

    private func defragment6(_ frame: inout Frame) {
        let network = Int(frame.layers.network)
        file(&frame, Self.read6(frame.bytes, network: network), network: network, isIPv6: true)
    }

    /// Finds an IPv6 packet's fragment header through the extension headers before it.
    static func read6(_ bytes: RawSpan, network: Int) -> Reading {
        var nextHeader = bytes.u8(at: network + IPv6Header.Field.nextHeader)
        guard IPProtocol(rawValue: nextHeader).isIPv6Extension else { return .whole }
        let payloadLength = Int(bytes.u16(at: network + IPv6Header.Field.payloadLength))
        let end = min(bytes.byteCount, network + IPv6Header.length + payloadLength)
        var field = network + IPv6Header.Field.nextHeader
        var position = network + IPv6Header.length
        while nextHeader != IPProtocol.fragment.rawValue {
            guard IPProtocol(rawValue: nextHeader).isIPv6Extension, position + 2 <= end else { return .whole }
            field = position
            nextHeader = bytes.u8(at: position)
            position += (Int(bytes.u8(at: position + 1)) + 1) * 8
        }
        guard position + IPv6ExtensionHeader.minimumLength <= end else { return .whole }  // classify drops a cut header
        let word = bytes.u16(at: position + IPv6ExtensionHeader.Field.fragmentOffsetAndFlags)
        let offset = Int(word & 0xFFF8), more = word & 1 != 0
        let payloadStart = position + IPv6ExtensionHeader.minimumLength
        if offset == 0 && !more { return .atomic }
        let innerNextHeader = bytes.u8(at: position)
        if more && (end - payloadStart) % 8 != 0 {
            return .refused(.fragmentInconsistent, "IPv6 fragment of \(end - payloadStart) bytes, not a multiple of 8")
        }
        if offset == 0 && !holdsUpperHeader(bytes, from: payloadStart, to: end, nextHeader: innerNextHeader) {
            return .refused(.fragmentIncompleteHeader, "first fragment without the whole upper-layer header")
        }
        let key = FragmentKey(sourceHigh: bytes.u64(at: network + 8), sourceLow: bytes.u64(at: network + 16),
                              destinationHigh: bytes.u64(at: network + 24), destinationLow: bytes.u64(at: network + 32),
                              identification: bytes.u32(at: position + IPv6ExtensionHeader.Field.identification), proto: 0, family: 6)
        let unfragmentable = position - network - IPv6Header.length
        return .fragment(FragmentFacts(key: key, headerEnd: position, payloadStart: payloadStart, offset: offset,
                                       end: offset + end - payloadStart, more: more,
                                       maximumEnd: ReassemblyTable.maximumDatagram - unfragmentable, size: IPv6Header.length + payloadLength,
                                       dontFragment: false, nextHeaderField: field, innerNextHeader: innerNextHeader))
    }

    /// True when the first fragment holds the extension headers after the fragment header and
    /// the upper-layer header (TCP 20 bytes, UDP 8, ICMPv6 8), as `ipv6frag_thdr_truncated`
    /// requires.
    static func holdsUpperHeader(_ bytes: RawSpan, from start: Int, to end: Int, nextHeader first: UInt8) -> Bool {
        var nextHeader = first, position = start
        while IPProtocol(rawValue: nextHeader).isIPv6Extension && nextHeader != IPProtocol.fragment.rawValue {
            guard position + 2 <= end else { return false }
            nextHeader = bytes.u8(at: position)
            position += (Int(bytes.u8(at: position + 1)) + 1) * 8
        }
        let needed: Int
        switch IPProtocol(rawValue: nextHeader) {
        case .tcp: needed = TCPHeader.minimumLength
        case .udp: needed = UDPHeader.length
        case .icmpv6: needed = 8
        default: needed = 0
        }
        return position + needed <= end
    }

    // MARK: Both

    private func file(_ frame: inout Frame, facts: FragmentFacts, network: Int, isIPv6: Bool) {
        switch table.insert(&frame, facts: facts, now: frame.timestamp.nanoseconds) {
        case .queued:
            frame.verdict = .held
            context.trace(frame, "defrag: fragment \(facts.offset)..<\(facts.end)\(facts.more ? "" : " (last)") queued")
        case .rejected(let reason):
            frame.verdict = .drop(reason)
            context.trace(frame, "defrag: fragment \(facts.offset)..<\(facts.end) -> drop \(reason.name)")
        case .discarded(let reason, let held):
            frame.verdict = .drop(reason)
            context.trace(frame, "defrag: fragment \(facts.offset)..<\(facts.end) -> drop \(reason.name), with the \(held) fragments queued before it")
        case .complete(let done):
            if isIPv6 { finish6(&frame, done: done, network: network) } else { finish4(&frame, done: done, network: network) }
            frame.fragmentLimit = Int32(done.maximumSize)
            frame.fragmentSizes = done.sizes
            context.counters.count(.reassembled)
            context.trace(frame, "defrag: \(done.fragments) fragments reassembled, \(done.payloadLength) bytes of payload, largest fragment \(done.maximumSize)")
            classify.classify(&frame)
        }
    }

    /// The reassembled IPv4 header: total length, flags (DF when every fragment had it, as
    /// `ip_frag_reasm`), offset zero, checksum.
    private func finish4(_ frame: inout Frame, done: ReassemblyTable.Completed, network: Int) {
        let headerLength = done.headerLength - network
        var bytes = frame.mutableBytes
        bytes.setU16(UInt16(headerLength + done.payloadLength), at: network + IPv4Header.Field.totalLength)
        bytes.setU16(done.allDontFragment ? 0x4000 : 0, at: network + IPv4Header.Field.flagsAndFragmentOffset)
        bytes.setU16(0, at: network + IPv4Header.Field.checksum)
        let checksum = InternetChecksum.checksum(bytes.bytes.slice(from: network, count: headerLength))
        bytes.setU16(checksum, at: network + IPv4Header.Field.checksum)
    }

    /// The reassembled IPv6 packet: no fragment header, the header before it naming what the
    /// fragment header named, the payload length of the whole.
    private func finish6(_ frame: inout Frame, done: ReassemblyTable.Completed, network: Int) {
        var bytes = frame.mutableBytes
        bytes.setU8(done.innerNextHeader, at: done.nextHeaderField)
        let length = done.headerLength - network - IPv6Header.length + done.payloadLength
        bytes.setU16(UInt16(length), at: network + IPv6Header.Field.payloadLength)
    }
}

// MARK: What this part counts (names and descriptions: DropReason, PipelineCounters.Event)

extension DefragStage: CountingPart {
    package static let dropReasons: [DropReason] = [.fragmentDuplicate, .fragmentOverlap, .fragmentInconsistent, .fragmentOversize,
                                                   .fragmentIncompleteHeader, .reassemblyTimeout, .reassemblyEvicted]
    package static let events: [PipelineCounters.Event] = [.reassembled, .atomicFragments]
}
