import Wire

/// Anything that keeps a copy of a neighbour's MAC and must hear when it is learned or
/// changes: the overlay's tunnel templates hold their next hop's MAC.
package protocol NeighborObserver: AnyObject {
    /// `address` is now at `mac`.
    func neighborChanged(_ address: IPv4Address, mac: MACAddress)
}

/// Turns next-hop addresses into MACs, as Linux's neighbour subsystem does for the route and
/// the tunnel: answers from the neighbour table (static entries and what the local stage
/// learned), and for an unknown next hop sends an ARP request (IPv4) or a neighbour
/// solicitation (IPv6, RFC 4861 §7.2.2), at most one a second, while up to
/// `holdQueuePerNeighbor` frames wait. When the answer comes (`learned`), the waiting frames
/// leave with the egress interface's MAC as source and the answer as destination; when it
/// does not come within `neighborTimeoutSeconds`, they are dropped (`neighbor-unresolved`).
/// The route stage and the overlay's encap hold frames here; the local stage tells it what it
/// learned; observers (the tunnel templates) hear of every change.
package final class NeighborResolver {
    /// A next hop whose MAC is asked for: by ARP (IPv4) or neighbour solicitation (IPv6).
    enum Address: Hashable, CustomStringConvertible {
        case ipv4(IPv4Address)
        case ipv6(IPv6Address)
        var description: String {
            switch self {
            case .ipv4(let address): address.description
            case .ipv6(let address): address.description
            }
        }
    }

    /// Frames waiting for one next hop's MAC.
    private final class Pending {
        var frames: FrameQueue
        let interface: InterfaceIndex
        let since: Timestamp
        var lastAsked: Timestamp
        init(capacity: Int, interface: InterfaceIndex, now: Timestamp) {
            frames = FrameQueue(capacity: capacity)
            self.interface = interface
            since = now
            lastAsked = now
        }
    }

    /// The most next hops waiting for an answer at once, as Linux's neighbour table holds at
    /// most 1,024 entries (`gc_thresh3`): a frame for one more is dropped as
    /// `neighbor-queue-full` and nothing is asked, so a scan of a subnet (an IPv6 /64 has 2^64
    /// addresses) cannot grow the queues without bound.
    static let maximumPendingNextHops = 1_024

    private let context: PipelineContext
    /// The neighbour table: static entries and learned ones.
    let table: NeighborTable
    private var pending: [Address: Pending] = [:]
    private var observers: [any NeighborObserver] = []
    /// The verdict for a frame leaving by each interface, copied out of the config: reading a
    /// whole `Interface` per frame retained its name and address arrays.
    let interfaceVerdicts: [Verdict]

    /// Makes the resolver for `context`'s interfaces, with the configuration's static entries
    /// and the learned ones of `carried` (the table of the pipeline this one replaces).
    package init(context: PipelineContext, carrying carried: NeighborTable? = nil) {
        self.context = context
        let config = context.config
        table = NeighborTable(static4: config.neighbors4, static6: config.neighbors6)
        if let carried { table.learnAll(from: carried) }
        interfaceVerdicts = config.interfaces.map { interface in
            switch interface.attachment {
            case .port(let port): .output(port)
            case .bridge(let bridge): .toBridge(bridge)
            }
        }
    }

    /// Adds an observer that hears of every IPv4 neighbour learned or changed.
    func observe(_ observer: any NeighborObserver) { observers.append(observer) }

    /// The MAC of `address`, if known.
    @inline(__always)
    func resolve(_ address: IPv4Address) -> MACAddress? { table.resolve(address) }

    /// The MAC of `address`, if known.
    @inline(__always)
    func resolve(_ address: IPv6Address) -> MACAddress? { table.resolve(address) }

    /// Records that `address` is at `mac`, as the local stage heard in `frame`; when that is
    /// new or changed, it is counted, observers hear of it and the frames held for it leave.
    func learned(_ address: Address, mac: MACAddress, from frame: borrowing Frame) {
        switch address {
        case .ipv4(let ipv4):
            guard table.learn(ipv4, mac: mac) else { return }
            for observer in observers { observer.neighborChanged(ipv4, mac: mac) }
        case .ipv6(let ipv6):
            guard table.learn(ipv6, mac: mac) else { return }
        }
        context.counters.count(.neighborsLearned)
        context.trace(frame, "local: neighbour \(address) is at \(mac)")
        release(address, mac: mac)
    }

    /// Sets a frame's MACs for leaving by `interface` toward `mac`.
    func setMACs(_ frame: inout Frame, interface: InterfaceIndex, destination mac: MACAddress) {
        var bytes = frame.mutableBytes
        bytes.setMAC(mac, at: EthernetHeader.Field.destination)
        bytes.setMAC(context.interfaceMACs[interface], at: EthernetHeader.Field.source)
    }

    /// Queues `frame` until `nextHop` answers, asking it (ARP or a neighbour solicitation, at
    /// most once a second); on release the frame leaves `interface` with that interface's MAC
    /// as source and the answer as destination.
    func hold(_ frame: inout Frame, nextHop: Address, interface: InterfaceIndex) {
        let entry: Pending
        if let existing = pending[nextHop] {
            entry = existing
        } else {
            guard pending.count < Self.maximumPendingNextHops else {
                frame.verdict = .drop(.neighborQueueFull)
                context.trace(frame, "route: \(Self.maximumPendingNextHops) next hops already unresolved, \(nextHop) not asked -> drop neighbor-queue-full")
                return
            }
            entry = Pending(capacity: context.config.holdQueuePerNeighbor, interface: interface, now: frame.timestamp)
            pending[nextHop] = entry
            ask(nextHop, interface: interface, about: frame)
        }
        if frame.timestamp.nanoseconds - entry.lastAsked.nanoseconds >= 1_000_000_000 {
            entry.lastAsked = frame.timestamp
            ask(nextHop, interface: interface, about: frame)
        }
        guard !entry.frames.isFull else {
            frame.verdict = .drop(.neighborQueueFull)
            context.trace(frame, "route: \(nextHop) unresolved and its queue is full -> drop neighbor-queue-full")
            return
        }
        context.counters.count(.held)
        context.trace(frame, "route: next hop \(nextHop) unresolved, held (\(entry.frames.count + 1) waiting)")
        // The frame itself goes into the queue; a spare from the pool takes its place in the
        // batch, marked held (a copy allocated a whole buffer per held frame).
        var placeholder = context.pool.take()
        swap(&frame, &placeholder)
        frame.verdict = .held
        frame.number = placeholder.number
        entry.frames.append(placeholder)
    }

    /// Sends an ARP request or a neighbour solicitation for `address` out of `interface`:
    /// out of the routed port, or flooded to every member of the bridge.
    private func ask(_ address: Address, interface: InterfaceIndex, about frame: borrowing Frame) {
        let verdict: Verdict = switch context.config.interfaces[interface].attachment {
        case .port(let port): .output(port)
        case .bridge(let bridge): .flood(bridge, except: .none)
        }
        let name = context.config.interfaces[interface].name
        switch address {
        case .ipv4(let address):
            guard let source = context.emitARPRequest(for: address, interface: interface, verdict: verdict, at: frame.timestamp) else { return }
            context.trace(frame, "route: ARP who-has \(address) tell \(source) out \(name)")
        case .ipv6(let address):
            guard let source = context.emitNeighborSolicitation(for: address, interface: interface, verdict: verdict,
                                                                at: frame.timestamp) else { return }
            context.trace(frame, "route: neighbour solicitation for \(address) from \(source) out \(name)")
        }
    }

    /// Sends the frames held for `address`, now that its MAC is known.
    private func release(_ address: Address, mac: MACAddress) {
        guard let entry = pending.removeValue(forKey: address) else { return }
        while !entry.frames.isEmpty {
            var frame = entry.frames.removeFirst()
            setMACs(&frame, interface: entry.interface, destination: mac)
            frame.verdict = interfaceVerdicts[entry.interface]
            context.counters.count(.released)
            context.trace(frame, "route: \(address) resolved to \(mac), held frame released")
            context.emit(frame)
        }
    }

    /// Drops the frames of next hops that did not answer within the timeout.
    func expire() {
        guard !pending.isEmpty else { return }
        dropHeld(olderThan: context.config.neighborTimeoutSeconds * 1_000_000_000)
    }

    /// Drops every frame still waiting (the pipeline is being replaced).
    func dropAllHeld() { dropHeld(olderThan: -1) }

    /// Drops the frames of next hops asked more than `limit` nanoseconds ago.
    private func dropHeld(olderThan limit: Int64) {
        for (address, entry) in pending where context.now.nanoseconds - entry.since.nanoseconds > limit {
            while !entry.frames.isEmpty {
                let frame = entry.frames.removeFirst()
                context.counters.drop(.neighborUnresolved)
                context.trace(frame, "route: \(address) never answered -> drop neighbor-unresolved")
                context.pool.recycle(frame)
            }
            pending[address] = nil
        }
    }

    /// Frames still waiting for a next hop.
    var heldCount: Int { pending.values.reduce(0) { $0 + $1.frames.count } }
}

// MARK: What this part counts (names and descriptions: DropReason, PipelineCounters.Event)

extension NeighborResolver: CountingPart {
    package static let dropReasons: [DropReason] = [.neighborQueueFull, .neighborUnresolved]
    package static let events: [PipelineCounters.Event] = [.arpRequestsSent, .neighborSolicitationsSent, .held, .released, .neighborsLearned]
}
