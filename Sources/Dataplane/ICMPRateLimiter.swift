import Wire

/// The limits Linux puts on the ICMP and ICMPv6 errors a node sends (net/ipv4/icmp.c,
/// net/ipv6/icmp.c), so that a flood of packets that each earn an error (TTL 1, no route, a
/// Service without endpoints) cannot make the node flood back:
///
/// - all errors together: a token bucket of `perSecond` (`net.ipv4.icmp_msgs_per_sec`, 1,000)
///   holding at most `burst` (`icmp_msgs_burst`, 50), as `icmp_global_allow`, spent only by
///   errors the destination's own limit lets go;
/// - each destination (the sender being told): one every `interval` (`icmp_ratelimit`,
///   1,000 ms) after a burst of six, as `inet_peer_xrlim_allow` with its burst factor of 6.
///
/// Time is the pipeline's clock (the capture's in replay). The per-destination state is kept
/// for at most `capacity` destinations; beyond that it starts afresh, as Linux's peer cache
/// forgets idle peers.
final class ICMPRateLimiter {
    private let perSecond: Int64
    private let burst: Int64
    private let interval: Int64
    private let capacity: Int
    /// Global credit (errors) and when it was last topped up (ns).
    private var credit: Int64
    private var stamp = Int64.min
    /// Per destination: its tokens (ns of credit) and when they were last topped up.
    private var peers: [IPv6Address: (tokens: Int64, last: Int64)] = [:]

    /// The per-destination burst: six errors, then one an interval.
    static let burstFactor: Int64 = 6

    init(perSecond: Int = 1_000, burst: Int = 50, interval: Int64 = 1_000_000_000, capacity: Int = 4_096) {
        self.perSecond = Int64(perSecond)
        self.burst = Int64(burst)
        self.interval = interval
        self.capacity = capacity
        credit = Int64(burst)
    }

    /// True when an error to `destination` (an IPv4 address as `::ffff:a.b.c.d`) may be sent
    /// at `now` (ns), taking its tokens; false when a limit holds it back.
    func allow(_ destination: IPv6Address, now: Int64) -> Bool {
        // As Linux since 6.12 ("icmp: change the order of rate limits"): global credit is
        // looked at first but taken only for an error that the destination's own limit lets
        // go, so one sender's flood does not use up everyone's budget.
        guard hasGlobalCredit(now: now) else { return false }
        if peers.count >= capacity && peers[destination] == nil { peers.removeAll(keepingCapacity: true) }
        // A new destination starts with a full bucket (Linux dates its last token a minute back).
        guard take(&peers[destination, default: (Self.burstFactor * interval, now)], now: now) else { return false }
        credit -= 1
        return true
    }

    /// `inet_peer_xrlim_allow`: one destination's tokens, earned by the time since its last
    /// error up to the burst, less one interval when an error may go.
    private func take(_ peer: inout (tokens: Int64, last: Int64), now: Int64) -> Bool {
        let tokens = min(peer.tokens + max(0, now - peer.last), Self.burstFactor * interval)
        let allowed = tokens >= interval
        peer = (allowed ? tokens - interval : tokens, now)
        return allowed
    }

    /// `icmp_global_allow`: credit comes back at `perSecond`, at most `burst` of it, topped up
    /// once at least 20 ms have passed; true while some is left.
    private func hasGlobalCredit(now: Int64) -> Bool {
        if stamp == .min { stamp = now }
        let elapsed = min(1_000_000_000, now - stamp)
        if elapsed >= 20_000_000 {
            credit = min(credit + perSecond * elapsed / 1_000_000_000, burst)
            stamp = now
        }
        return credit > 0
    }
}
