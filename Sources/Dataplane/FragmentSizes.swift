/// The payload lengths of a reassembled datagram's fragments, in offset order, so that it can
/// leave cut where it arrived cut: Linux keeps the fragments of a reassembled datagram and
/// sends them as they were when each fits the egress MTU (the fast path of `ip_do_fragment`
/// and `ip6_fragment`). Kept only when they differ from an even cut at the largest fragment's
/// size (which the fragmenter makes without them: what senders cutting to their MTU send) and
/// number at most `capacity`; otherwise the list is empty and the datagram leaves cut evenly.
///
/// One word, four 16-bit lengths (a fragment's payload is never empty, so the count is the
/// lengths that are not 0): every frame carries it, and each byte a frame grows costs every
/// move of every frame (an `InlineArray` here also crashed Swift 6.3.1's optimizer).
public struct FragmentSizes: Sendable {
    /// The most fragments remembered.
    public static let capacity = 4
    private var word: UInt64 = 0

    /// Makes an empty list.
    public init() {}

    /// How many lengths are remembered (0: none).
    public var count: Int {
        var count = 0
        while count < Self.capacity && self[count] != 0 { count += 1 }
        return count
    }

    /// The payload length of fragment `index` (0..<capacity).
    public subscript(index: Int) -> UInt16 {
        get { UInt16(truncatingIfNeeded: word >> UInt64((index & 3) * 16)) }
        set {
            let shift = UInt64((index & 3) * 16)
            word = word & ~(UInt64(0xFFFF) << shift) | UInt64(newValue) << shift
        }
    }
}
