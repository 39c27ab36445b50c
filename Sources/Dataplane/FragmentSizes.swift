/// The payload lengths of a reassembled datagram's fragments, in offset order, so that it can
/// leave cut where it arrived cut: Linux keeps the fragments of a reassembled datagram and
/// sends them as they were when each fits the egress MTU (the fast path of `ip_do_fragment`
/// and `ip6_fragment`). Up to `capacity` fragments are remembered; a datagram of more leaves
/// cut in fragments of its largest fragment's size (`count` 0).
public struct FragmentSizes: Sendable {
    /// The most fragments remembered.
    public static let capacity = 16
    /// The payload lengths; only the first `count` are meaningful.
    public var lengths = InlineArray<16, UInt16>(repeating: 0)
    /// How many lengths are remembered (0: none).
    public var count = 0

    /// Makes an empty list.
    public init() {}
}
