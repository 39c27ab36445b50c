import Dataplane

/// What the metrics show, copied out of the running switch at one moment: the loop thread takes
/// one once a second (and after a change) and hands it to `MetricsServer.publish(_:)`; a scrape
/// renders the latest one. Nothing here is read on the per-packet path: the pipeline counts as
/// it always does, and only this copy crosses to the HTTP server's thread.
///
/// The counts are the pipeline's, which only grow while it lives; a count that went down (a
/// pipeline built anew) is taken as a restart from zero, so the exposed counters stay monotonic.
public struct MetricsSnapshot: Sendable, Equatable {
    /// Frames and the bytes they carried.
    public struct Traffic: Sendable, Equatable {
        /// Frames.
        public var frames: Int
        /// Bytes.
        public var bytes: Int

        /// Makes a count of `frames` frames carrying `bytes` bytes.
        public init(frames: Int = 0, bytes: Int = 0) { (self.frames, self.bytes) = (frames, bytes) }
    }

    /// One port: its name, what the pipeline took from it and sent out of it, and whether it
    /// carries traffic now.
    public struct Port: Sendable, Equatable {
        /// The topology's name for the port (the `port` label).
        public var name: String
        /// Frames and bytes received.
        public var received: Traffic
        /// Frames and bytes sent.
        public var sent: Traffic
        /// True when the port's device is open and its link up.
        public var isUp: Bool
        /// What its device did beside the pipeline (a live port's; empty otherwise).
        public var device: [DeviceEvent: Int]

        /// Makes a port's entry.
        public init(name: String, received: Traffic = .init(), sent: Traffic = .init(), isUp: Bool, device: [DeviceEvent: Int] = [:]) {
            (self.name, self.received, self.sent, self.isUp, self.device) = (name, received, sent, isUp, device)
        }
    }

    /// One bridge and the number of MACs in its FDB (learned and static).
    public struct Bridge: Sendable, Equatable {
        /// The bridge's name (the `bridge` label).
        public var name: String
        /// Entries in its FDB.
        public var fdbEntries: Int

        /// Makes a bridge's entry.
        public init(name: String, fdbEntries: Int) { (self.name, self.fdbEntries) = (name, fdbEntries) }
    }

    /// The ports, in the pipeline's order.
    public var ports: [Port]
    /// Drops per reason, indexed by `DropReason.rawValue`.
    public var drops: [Int]
    /// Events, indexed by `PipelineCounters.Event.rawValue`.
    public var events: [Int]
    /// Connections in the conntrack table that have not expired.
    public var conntrackEntries: Int
    /// The bridges, in the pipeline's order.
    public var bridges: [Bridge]

    /// Makes a snapshot; drops and events left out are zero.
    public init(ports: [Port] = [], drops: [Int] = [], events: [Int] = [], conntrackEntries: Int = 0, bridges: [Bridge] = []) {
        self.ports = ports
        self.drops = Self.padded(drops, to: DropReason.allCases.count)
        self.events = Self.padded(events, to: PipelineCounters.Event.allCases.count)
        self.conntrackEntries = conntrackEntries
        self.bridges = bridges
    }

    /// The number of drops for `reason`.
    public func dropped(_ reason: DropReason) -> Int { drops[reason.rawValue] }

    /// The number of `event`s.
    public func value(_ event: PipelineCounters.Event) -> Int { events[event.rawValue] }

    private static func padded(_ values: [Int], to count: Int) -> [Int] {
        Array(values.prefix(count)) + [Int](repeating: 0, count: max(0, count - values.count))
    }
}
