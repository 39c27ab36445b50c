import Wire

/// Big-endian fields and Internet checksums read and written straight in a frame's bytes, for
/// the code that cuts or joins TCP/UDP segments in place (`SoftwareSegmenter`,
/// `SegmentCoalescer`). Nothing is checked here: callers have checked the offsets.
enum RawFields {
    static func load16(_ base: UnsafeRawPointer, _ offset: Int) -> UInt16 {
        UInt16(bigEndian: base.loadUnaligned(fromByteOffset: offset, as: UInt16.self))
    }

    static func load32(_ base: UnsafeRawPointer, _ offset: Int) -> UInt32 {
        UInt32(bigEndian: base.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }

    static func store16(_ base: UnsafeMutableRawPointer, _ offset: Int, _ value: UInt16) {
        base.storeBytes(of: value.bigEndian, toByteOffset: offset, as: UInt16.self)
    }

    static func store32(_ base: UnsafeMutableRawPointer, _ offset: Int, _ value: UInt32) {
        base.storeBytes(of: value.bigEndian, toByteOffset: offset, as: UInt32.self)
    }

    /// The one's-complement sum of `count` bytes at `base` (RFC 1071), not complemented.
    static func sum(_ base: UnsafeRawPointer, count: Int) -> UInt16 {
        InternetChecksum.sum(RawSpan(_unsafeStart: base, byteCount: count))
    }

    /// The pseudo-header sum of a transport packet of `length` bytes and protocol `proto`
    /// behind the IPv4 or IPv6 header at `network` (RFC 768, RFC 793 §3.1, RFC 8200 §8.1).
    static func pseudoHeaderSum(_ base: UnsafeRawPointer, network: Int, isIPv6: Bool, proto: UInt8, length: Int) -> UInt16 {
        var total = UInt64(length >> 16) + UInt64(length & 0xFFFF) + UInt64(proto)
        let (from, words) = isIPv6 ? (network + 8, 16) : (network + IPv4Header.Field.source, 4)
        for word in 0..<words { total += UInt64(load16(base, from + 2 * word)) }
        return InternetChecksum.fold(total)
    }

    /// Computes afresh the checksum of the IPv4 header at `offset`.
    static func fillIPv4Checksum(_ base: UnsafeMutableRawPointer, at offset: Int) {
        store16(base, offset + IPv4Header.Field.checksum, 0)
        let headerLength = Int(base.load(fromByteOffset: offset, as: UInt8.self) & 0x0F) * 4
        store16(base, offset + IPv4Header.Field.checksum, ~sum(base + offset, count: headerLength))
    }
}
