import Wire

/// A tracked TCP connection's state, named as `conntrack -L` prints it.
public enum TCPState: UInt8, CaseIterable, Sendable {
    case synSent, synRecv, established, finWait, closeWait, lastAck, timeWait, close

    /// `SYN_SENT`, `ESTABLISHED`, … as netfilter names them.
    public var name: String {
        switch self {
        case .synSent: "SYN_SENT"
        case .synRecv: "SYN_RECV"
        case .established: "ESTABLISHED"
        case .finWait: "FIN_WAIT"
        case .closeWait: "CLOSE_WAIT"
        case .lastAck: "LAST_ACK"
        case .timeWait: "TIME_WAIT"
        case .close: "CLOSE"
        }
    }

    /// netfilter's default timeouts in seconds, by `rawValue` (`nf_conntrack_tcp_timeout_*`).
    public static let linuxTimeouts: [Int64] = [120, 60, 432_000, 120, 60, 30, 120, 10]
}

/// Which way a packet goes on its connection: as the first packet did, or back.
public enum FlowDirection: UInt8, Sendable {
    case original = 0, reply = 1
    /// The other direction.
    @inlinable public var opposite: FlowDirection { self == .original ? .reply : .original }
}

/// netfilter's TCP state machine (`nf_conntrack_proto_tcp.c`, `tcp_conntracks`), reduced to
/// what a NAT needs: the flags of each packet and its direction move the state; sequence
/// numbers and windows are not checked (netfilter's `tcp_in_window` is not done).
///
/// A packet's flags are read by netfilter's priority: RST, then SYN (with or without ACK),
/// then FIN, then ACK. Only a SYN without ACK starts a connection (Linux with
/// `nf_conntrack_tcp_loose=0`; Linux's default of 1 also picks up a connection from an ACK).
enum TCPTracker {
    /// What a packet does to its connection.
    enum Outcome: Equatable, Sendable {
        /// The connection moves to (or stays in) this state.
        case state(TCPState)
        /// A SYN in the original direction of a connection in TIME_WAIT or CLOSE: the old
        /// connection is forgotten and a new one starts (netfilter's reopen).
        case reopen
    }

    /// Whether `flags` may open a connection: SYN without ACK, RST or FIN.
    @inlinable
    static func opens(_ flags: TCPFlags) -> Bool {
        flags.contains(.syn) && !flags.contains(.ack) && !flags.contains(.rst) && !flags.contains(.fin)
    }

    /// The direction whose FIN the connection now waits on, after a packet with `flags` from
    /// `direction` moved it into `new`: that direction when its FIN moved it into FIN_WAIT or
    /// LAST_ACK; nil when the FIN sender stays as it was.
    @inline(__always)
    static func finSender(movedTo new: TCPState, flags: TCPFlags, direction: FlowDirection) -> FlowDirection? {
        flags.contains(.fin) && (new == .finWait || new == .lastAck) ? direction : nil
    }

    /// The state after a packet with `flags` in `direction`; `finFrom` is the direction that
    /// sent the last FIN seen (meaningful from FIN_WAIT on).
    static func next(_ state: TCPState, flags: TCPFlags, direction: FlowDirection, finFrom: FlowDirection) -> Outcome {
        if flags.contains(.rst) { return .state(.close) }
        if flags.contains(.syn) {
            if flags.contains(.ack) {
                return .state(state == .synSent && direction == .reply ? .synRecv : state)
            }
            if direction == .original && (state == .timeWait || state == .close) { return .reopen }
            return .state(state)
        }
        if flags.contains(.fin) {
            switch state {
            case .synRecv, .established: return .state(.finWait)
            case .finWait: return .state(direction != finFrom ? .lastAck : .finWait)
            case .closeWait: return .state(direction != finFrom ? .lastAck : .closeWait)
            default: return .state(state)
            }
        }
        if flags.contains(.ack) {
            switch state {
            case .synRecv where direction == .original: return .state(.established)
            case .finWait where direction != finFrom: return .state(.closeWait)
            case .lastAck where direction != finFrom: return .state(.timeWait)
            default: return .state(state)
            }
        }
        return .state(state)
    }
}
