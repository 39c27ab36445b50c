import Wire

/// Whether a checksum verified, in Wireshark's terms (`*.checksum.status`): good, bad,
/// unverified (the bytes needed were not all present, the packet is a fragment, or it is
/// inside an ICMP quote), or not present (a UDP checksum of zero over IPv4).
public enum ChecksumStatus: String, Sendable {
    case good, bad, unverified
    case notPresent = "not_present"

    /// `good` when `valid`, else `bad`.
    init(_ valid: Bool) { self = valid ? .good : .bad }
}

/// What a transport layer needs from the IP layer that carries it: the addresses for the
/// pseudo-header, and whether its checksum can be verified at all.
struct TransportContext {
    /// The carrying IP layer's addresses.
    enum Addresses {
        case none
        case v4(IPv4Address, IPv4Address)
        case v6(IPv6Address, IPv6Address)
    }

    var addresses = Addresses.none
    /// False for fragments, truncated packets and ICMP quotes.
    var verifiable = false
    /// The upper layer's length as the IP header(s) announce it.
    var transportLength = 0
    /// The next-header value last seen in an IPv6 header chain.
    var nextHeader = IPProtocol.noNextHeader

    /// True when a transport layer spanning `span` can be verified: not a fragment or quote,
    /// and every byte the IP header announces for it is present.
    func isComplete(_ span: borrowing RawSpan) -> Bool {
        verifiable && span.byteCount >= transportLength
    }

    /// True when the carrying layer is IPv6.
    var isIPv6: Bool {
        if case .v6 = addresses { return true }
        return false
    }

    /// The pseudo-header sum for `proto` with an upper-layer length of `length` bytes.
    func pseudoHeaderSum(protocol proto: IPProtocol, length: Int) -> UInt16 {
        switch addresses {
        case .none: 0
        case .v4(let source, let destination):
            InternetChecksum.pseudoHeaderSum(source: source, destination: destination, protocol: proto, length: length)
        case .v6(let source, let destination):
            InternetChecksum.pseudoHeaderSum(source: source, destination: destination, protocol: proto, length: length)
        }
    }
}
