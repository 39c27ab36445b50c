/// The payload lengths of a reassembled datagram's fragments, in offset order, so that it can
/// leave cut where it arrived cut: Linux keeps the fragments of a reassembled datagram and
/// sends them as they were when each fits the egress MTU (the fast path of `ip_do_fragment`
/// and `ip6_fragment`). Up to `capacity` fragments are remembered; a datagram of more leaves
/// cut in fragments of its largest fragment's size (`count` 0).
///
/// (Four words rather than an `InlineArray`: Swift 6.3.1's optimizer crashes on a frame
/// holding an `InlineArray` yielded by the batch's subscript.)
public struct FragmentSizes: Sendable {
    /// The most fragments remembered.
    public static let capacity = 16
    private var words: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
    /// How many lengths are remembered (0: none).
    public var count = 0

    /// Makes an empty list.
    public init() {}

    /// The payload length of fragment `index` (0..<capacity).
    public subscript(index: Int) -> UInt16 {
        get {
            let shift = UInt64((index & 3) * 16)
            let word: UInt64
            switch index >> 2 {
            case 0: word = words.0
            case 1: word = words.1
            case 2: word = words.2
            default: word = words.3
            }
            return UInt16(truncatingIfNeeded: word >> shift)
        }
        set {
            let shift = UInt64((index & 3) * 16)
            let mask = ~(UInt64(0xFFFF) << shift), value = UInt64(newValue) << shift
            switch index >> 2 {
            case 0: words.0 = words.0 & mask | value
            case 1: words.1 = words.1 & mask | value
            case 2: words.2 = words.2 & mask | value
            default: words.3 = words.3 & mask | value
            }
        }
    }
}
