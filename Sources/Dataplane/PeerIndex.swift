/// A small read-only map from a 64-bit key (a packed MAC or IPv4 address) to a peer's index,
/// built once at config load: open addressing with linear probing over a power-of-two table
/// at most half full, so a lookup is a multiply, a shift and one or two loads, without the
/// hashing and generic overhead of `Dictionary` on the per-frame path.
struct PeerIndex {
    /// Marks an empty slot; no packed address uses it (MACs and IPv4 addresses fit in 48 bits).
    private static let empty = UInt64.max
    private var keys: [UInt64]
    private var values: [Int32]
    private let shift: UInt64
    private let mask: Int

    /// Makes an index of `keys`, each mapping to its position in the array; a repeated key
    /// keeps its first position.
    init(_ entries: [UInt64]) {
        var bits = 4
        while 1 << bits < entries.count * 2 { bits += 1 }
        keys = Array(repeating: Self.empty, count: 1 << bits)
        values = Array(repeating: -1, count: 1 << bits)
        shift = UInt64(64 - bits)
        mask = (1 << bits) - 1
        for (position, key) in entries.enumerated() where lookup(key) == nil {
            var slot = slot(of: key)
            while keys[slot] != Self.empty { slot = (slot + 1) & mask }
            keys[slot] = key
            values[slot] = Int32(position)
        }
    }

    @inline(__always)
    private func slot(of key: UInt64) -> Int {
        Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> shift)
    }

    /// The position of `key`, or nil.
    @inline(__always)
    func lookup(_ key: UInt64) -> Int? {
        var slot = slot(of: key)
        while true {
            let found = keys[slot]
            if found == key { return Int(values[slot]) }
            if found == Self.empty { return nil }
            slot = (slot + 1) & mask
        }
    }
}
