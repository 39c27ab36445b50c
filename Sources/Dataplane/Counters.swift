/// What a pipeline counted: frames per port, drops per reason, and what each stage did.
/// Every frame that enters is accounted for: output, flooded, held, delivered or dropped.
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

    /// Per port, in `PortID` order.
    public var ports: [PortCounters]
    /// Drops per reason, indexed by `DropReason.rawValue`.
    public var drops: [Int]
    /// Named events, indexed by `Event.rawValue`.
    public var events: [Int]

    /// The events a pipeline counts.
    public enum Event: Int, CaseIterable, Sendable {
        case fdbLearned, fdbMoved, fdbFull, flooded, routed, arpRepliesSent, arpRequestsSent,
             echoRepliesSent, icmpErrorsSent, held, released, delivered, neighborsLearned,
             neighborAdvertisementsSent, neighborSolicitationsSent,
             conntrackNew, conntrackExpired, conntrackEvicted, sourceNAT, destinationNAT, relatedTranslated,
             encapsulated, decapsulated, conntrackInvalidAccepted

        /// The kebab-case name used in `--stats-json`: `fdb-learned`, `icmp-errors-sent`, …
        public var name: String {
            switch self {
            case .fdbLearned: "fdb-learned"
            case .fdbMoved: "fdb-moved"
            case .fdbFull: "fdb-full"
            case .flooded: "flooded"
            case .routed: "routed"
            case .arpRepliesSent: "arp-replies-sent"
            case .arpRequestsSent: "arp-requests-sent"
            case .echoRepliesSent: "echo-replies-sent"
            case .icmpErrorsSent: "icmp-errors-sent"
            case .held: "held"
            case .released: "released"
            case .delivered: "delivered"
            case .neighborsLearned: "neighbors-learned"
            case .neighborAdvertisementsSent: "neighbor-advertisements-sent"
            case .neighborSolicitationsSent: "neighbor-solicitations-sent"
            case .conntrackNew: "conntrack-new"
            case .conntrackExpired: "conntrack-expired"
            case .conntrackEvicted: "conntrack-evicted"
            case .sourceNAT: "snat"
            case .destinationNAT: "dnat"
            case .relatedTranslated: "icmp-related-translated"
            case .encapsulated: "encapsulated"
            case .decapsulated: "decapsulated"
            case .conntrackInvalidAccepted: "conntrack-invalid-accepted"
            }
        }
    }

    /// Makes zeroed counters for `portCount` ports.
    public init(portCount: Int) {
        ports = Array(repeating: PortCounters(), count: portCount)
        drops = Array(repeating: 0, count: DropReason.allCases.count)
        events = Array(repeating: 0, count: Event.allCases.count)
    }

    /// Counts one `event` (or `count` of them).
    @inlinable
    public func count(_ event: Event, _ count: Int = 1) {
        events[event.rawValue] += count
    }

    /// Counts a drop.
    @inlinable
    public func drop(_ reason: DropReason) {
        drops[reason.rawValue] += 1
    }

    /// The number of `event`s so far.
    public func value(_ event: Event) -> Int { events[event.rawValue] }

    /// The number of drops for `reason` so far.
    public func dropped(_ reason: DropReason) -> Int { drops[reason.rawValue] }

    /// All drops.
    public var totalDrops: Int { drops.reduce(0, +) }
}
