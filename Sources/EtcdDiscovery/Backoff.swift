/// Reconnection delays: 100 ms, doubled after each failure, at most 5 s.
public struct Backoff: Sendable {
    /// The first delay, in seconds.
    public static let first = 0.1
    /// The longest delay, in seconds.
    public static let longest = 5.0
    private var current = Backoff.first

    /// Starts at the first delay.
    public init() {}

    /// The delay to wait now, in seconds; the next one is twice as long (at most `longest`).
    public mutating func next() -> Double {
        defer { current = min(current * 2, Self.longest) }
        return current
    }

    /// Back to the first delay, after a success.
    public mutating func reset() { current = Self.first }
}
