/// The Internet checksum of IPv4, ICMP, UDP and TCP: the full sum of RFC 1071, the
/// incremental update of RFC 1624 and the pseudo-header sums of RFC 768/793 (IPv4) and
/// RFC 8200 §8.1 (IPv6).
///
/// Sums are carried as `UInt16` one's-complement partial sums (not yet complemented); a
/// checksum field holds the complement of the final sum. Values are the numbers a reader of
/// the header sees: the field bytes `0xDD 0x2F` are `0xDD2F`.
public enum InternetChecksum {
    /// The one's-complement sum of `bytes` (RFC 1071 §4.1), added to `initial`, folded to 16 bits.
    ///
    /// An odd final byte counts as the high byte of a word padded with zero.
    @inlinable
    public static func sum(_ bytes: RawSpan, initial: UInt16 = 0) -> UInt16 {
        bytes.withUnsafeBytes { add(initial, rawSum(of: $0)) }
    }

    /// The checksum field value for `bytes`: the complement of their sum with `initial`.
    @inlinable
    public static func checksum(_ bytes: RawSpan, initial: UInt16 = 0) -> UInt16 {
        ~sum(bytes, initial: initial)
    }

    /// True when `bytes`, checksum field included, sum to 0xFFFF: the receiver's check.
    @inlinable
    public static func verify(_ bytes: RawSpan, initial: UInt16 = 0) -> Bool {
        sum(bytes, initial: initial) == 0xFFFF
    }

    /// One's-complement addition of two partial sums.
    @inlinable @inline(__always)
    public static func add(_ a: UInt16, _ b: UInt16) -> UInt16 {
        let (value, carry) = a.addingReportingOverflow(b)
        return carry ? value &+ 1 : value
    }

    /// The checksum after one 16-bit field changes from `old` to `new`: RFC 1624 eqn. 3,
    /// `HC' = ~(~HC + ~m + m')`, which never yields 0xFFFF for a sum that should be 0x0000
    /// (the flaw of RFC 1141's `HC' = HC + m + ~m'`).
    @inlinable @inline(__always)
    public static func update(_ checksum: UInt16, old: UInt16, new: UInt16) -> UInt16 {
        ~add(add(~checksum, ~old), new)
    }

    /// The checksum after a 32-bit field (an IPv4 address) changes from `old` to `new`.
    @inlinable @inline(__always)
    public static func update(_ checksum: UInt16, old: UInt32, new: UInt32) -> UInt16 {
        let partial = add(add(~checksum, ~UInt16(truncatingIfNeeded: old >> 16)), ~UInt16(truncatingIfNeeded: old))
        return ~add(add(partial, UInt16(truncatingIfNeeded: new >> 16)), UInt16(truncatingIfNeeded: new))
    }

    /// The sum of the IPv4 pseudo-header: source, destination, zero, protocol, L4 length
    /// (RFC 768 and RFC 793 §3.1).
    @inlinable
    public static func pseudoHeaderSum(source: IPv4Address, destination: IPv4Address,
                                       protocol proto: IPProtocol, length: Int) -> UInt16 {
        var total = UInt64(source.rawValue >> 16) + UInt64(source.rawValue & 0xFFFF)
        total += UInt64(destination.rawValue >> 16) + UInt64(destination.rawValue & 0xFFFF)
        total += UInt64(proto.rawValue) + UInt64(length & 0xFFFF) + UInt64(length >> 16)
        return fold(total)
    }

    /// The sum of the IPv6 pseudo-header: source, destination, upper-layer length, next
    /// header (RFC 8200 §8.1).
    @inlinable
    public static func pseudoHeaderSum(source: IPv6Address, destination: IPv6Address,
                                       protocol proto: IPProtocol, length: Int) -> UInt16 {
        var total: UInt64 = 0
        for half in [source.high, source.low, destination.high, destination.low] {
            total += (half >> 48) + (half >> 32 & 0xFFFF) + (half >> 16 & 0xFFFF) + (half & 0xFFFF)
        }
        total += UInt64(length >> 16) + UInt64(length & 0xFFFF) + UInt64(proto.rawValue)
        return fold(total)
    }

    /// Folds a wide sum into 16 bits with end-around carry.
    @inlinable @inline(__always)
    public static func fold(_ value: UInt64) -> UInt16 {
        var total = value
        while total >> 16 != 0 { total = (total & 0xFFFF) + (total >> 16) }
        return UInt16(total)
    }

    /// The sum of the bytes in `buffer`, in network order.
    ///
    /// Unchecked loads over a buffer whose length is known up front: eight bytes at a time in
    /// host order (one's-complement sums are order-independent, RFC 1071 §2(B)) and swapped
    /// once at the end. About six times faster than a checked 16-bit loop on this machine.
    @inlinable
    static func rawSum(of buffer: UnsafeRawBufferPointer) -> UInt16 {
        guard let base = buffer.baseAddress else { return 0 }
        var count = buffer.count
        var pointer = base
        var total: UInt64 = 0
        var carries: UInt64 = 0
        while count >= 8 {
            let (value, overflow) = total.addingReportingOverflow(pointer.loadUnaligned(as: UInt64.self))
            total = value
            carries &+= overflow ? 1 : 0
            pointer += 8
            count -= 8
        }
        // Fold the 64-bit accumulator (and its carries) into 32 bits before the tail.
        var wide = (total & 0xFFFF_FFFF) + (total >> 32) + carries
        if count >= 4 {
            wide += UInt64(pointer.loadUnaligned(as: UInt32.self))
            pointer += 4
            count -= 4
        }
        if count >= 2 {
            wide += UInt64(pointer.loadUnaligned(as: UInt16.self))
            pointer += 2
            count -= 2
        }
        if count == 1 {
            // The odd byte is the high-order byte of a network-order word.
            wide += UInt64(UInt16(bigEndian: UInt16(pointer.load(as: UInt8.self)) << 8))
        }
        return UInt16(bigEndian: fold(wide))
    }
}
