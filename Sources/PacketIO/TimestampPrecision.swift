/// The resolution of a capture file's timestamps: what the file stores, not what `PcapReader`
/// hands out (always nanoseconds, in `Frame.timestamp`).
public enum TimestampPrecision: Hashable, Sendable, CustomStringConvertible {
    /// Microseconds: classic pcap with magic `0xa1b2c3d4`, and pcapng's default resolution.
    case microseconds
    /// Nanoseconds: classic pcap with magic `0xa1b23c4d`, or a pcapng interface whose
    /// `if_tsresol` is finer than a microsecond.
    case nanoseconds

    /// `microseconds` or `nanoseconds`.
    public var description: String {
        switch self {
        case .microseconds: "microseconds"
        case .nanoseconds: "nanoseconds"
        }
    }

}
