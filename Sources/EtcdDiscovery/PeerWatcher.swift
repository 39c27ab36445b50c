import Foundation
import Synchronization
import Topology

/// Keeps the other nodes' leases: lists `PREFIX/subnets/`, then watches it from the next
/// revision; hands the peers over after the list and after each watch reply. A watch that
/// breaks is set up again from the last revision seen, after a backoff of 100 ms doubling to
/// 5 s; one whose revision was compacted away lists again. Losing etcd and finding it again
/// are told once each; meanwhile the peers stay as they were.
public final class PeerWatcher: Sendable {
    /// What the watcher tells its owner.
    public struct Sinks: Sendable {
        /// The whole list of peers, each time it may have changed.
        public var peers: @Sendable ([OverlayPeer]) -> Void
        /// A line for the log (a lease ignored, etcd lost or found again).
        public var log: @Sendable (String) -> Void
        /// Told when this node's own lease key is deleted.
        public var ownLeaseDeleted: @Sendable () -> Void

        /// Makes the sinks.
        public init(peers: @escaping @Sendable ([OverlayPeer]) -> Void, log: @escaping @Sendable (String) -> Void,
                    ownLeaseDeleted: @escaping @Sendable () -> Void = {}) {
            self.peers = peers
            self.log = log
            self.ownLeaseDeleted = ownLeaseDeleted
        }
    }

    private let gateway: EtcdGateway
    private let prefix: String
    private let sinks: Sinks
    private let state: Mutex<(table: LeaseTable, revision: Int64)>
    /// Why etcd was last lost, while it is.
    private let lost = Mutex<String?>(nil)

    /// A watcher of the leases under `prefix` for the node holding `own`.
    public init(gateway: EtcdGateway, prefix: String, network: FlannelNetworkConfig, own: FlannelLease, sinks: Sinks) {
        self.gateway = gateway
        self.prefix = prefix
        self.sinks = sinks
        state = Mutex((LeaseTable(network: network, own: own), 0))
    }

    /// Lists and watches until the task is cancelled.
    public func run() async {
        var backoff = Backoff()
        var listed = false
        let subnets = FlannelLease.subnetsPrefix(prefix)
        while !Task.isCancelled {
            let attempt = ContinuousClock.now
            do {
                if !listed {
                    let (entries, revision) = try await gateway.range(subnets, end: SubnetLeaser.end(of: subnets))
                    let problems = state.withLock { state in
                        state.revision = revision
                        return state.table.replaceAll(entries)
                    }
                    publish(problems)
                    listed = true
                }
                let from = state.withLock { $0.revision } + 1
                try await gateway.watch(prefix: subnets, from: from, onCreated: { [self] in
                    if let reason = lost.withLock({ $0.take() }) {
                        sinks.log("etcd reachable again (after: \(reason)); watching leases from revision \(from)")
                    }
                }, onEvents: { [self] events, revision in
                    let own = state.withLock { $0.table.own.subnet }
                    if events.contains(where: { if case .delete(let key, _) = $0 { FlannelLease.subnet(key: key) == own } else { false } }) {
                        sinks.log("this node's lease \(FlannelLease.keyName(own)) was deleted; writing it again")
                        sinks.ownLeaseDeleted()
                    }
                    let problems = state.withLock { state in
                        state.revision = max(state.revision, revision)
                        return state.table.apply(events)
                    }
                    publish(problems)
                })
            } catch EtcdGateway.WatchEnd.compacted(let revision) {
                sinks.log("etcd compacted the leases' history to revision \(revision); listing them again")
                listed = false
                continue
            } catch EtcdGateway.WatchEnd.broken(let reason) {
                if Task.isCancelled { return }
                report(reason)
            } catch {
                if Task.isCancelled { return }
                report("\(error)")
            }
            // A watch that lasted starts the backoff over.
            if ContinuousClock.now - attempt > .seconds(Backoff.longest) { backoff.reset() }
            try? await Task.sleep(for: .seconds(backoff.next()))
        }
    }

    /// Says once that etcd is out of reach.
    private func report(_ reason: String) {
        guard lost.withLock({ lost in
            defer { if lost == nil { lost = reason } }
            return lost == nil
        }) else { return }
        let count = state.withLock { $0.table.peers.count }
        sinks.log("etcd unreachable (\(reason)): forwarding goes on with the \(count) peers known; retrying")
    }

    /// Hands the peers over and logs the problems.
    private func publish(_ problems: [String]) {
        for problem in problems { sinks.log(problem) }
        sinks.peers(state.withLock { $0.table.peers })
    }
}
