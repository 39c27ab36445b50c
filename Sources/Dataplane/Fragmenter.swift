import Wire

/// Cuts a leaving packet into fragments of at most `Frame.fragmentLimit` bytes of IP, in
/// offset order, each in a pool frame: a datagram the defrag stage reassembled (its largest
/// fragment's size, as Linux's `ip_do_fragment` and `ip6_fragment` refragment to
/// `frag_max_size`) and an IPv4 packet without DF longer than the tunnel MTU (cut before
/// encapsulation, as Linux fragments before flannel.1 or tunl0 adds its headers).
///
/// IPv4 (RFC 791, Linux's slow path): every fragment carries the header; after the first,
/// options without the copied flag become NOPs (`ip_options_fragment`); payloads are multiples
/// of 8 bytes except the last; the identification, DF and TTL are the packet's; a packet
/// that was itself a fragment keeps its offset and MF. IPv6 (RFC 8200 §4.5): the
/// unfragmentable part (the header, hop-by-hop and routing headers, destination options before
/// a routing header) goes in front of a new fragment header with an identification of Pier's
/// (Linux draws its own too, `ipv6_select_ident`).
///
/// A reassembled datagram leaves cut where it arrived cut (`Frame.fragmentSizes`) when each of
/// its fragments fits the limit, as Linux's fast path sends the fragment list it kept: the
/// kernel oracle shows fragments of 1,000, 1,480, 1,000 and 548 bytes of payload leaving as
/// they came, in offset order. Otherwise (a tunnel's smaller MTU; unequal fragments more than
/// four) it is cut evenly, as Linux's slow path.
final class Fragmenter {
    private let pool: FramePool
    private let counters: PipelineCounters
    private var identification: UInt32 = 0x5049_0000

    init(pool: FramePool, counters: PipelineCounters) {
        self.pool = pool
        self.counters = counters
    }

    /// Calls `send` with each fragment of `frame` (verdict, port, number and time copied),
    /// then recycles it; a frame that is no IPv4 or IPv6 packet longer than its limit is
    /// passed whole.
    func cut(_ frame: borrowing Frame, _ send: (inout Frame) -> Void) {
        let network = Int(frame.layers.network)
        var piece = pool.take()
        let limit = Int(frame.fragmentLimit)
        let type = frame.layers.networkType
        let totalLength = type == .ipv4 ? Int(frame.bytes.u16(at: network + IPv4Header.Field.totalLength))
            : type == .ipv6 ? IPv6Header.length + Int(frame.bytes.u16(at: network + IPv6Header.Field.payloadLength)) : 0
        if totalLength <= limit || network + totalLength > frame.count {
            whole(frame, into: &piece, send)
        } else if type == .ipv4 {
            cut4(frame, network: network, totalLength: totalLength, limit: limit, into: &piece, send)
        } else {
            cut6(frame, network: network, totalLength: totalLength, limit: limit, into: &piece, send)
        }
        pool.recycle(piece)
    }

    private func whole(_ frame: borrowing Frame, into piece: inout Frame, _ send: (inout Frame) -> Void) {
        frame.withUnsafeBytes { piece.replaceContents(with: $0) }
        copyMetadata(of: frame, to: &piece)
        piece.layers = frame.layers
        send(&piece)
    }

    private func copyMetadata(of frame: borrowing Frame, to piece: inout Frame) {
        piece.inputPort = frame.inputPort
        piece.number = frame.number
        piece.timestamp = frame.timestamp
        piece.verdict = frame.verdict
        piece.originalLength = piece.count
    }

    /// Writes `headerCount` bytes of `frame` then `payloadCount` bytes from `payloadAt` into
    /// `piece`, leaving `gap` bytes between them for the caller.
    private func fill(_ piece: inout Frame, from frame: borrowing Frame, headerCount: Int, gap: Int, payloadAt: Int, payloadCount: Int) {
        frame.withUnsafeBytes { source in
            guard let base = source.baseAddress else { return }
            _ = piece.receive { target in
                guard let out = target.baseAddress else { return 0 }
                out.copyMemory(from: base, byteCount: headerCount)
                (out + headerCount + gap).copyMemory(from: base + payloadAt, byteCount: payloadCount)
                return headerCount + gap + payloadCount
            }
        }
    }

    // MARK: IPv4

    private func cut4(_ frame: borrowing Frame, network: Int, totalLength: Int, limit: Int, into piece: inout Frame,
                      _ send: (inout Frame) -> Void) {
        let headerLength = Int(frame.bytes.u8(at: network) & 0x0F) * 4
        let flags = frame.bytes.u16(at: network + IPv4Header.Field.flagsAndFragmentOffset)
        let baseOffset = Int(flags & 0x1FFF) * 8
        let dontFragment = flags & 0x4000, notLast = flags & 0x2000 != 0
        let space = max(8, (limit - headerLength) & ~7)
        let headerEnd = network + headerLength
        var offset = 0, left = totalLength - headerLength
        let kept = Self.keptSizes(frame.fragmentSizes, space: space, total: left)
        var pieceIndex = 0
        counters.count(.fragmented)
        while left > 0 {
            let count = kept ? Int(frame.fragmentSizes[pieceIndex]) : left > space ? space : left
            pieceIndex += 1
            left -= count
            fill(&piece, from: frame, headerCount: headerEnd, gap: 0, payloadAt: headerEnd + offset, payloadCount: count)
            var bytes = piece.mutableBytes
            if offset > 0 { Self.blankUncopiedOptions(&bytes, from: network + IPv4Header.minimumLength, to: headerEnd) }
            let more: UInt16 = left > 0 || notLast ? 0x2000 : 0
            bytes.setU16(UInt16(headerLength + count), at: network + IPv4Header.Field.totalLength)
            bytes.setU16(dontFragment | more | UInt16((baseOffset + offset) / 8), at: network + IPv4Header.Field.flagsAndFragmentOffset)
            bytes.setU16(0, at: network + IPv4Header.Field.checksum)
            let checksum = InternetChecksum.checksum(bytes.bytes.slice(from: network, count: headerLength))
            bytes.setU16(checksum, at: network + IPv4Header.Field.checksum)
            copyMetadata(of: frame, to: &piece)
            piece.layers = frame.layers
            // No fragment carries ports for the tunnel's flow hash (Linux's flow dissector
            // stops at any fragment), so all of one datagram's take one outer source port.
            piece.layers.transport = LayerOffsets.unknown
            offset += count
            send(&piece)
            piece.reset()
        }
    }

    /// True when the datagram's own fragments fit `space` bytes of payload each and add up to
    /// `total` (what Linux checks before it sends the fragment list as it is).
    static func keptSizes(_ sizes: FragmentSizes, space: Int, total: Int) -> Bool {
        guard sizes.count > 0 else { return false }
        var sum = 0
        let count = sizes.count
        for index in 0..<count {
            let length = Int(sizes[index])
            guard length <= space, length > 0, index == count - 1 || length % 8 == 0 else { return false }
            sum += length
        }
        return sum == total
    }

    /// Options other than the copied ones (RFC 791: the high bit of the type) become NOPs.
    static func blankUncopiedOptions(_ bytes: inout MutableRawSpan, from start: Int, to end: Int) {
        var position = start
        while position < end {
            let type = bytes.bytes.u8(at: position)
            if type == 0 { break }  // end of options
            if type == 1 { position += 1; continue }
            guard position + 1 < end else { break }
            let length = max(2, Int(bytes.bytes.u8(at: position + 1)))
            if type & 0x80 == 0 {
                for blank in position..<min(end, position + length) { bytes.setU8(1, at: blank) }
            }
            position += length
        }
    }

    // MARK: IPv6

    private func cut6(_ frame: borrowing Frame, network: Int, totalLength: Int, limit: Int, into piece: inout Frame,
                      _ send: (inout Frame) -> Void) {
        let bytes = frame.bytes
        var field = network + IPv6Header.Field.nextHeader
        var position = network + IPv6Header.length
        let end = network + totalLength
        // The unfragmentable part, as `ip6_find_1stfragopt` finds it.
        while position + 2 <= end {
            let next = bytes.u8(at: field)
            let isUnfragmentable = next == IPProtocol.hopByHop.rawValue || next == IPProtocol.routing.rawValue
                || (next == IPProtocol.destinationOptions.rawValue && bytes.u8(at: position) == IPProtocol.routing.rawValue)
            guard isUnfragmentable else { break }
            field = position
            position += (Int(bytes.u8(at: position + 1)) + 1) * 8
        }
        let innerNextHeader = bytes.u8(at: field)
        let headerEnd = position
        let unfragmentable = headerEnd - network
        let space = max(8, (limit - unfragmentable - IPv6ExtensionHeader.minimumLength) & ~7)
        identification &+= 1
        let id = identification
        var offset = 0, left = end - headerEnd
        let kept = Self.keptSizes(frame.fragmentSizes, space: space, total: left)
        var pieceIndex = 0
        counters.count(.fragmented)
        while left > 0 {
            let count = kept ? Int(frame.fragmentSizes[pieceIndex]) : left > space ? space : left
            pieceIndex += 1
            left -= count
            fill(&piece, from: frame, headerCount: headerEnd, gap: IPv6ExtensionHeader.minimumLength, payloadAt: headerEnd + offset,
                 payloadCount: count)
            var out = piece.mutableBytes
            out.setU8(IPProtocol.fragment.rawValue, at: field)
            out.setU16(UInt16(unfragmentable - IPv6Header.length + IPv6ExtensionHeader.minimumLength + count),
                       at: network + IPv6Header.Field.payloadLength)
            out.setU8(innerNextHeader, at: headerEnd + IPv6ExtensionHeader.Field.nextHeader)
            out.setU8(0, at: headerEnd + 1)
            out.setU16(UInt16(offset) | (left > 0 ? 1 : 0), at: headerEnd + IPv6ExtensionHeader.Field.fragmentOffsetAndFlags)
            out.setU32(id, at: headerEnd + IPv6ExtensionHeader.Field.identification)
            copyMetadata(of: frame, to: &piece)
            piece.layers = frame.layers
            piece.layers.transport = LayerOffsets.unknown
            offset += count
            send(&piece)
            piece.reset()
        }
    }
}

// MARK: What this part counts (names and descriptions: DropReason, PipelineCounters.Event)

extension Fragmenter: CountingPart {
    package static let dropReasons: [DropReason] = []
    package static let events: [PipelineCounters.Event] = [.fragmented]
}
