import Wire

/// netfilter's UDP tracking (`nf_conntrack_proto_udp.c`), in the shape of `TCPTracker`: any
/// datagram opens a connection; once a reply has been seen it is a stream, assured and
/// given the longer timeout.
enum UDPTracker {
    /// What a datagram of a known connection does to it.
    struct Outcome: Equatable {
        /// The connection is a stream now (a reply has been seen): assured, longer timeout.
        var isStream: Bool
    }

    /// Whether a datagram may open a connection: always.
    @inline(__always)
    static func opens() -> Bool { true }

    /// The connection after a datagram, given whether a reply has been seen (this one
    /// included).
    @inline(__always)
    static func next(seenReply: Bool) -> Outcome { Outcome(isStream: seenReply) }
}

/// netfilter's ICMP tracking (`nf_conntrack_proto_icmp.c`), in the shape of `TCPTracker`:
/// an echo request opens a connection keyed by its identifier, the echo reply belongs to
/// it; errors are not connections of their own but related to the one they quote.
enum ICMPTracker {
    /// What conntrack does with an ICMP message of `type`.
    enum Kind: Equatable {
        /// An echo request or reply: tracked as a connection.
        case echo
        /// An error quoting a packet: translated as related to that packet's connection.
        case error
        /// Anything else: not tracked.
        case untracked
    }

    /// How conntrack treats `type`.
    @inline(__always)
    static func kind(of type: ICMPv4Type) -> Kind {
        if type.isError { return .error }
        return type == .echoRequest || type == .echoReply ? .echo : .untracked
    }

    /// Whether a message of `type` may open a connection: an echo request.
    @inline(__always)
    static func opens(_ type: UInt8) -> Bool { type == ICMPv4Type.echoRequest.rawValue }
}

/// How long a connection lives without a packet, in nanoseconds of pipeline time, by what it
/// is: netfilter's `nf_conntrack_*_timeout*` settings (`ConntrackSettings` holds them in
/// seconds).
struct ConntrackTimeouts {
    /// TCP, by `TCPState.rawValue`.
    let tcp: [Int64]
    /// UDP before a reply (`nf_conntrack_udp_timeout`).
    let udp: Int64
    /// UDP once both directions were seen (`nf_conntrack_udp_timeout_stream`).
    let udpStream: Int64
    /// ICMP echo (`nf_conntrack_icmp_timeout`).
    let icmp: Int64

    /// The settings' timeouts, seconds made nanoseconds.
    init(_ settings: ConntrackSettings) {
        precondition(settings.tcpTimeouts.count == TCPState.allCases.count, "one TCP timeout per state")
        tcp = settings.tcpTimeouts.map { $0 * 1_000_000_000 }
        udp = settings.udpTimeout * 1_000_000_000
        udpStream = settings.udpStreamTimeout * 1_000_000_000
        icmp = settings.icmpTimeout * 1_000_000_000
    }

    /// The timeout of a TCP connection in `state`.
    @inline(__always)
    func tcp(_ state: TCPState) -> Int64 { tcp[Int(state.rawValue)] }

    /// The timeout of a UDP connection: a stream's, or a lone datagram's.
    @inline(__always)
    func udp(isStream: Bool) -> Int64 { isStream ? udpStream : udp }
}
