import Wire

/// The transport protocols that NAT port mappings and Services forward: `tcp` or `udp`.
public enum TransportProtocol: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// TCP (RFC 9293).
    case tcp
    /// UDP (RFC 768).
    case udp

    /// The IP protocol number.
    public var ipProtocol: IPProtocol {
        switch self {
        case .tcp: .tcp
        case .udp: .udp
        }
    }

    /// `tcp` or `udp`.
    public var description: String { rawValue }
}
