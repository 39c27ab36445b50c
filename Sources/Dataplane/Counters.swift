/// What a pipeline counted: frames per port, drops per reason, and what each stage did.
/// Every frame that enters is accounted for: output, flooded, held, delivered or dropped.
///
/// The counts live in buffers allocated once, not in arrays: bumping an array element inside
/// a class costs a uniqueness check and a retain/release pair per count, measured (callgrind)
/// at about a tenth of a routed frame's instructions. The arrays below are read-only copies.
public final class PipelineCounters {
    /// Frames and bytes in and out of one port.
    public struct PortCounters: Sendable, Equatable {
        /// Frames received.
        public var framesIn = 0
        /// Bytes received.
        public var bytesIn = 0
        /// Frames sent.
        public var framesOut = 0
        /// Bytes sent.
        public var bytesOut = 0
    }

    /// The number of ports counted.
    public let portCount: Int
    @usableFromInline let portStorage: UnsafeMutablePointer<PortCounters>
    @usableFromInline let dropStorage: UnsafeMutablePointer<Int>
    @usableFromInline let eventStorage: UnsafeMutablePointer<Int>

    /// Per port, in `PortID` order (a copy).
    public var ports: [PortCounters] { Array(UnsafeBufferPointer(start: portStorage, count: portCount)) }
    /// Drops per reason, indexed by `DropReason.rawValue` (a copy).
    public var drops: [Int] { Array(UnsafeBufferPointer(start: dropStorage, count: DropReason.allCases.count)) }
    /// Named events, indexed by `Event.rawValue` (a copy).
    public var events: [Int] { Array(UnsafeBufferPointer(start: eventStorage, count: Event.allCases.count)) }

    /// The events a pipeline counts: each with its kebab-case name (`--stats-json`) and a
    /// description, written together once in `declaration`; the part that counts it lists it in
    /// its `events` (`CountingPart`).
    public enum Event: Int, CaseIterable, Sendable, NamedCounter {
        case fdbLearned
        case fdbMoved
        case fdbFull
        case flooded
        case routed
        case arpRepliesSent
        case arpRequestsSent
        case echoRepliesSent
        case icmpErrorsSent
        case held
        case released
        case delivered
        case neighborsLearned
        case neighborAdvertisementsSent
        case neighborSolicitationsSent
        case conntrackNew
        case conntrackExpired
        case conntrackEvicted
        case sourceNAT
        case destinationNAT
        case relatedTranslated
        case encapsulated
        case decapsulated
        case conntrackInvalidAccepted
        case icmpErrorsRateLimited
        case conntrackFlushed
        case reassembled
        case atomicFragments
        case fragmented

        /// The event's kebab-case name and one sentence for people reading the counters.
        public var declaration: (name: String, description: String) { Self.declarations[self]! }

        /// Every event's name and description (a test checks that each has one).
        private static let declarations: [Event: (name: String, description: String)] = [
            .fdbLearned: ("fdb-learned", "a bridge learned a new MAC on a port"),
            .fdbMoved: ("fdb-moved", "a learned MAC moved to another port"),
            .fdbFull: ("fdb-full", "a MAC not learned: the table was full"),
            .flooded: ("flooded", "a frame flooded to every port of its bridge (broadcast, multicast, unknown unicast)"),
            .routed: ("routed", "a packet forwarded between interfaces"),
            .arpRepliesSent: ("arp-replies-sent", "ARP replies sent for the node's addresses"),
            .arpRequestsSent: ("arp-requests-sent", "ARP requests sent for unresolved next hops"),
            .echoRepliesSent: ("echo-replies-sent", "echo replies (ping) sent by the node"),
            .icmpErrorsSent: ("icmp-errors-sent", "ICMP and ICMPv6 errors sent"),
            .held: ("held", "frames held while their next hop was resolved"),
            .released: ("released", "held frames sent once their next hop answered"),
            .delivered: ("delivered", "ARP and neighbour discovery packets taken by the node"),
            .neighborsLearned: ("neighbors-learned", "neighbours learned or changed (ARP, neighbour discovery)"),
            .neighborAdvertisementsSent: ("neighbor-advertisements-sent", "neighbour advertisements sent for the node's IPv6 addresses"),
            .neighborSolicitationsSent: ("neighbor-solicitations-sent", "neighbour solicitations sent for unresolved IPv6 next hops"),
            .conntrackNew: ("conntrack-new", "connections opened"),
            .conntrackExpired: ("conntrack-expired", "connections expired and removed"),
            .conntrackEvicted: ("conntrack-evicted", "unassured connections evicted from a full table"),
            .sourceNAT: ("snat", "new connections masqueraded (SNAT)"),
            .destinationNAT: ("dnat", "new connections translated to a published port or Service endpoint (DNAT)"),
            .relatedTranslated: ("icmp-related-translated", "ICMP errors about translated connections translated back"),
            .encapsulated: ("encapsulated", "frames put into the tunnel"),
            .decapsulated: ("decapsulated", "frames taken out of the tunnel"),
            .conntrackInvalidAccepted: ("conntrack-invalid-accepted", "packets of no connection accepted untranslated (invalid: accept)"),
            .icmpErrorsRateLimited: ("icmp-errors-rate-limited", "ICMP and ICMPv6 errors held back by Linux's rate limits"),
            .reassembled: ("reassembled", "IP datagrams reassembled from their fragments before conntrack"),
            .atomicFragments: ("atomic-fragments", "IPv6 atomic fragments (offset 0, no more fragments) passed on alone (RFC 6946)"),
            .fragmented: ("fragmented", "packets cut into fragments on output (reassembled datagrams, IPv4 without DF over a tunnel's MTU)"),
            .conntrackFlushed: ("conntrack-flushed", "UDP connections to an endpoint a change removed, forgotten (kube-proxy's conntrack -D)"),
        ]
    }

    /// Makes zeroed counters for `portCount` ports.
    public init(portCount: Int) {
        self.portCount = portCount
        portStorage = .allocate(capacity: max(1, portCount))
        portStorage.initialize(repeating: PortCounters(), count: max(1, portCount))
        dropStorage = .allocate(capacity: DropReason.allCases.count)
        dropStorage.initialize(repeating: 0, count: DropReason.allCases.count)
        eventStorage = .allocate(capacity: Event.allCases.count)
        eventStorage.initialize(repeating: 0, count: Event.allCases.count)
    }

    deinit {
        portStorage.deallocate()
        dropStorage.deallocate()
        eventStorage.deallocate()
    }

    /// Counts one `event` (or `count` of them).
    @inlinable
    public func count(_ event: Event, _ count: Int = 1) {
        eventStorage[event.rawValue] += count
    }

    /// Counts a drop.
    @inlinable
    public func drop(_ reason: DropReason) {
        dropStorage[reason.rawValue] += 1
    }

    /// Counts a frame of `byteCount` bytes received on port `port` (ignored past the last port).
    @inlinable
    public func received(port: Int, byteCount: Int) {
        guard port < portCount else { return }
        portStorage[port].framesIn += 1
        portStorage[port].bytesIn += byteCount
    }

    /// Counts a frame of `byteCount` bytes sent by port `port` (ignored past the last port).
    @inlinable
    public func sent(port: Int, byteCount: Int) {
        guard port < portCount else { return }
        portStorage[port].framesOut += 1
        portStorage[port].bytesOut += byteCount
    }

    /// The number of `event`s so far.
    public func value(_ event: Event) -> Int { eventStorage[event.rawValue] }

    /// The number of drops for `reason` so far.
    public func dropped(_ reason: DropReason) -> Int { dropStorage[reason.rawValue] }

    /// All drops.
    public var totalDrops: Int { drops.reduce(0, +) }
}
