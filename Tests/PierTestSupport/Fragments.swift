import Wire

/// IP fragments for the tests, cut and glued with plain byte arithmetic (RFC 791, RFC 8200
/// §4.5), independent of the dataplane's reassembler and fragmenter.
public enum Fragments {
    /// Cuts the untagged Ethernet + IPv4 frame `frame` into fragments whose IP payloads are
    /// `sizes` bytes (multiples of 8 but the last; the last takes the rest); DF is kept.
    public static func ipv4(_ frame: [UInt8], payloadSizes sizes: [Int]) -> [[UInt8]] {
        let network = 14
        let headerLength = Int(frame[network] & 0x0F) * 4
        let total = Int(frame[network + 2]) << 8 | Int(frame[network + 3])
        let payload = Array(frame[(network + headerLength)..<(network + total)])
        var pieces: [[UInt8]] = []
        var offset = 0
        for (index, size) in sizes.enumerated() {
            let isLast = index == sizes.count - 1
            let count = isLast ? payload.count - offset : size
            var piece = Array(frame[0..<(network + headerLength)]) + payload[offset..<(offset + count)]
            let length = headerLength + count
            piece[network + 2] = UInt8(length >> 8)
            piece[network + 3] = UInt8(length & 0xFF)
            let word = UInt16(offset / 8) | (isLast ? 0 : 0x2000) | (UInt16(frame[network + 6] & 0x40) << 8)
            piece[network + 6] = UInt8(word >> 8)
            piece[network + 7] = UInt8(word & 0xFF)
            setIPv4Checksum(&piece, network: network, headerLength: headerLength)
            pieces.append(piece)
            offset += count
        }
        return pieces
    }

    /// An IPv4 fragment with the given offset (bytes), MF and payload, the header taken from `template`.
    public static func ipv4Fragment(_ template: [UInt8], offset: Int, more: Bool, payload: [UInt8], identification: UInt16? = nil) -> [UInt8] {
        let network = 14
        let headerLength = Int(template[network] & 0x0F) * 4
        var piece = Array(template[0..<(network + headerLength)]) + payload
        let length = headerLength + payload.count
        piece[network + 2] = UInt8(length >> 8)
        piece[network + 3] = UInt8(length & 0xFF)
        let word = UInt16(offset / 8) | (more ? 0x2000 : 0)
        piece[network + 6] = UInt8(word >> 8)
        piece[network + 7] = UInt8(word & 0xFF)
        if let identification {
            piece[network + 4] = UInt8(identification >> 8)
            piece[network + 5] = UInt8(identification & 0xFF)
        }
        setIPv4Checksum(&piece, network: network, headerLength: headerLength)
        return piece
    }

    /// Glues IPv4 fragments (any order) back into one frame: the first fragment's Ethernet and
    /// IP header, the payloads at their offsets, total length set, flags cleared, checksum
    /// recomputed; nil when bytes are missing.
    public static func reassemble4(_ pieces: [[UInt8]]) -> [UInt8]? {
        let network = 14
        var payload = [UInt8?](repeating: nil, count: 70_000)
        var first: [UInt8]?
        var end = -1
        for piece in pieces {
            let headerLength = Int(piece[network] & 0x0F) * 4
            let total = Int(piece[network + 2]) << 8 | Int(piece[network + 3])
            let word = Int(piece[network + 6]) << 8 | Int(piece[network + 7])
            let offset = (word & 0x1FFF) * 8
            if offset == 0 { first = Array(piece[0..<(network + headerLength)]) }
            let data = piece[(network + headerLength)..<(network + total)]
            for (index, byte) in data.enumerated() { payload[offset + index] = byte }
            if word & 0x2000 == 0 { end = offset + data.count }
        }
        guard var whole = first, end >= 0 else { return nil }
        let bytes = payload[0..<end]
        guard bytes.allSatisfy({ $0 != nil }) else { return nil }
        let headerLength = whole.count - network
        whole += bytes.map { $0 ?? 0 }
        let total = headerLength + end
        whole[network + 2] = UInt8(total >> 8)
        whole[network + 3] = UInt8(total & 0xFF)
        whole[network + 6] &= 0x40
        whole[network + 7] = 0
        setIPv4Checksum(&whole, network: network, headerLength: headerLength)
        return whole
    }

    /// Cuts the untagged Ethernet + IPv6 frame `frame` (no extension headers) into fragments
    /// with payloads of `sizes` bytes, fragment header identification `identification`.
    public static func ipv6(_ frame: [UInt8], payloadSizes sizes: [Int], identification: UInt32 = 0x1234_5678) -> [[UInt8]] {
        let network = 14
        let nextHeader = frame[network + 6]
        let payload = Array(frame[(network + 40)...])
        var pieces: [[UInt8]] = []
        var offset = 0
        for (index, size) in sizes.enumerated() {
            let isLast = index == sizes.count - 1
            let count = isLast ? payload.count - offset : size
            pieces.append(ipv6Fragment(frame, nextHeader: nextHeader, offset: offset, more: !isLast,
                                       payload: Array(payload[offset..<(offset + count)]), identification: identification))
            offset += count
        }
        return pieces
    }

    /// An IPv6 fragment: `template`'s Ethernet and IPv6 header, a fragment header, `payload`.
    public static func ipv6Fragment(_ template: [UInt8], nextHeader: UInt8, offset: Int, more: Bool, payload: [UInt8],
                                    identification: UInt32 = 0x1234_5678) -> [UInt8] {
        let network = 14
        var piece = Array(template[0..<(network + 40)])
        piece[network + 6] = 44
        let length = 8 + payload.count
        piece[network + 4] = UInt8(length >> 8)
        piece[network + 5] = UInt8(length & 0xFF)
        let word = UInt16(offset) | (more ? 1 : 0)
        piece += [nextHeader, 0, UInt8(word >> 8), UInt8(word & 0xFF),
                  UInt8(identification >> 24), UInt8((identification >> 16) & 0xFF), UInt8((identification >> 8) & 0xFF), UInt8(identification & 0xFF)]
        return piece + payload
    }

    /// The IPv4 header checksum, recomputed.
    public static func setIPv4Checksum(_ bytes: inout [UInt8], network: Int, headerLength: Int) {
        bytes[network + 10] = 0
        bytes[network + 11] = 0
        var sum: UInt32 = 0
        for index in stride(from: network, to: network + headerLength, by: 2) {
            sum += UInt32(bytes[index]) << 8 | UInt32(bytes[index + 1])
        }
        while sum > 0xFFFF { sum = (sum & 0xFFFF) + (sum >> 16) }
        let checksum = ~UInt16(sum)
        bytes[network + 10] = UInt8(checksum >> 8)
        bytes[network + 11] = UInt8(checksum & 0xFF)
    }
}
