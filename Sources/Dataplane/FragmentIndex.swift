/// Where each datagram being reassembled sits in the `ReassemblyTable`, by its key: open
/// addressing with linear probing and backward-shift deletion over twice as many buckets as
/// datagrams, each bucket a 32-bit hash tag and the datagram's slot. The hash is seeded at
/// random per table (as Linux seeds its fragment queues' jhash), so that a sender cannot aim
/// its fragments at one chain. Several times faster per fragment than a `Dictionary` (no
/// SipHash), which the two-fragment benchmark needed.
struct FragmentIndex: ~Copyable {
    private let buckets: UnsafeMutablePointer<UInt64>
    private let mask: Int
    private let seed: UInt64

    /// Makes an empty index for up to `capacity` keys.
    init(capacity: Int) {
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        mask = size - 1
        buckets = .allocate(capacity: size)
        buckets.initialize(repeating: 0, count: size)
        var generator = SystemRandomNumberGenerator()
        seed = generator.next() | 1
    }

    deinit { buckets.deallocate() }

    /// The key's 32-bit hash, never 0 in the tag.
    @inline(__always)
    func hash(_ key: FragmentKey) -> UInt32 {
        var value = key.sourceLow &* 0x9E37_79B9_7F4A_7C15 ^ key.destinationLow &* 0xC2B2_AE3D_27D4_EB4F
        value ^= (key.sourceHigh ^ key.destinationHigh &* 0x1656_67B1_9E37_79F9) &+ (UInt64(key.identification) << 16 | UInt64(key.proto) << 8 | UInt64(key.family))
        value = (value ^ seed) &* 0xD6E8_FEB8_6659_FD93
        return UInt32(truncatingIfNeeded: value >> 32)
    }

    /// The slot stored for `key`, reading keys through `keyAt`.
    @inline(__always)
    func find(_ key: FragmentKey, keyAt: (Int32) -> FragmentKey) -> Int32? {
        let tag = hash(key)
        var index = Int(tag) & mask
        while true {
            let bucket = buckets[index]
            if bucket == 0 { return nil }
            let slot = Int32(truncatingIfNeeded: bucket) - 1
            if UInt32(truncatingIfNeeded: bucket >> 32) == tag && keyAt(slot) == key { return slot }
            index = (index + 1) & mask
        }
    }

    /// Stores `slot` under `key` (which must not be there yet).
    func insert(_ key: FragmentKey, slot: Int32) {
        let tag = hash(key)
        var index = Int(tag) & mask
        while buckets[index] != 0 { index = (index + 1) & mask }
        buckets[index] = UInt64(tag) << 32 | UInt64(UInt32(slot + 1))
    }

    /// Removes `key`'s entry (slot `slot`), shifting back the entries probed past it.
    func remove(_ key: FragmentKey, slot: Int32) {
        var index = Int(hash(key)) & mask
        let wanted = UInt64(UInt32(slot + 1))
        while buckets[index] & 0xFFFF_FFFF != wanted {
            if buckets[index] == 0 { return }
            index = (index + 1) & mask
        }
        var hole = index
        var next = (hole + 1) & mask
        while buckets[next] != 0 {
            let home = Int(buckets[next] >> 32) & mask
            if (next - home) & mask >= (next - hole) & mask {
                buckets[hole] = buckets[next]
                hole = next
            }
            next = (next + 1) & mask
        }
        buckets[hole] = 0
    }
}
