import Wire

/// A drop reason or an event: its kebab-case name (`no-route`, `fdb-learned`: `--stats-json`,
/// traces, metrics) and one sentence for people reading the counters, written together once.
public protocol NamedCounter {
    /// The name and the description.
    var declaration: (name: String, description: String) { get }
}

extension NamedCounter {
    /// The kebab-case name.
    public var name: String { declaration.name }
    /// One sentence for people reading the counters.
    public var description: String { declaration.description }
}

/// A part of the pipeline that decides drops or counts events, and says which beside its
/// code (their names and descriptions are written once, in `DropReason` and
/// `PipelineCounters.Event`): a reader of a stage sees what it can count, and a test checks
/// that every reason and event belongs to exactly one part.
package protocol CountingPart: AnyObject {
    /// The drop reasons this part decides.
    static var dropReasons: [DropReason] { get }
    /// The events this part counts.
    static var events: [PipelineCounters.Event] { get }
}

/// A stage that takes the whole batch at once, before the next stage starts: classify,
/// overlay decap, bridge.
package protocol BatchStage: CountingPart {
    /// Runs over every frame of `batch` that is still the stage's to decide.
    func run(_ batch: inout Batch)
}

/// A stage that takes the batch one frame at a time, in batch order, together with the
/// other frame stages (so an ARP reply later in the batch cannot resolve a next hop for an
/// earlier frame): conntrack, local, route, overlay encap. `prepare` sees the whole batch
/// first (to prefetch, to expire what waited too long).
package protocol FrameStage: CountingPart {
    /// Called once per batch before its frames are processed.
    func prepare(_ batch: inout Batch)
    /// Processes frame `index` of the batch `prepare` last saw.
    func process(_ frame: inout Frame, at index: Int)
}

extension FrameStage {
    /// Nothing to prepare.
    package func prepare(_ batch: inout Batch) {}
}

/// Every part that decides drops or counts events, in pipeline order.
package enum CountedParts {
    /// The stages, then the shared parts that decide drops or count events themselves.
    package static var all: [any CountingPart.Type] {
        [ClassifyStage.self, OverlayDecapStage.self, BridgeStage.self, DefragStage.self, ConntrackStage.self, LocalStage.self,
         RouteStage.self, NeighborResolver.self, OverlayEncapStage.self, Fragmenter.self, PipelineContext.self]
    }
}
