import Dataplane
/// The connection tracker's settings (`conntrack:`).
public struct ConntrackConfig: Sendable, Equatable {
    /// A conntrack timeout, named as netfilter names it (its `nf_conntrack_*_timeout_*` sysctls).
    public enum Timeout: String, Sendable, Hashable, CaseIterable {
        /// A TCP connection after the SYN (`nf_conntrack_tcp_timeout_syn_sent`).
        case tcpSynSent = "tcp_syn_sent"
        /// A TCP connection after the SYN-ACK (`nf_conntrack_tcp_timeout_syn_recv`).
        case tcpSynRecv = "tcp_syn_recv"
        /// An established TCP connection (`nf_conntrack_tcp_timeout_established`).
        case tcpEstablished = "tcp_established"
        /// A TCP connection after the first FIN (`nf_conntrack_tcp_timeout_fin_wait`).
        case tcpFinWait = "tcp_fin_wait"
        /// A TCP connection the other side has closed (`nf_conntrack_tcp_timeout_close_wait`).
        case tcpCloseWait = "tcp_close_wait"
        /// A TCP connection waiting for the last ACK (`nf_conntrack_tcp_timeout_last_ack`).
        case tcpLastAck = "tcp_last_ack"
        /// A TCP connection closed by both sides (`nf_conntrack_tcp_timeout_time_wait`).
        case tcpTimeWait = "tcp_time_wait"
        /// A TCP connection after a RST (`nf_conntrack_tcp_timeout_close`).
        case tcpClose = "tcp_close"
        /// A UDP flow seen in one direction only (`nf_conntrack_udp_timeout`).
        case udp = "udp"
        /// A UDP flow seen in both directions (`nf_conntrack_udp_timeout_stream`).
        case udpStream = "udp_stream"
        /// An ICMP query (`nf_conntrack_icmp_timeout`).
        case icmp = "icmp"

        /// The timeout of TCP state `state`.
        public init(tcp state: TCPState) {
            switch state {
            case .synSent: self = .tcpSynSent
            case .synRecv: self = .tcpSynRecv
            case .established: self = .tcpEstablished
            case .finWait: self = .tcpFinWait
            case .closeWait: self = .tcpCloseWait
            case .lastAck: self = .tcpLastAck
            case .timeWait: self = .tcpTimeWait
            case .close: self = .tcpClose
            }
        }

        /// The TCP state this timeout is for; nil for UDP's and ICMP's.
        public var tcpState: TCPState? {
            switch self {
            case .tcpSynSent: .synSent
            case .tcpSynRecv: .synRecv
            case .tcpEstablished: .established
            case .tcpFinWait: .finWait
            case .tcpCloseWait: .closeWait
            case .tcpLastAck: .lastAck
            case .tcpTimeWait: .timeWait
            case .tcpClose: .close
            case .udp, .udpStream, .icmp: nil
            }
        }

        /// Linux's default for this timeout, in seconds (since Linux 5.0, when `udp_stream`
        /// became 120), as the Dataplane holds them (`TCPState.linuxTimeouts`, `ConntrackSettings`).
        public var linuxDefault: Int {
            if let state = tcpState { return Int(TCPState.linuxTimeouts[Int(state.rawValue)]) }
            return Int(self == .udp ? ConntrackSettings.linuxUDPTimeout
                       : self == .udpStream ? ConntrackSettings.linuxUDPStreamTimeout : ConntrackSettings.linuxICMPTimeout)
        }
    }

    /// What becomes of a packet that belongs to no connection and cannot open one (a TCP ACK
    /// with no connection, an echo reply nobody asked for).
    public enum InvalidPolicy: String, Sendable, Hashable, CaseIterable {
        /// Dropped and counted (`conntrack-invalid`), as kube-proxy's `--ctstate INVALID -j DROP`.
        case drop
        /// Forwarded untranslated and counted (event `conntrack-invalid-accepted`), as Linux does
        /// without such a rule; for replaying captures that start mid-connection or hold one
        /// direction only.
        case accept
    }

    /// The default capacity: 262144 connections.
    public static let defaultCapacity = ConntrackSettings.defaultCapacity

    /// The most connections tracked at once (at least 1).
    public var capacity: Int
    /// Timeouts that override Linux's defaults, in seconds (each at least 1).
    public var timeouts: [Timeout: Int]
    /// What happens to invalid packets (`invalid: drop`, the default, or `accept`).
    public var invalid: InvalidPolicy

    /// Makes conntrack settings; by default 262144 entries, Linux's timeouts, invalid dropped.
    public init(capacity: Int = ConntrackConfig.defaultCapacity, timeouts: [Timeout: Int] = [:], invalid: InvalidPolicy = .drop) {
        self.capacity = capacity
        self.timeouts = timeouts
        self.invalid = invalid
    }

    /// The timeout in effect for `timeout`, in seconds: the configured one, or Linux's default.
    public func seconds(for timeout: Timeout) -> Int {
        timeouts[timeout] ?? timeout.linuxDefault
    }
}
