import Foundation
import Topology
import Synchronization
import Wire

/// `overlay.etcd` on a running switch: reads flannel's network config, leases this node's
/// subnet, then keeps the lease renewed and the other nodes' leases watched, on tasks of their
/// own (never the packet loop), handing the peers over as they change.
public final class EtcdOverlay: Sendable {
    /// Why the overlay cannot start.
    public struct Failure: Error, CustomStringConvertible {
        /// What is wrong, for the switch's start-up error.
        public var description: String
    }

    /// The etcd client.
    public let gateway: EtcdGateway
    /// The subnet held.
    public let held: SubnetLeaser.Held
    private let leaser: SubnetLeaser
    private let settings: EtcdSettings
    private let tasks = TaskList()
    /// The lease as last renewed, and the task renewing it.
    private let renewal = Mutex<(held: SubnetLeaser.Held, task: Task<Void, Never>?)?>(nil)

    /// Leases a subnet for `topology`'s node (which has `overlay.etcd`): the network config at
    /// `PREFIX/config` must agree with the overlay's backend, VNI and port. Waits for etcd as
    /// long as it is out of reach (telling `log` once); a config that does not agree, or a
    /// subnet that cannot be had, fails at once. Returns the overlay and the topology with its
    /// leased `podCIDR`.
    public static func start(_ topology: Topology, ttl: Int64? = nil, log: @escaping @Sendable (String) -> Void) async throws(Failure) -> (EtcdOverlay, Topology) {
        guard let overlay = topology.overlay, let settings = overlay.etcd else { throw Failure(description: "no overlay.etcd") }
        guard let nodeIP = topology.overlayNodeIP else {
            throw Failure(description: "overlay.etcd: the node has no uplink with an IPv4 address to write in its lease as PublicIP")
        }
        let gateway = EtcdGateway(endpoints: settings.endpoints)
        let configKey = settings.prefix + "/config"
        var backoff = Backoff()
        var told = false
        var network: FlannelNetworkConfig?
        while network == nil {
            do {
                guard let entry = try await gateway.get(configKey) else {
                    throw Failure(description: "\(configKey): no network config in etcd at \(settings.endpoints.joined(separator: ", ")); expected flannel's {\"Network\": …, \"Backend\": {\"Type\": …}}")
                }
                do { network = try FlannelNetworkConfig(json: entry.value) } catch {
                    throw Failure(description: "\(configKey): \(error)")
                }
            } catch let failure as Failure {
                throw failure
            } catch {
                if !told { log("waiting for etcd at \(settings.endpoints.joined(separator: ", ")): \(error)") }
                told = true
                try? await Task.sleep(for: .seconds(backoff.next()))
            }
        }
        guard let network else { throw Failure(description: "unreachable") }
        let problems = network.disagreements(with: overlay)
        guard problems.isEmpty else {
            throw Failure(description: "\(configKey): " + problems.joined(separator: "; "))
        }
        let attributes = FlannelLease(subnet: overlay.podCIDR, publicIP: nodeIP, backendType: overlay.backend.rawValue,
                                      vni: overlay.backend == .vxlan ? overlay.vni : nil,
                                      vtepMAC: overlay.backend == .vxlan ? topology.overlayVTEPMAC : nil)
        var leaser = SubnetLeaser(gateway: gateway, prefix: settings.prefix, network: network, attributes: attributes,
                                  requested: overlay.awaitsLease ? nil : overlay.podCIDR)
        if let ttl {
            leaser.ttl = ttl
            leaser.renewBefore = ttl / 3
        }
        let held: SubnetLeaser.Held
        do { held = try await leaser.acquire() } catch {
            throw Failure(description: "leasing a subnet: \(error)")
        }
        let leased: Topology
        do { leased = try topology.leasing(podCIDR: held.lease.subnet) } catch {
            try? await gateway.revoke(held.id)
            throw Failure(description: "the leased subnet \(held.lease.subnet) does not fit the topology: \(error)")
        }
        log("leased \(held.lease.subnet) (\(held.key), lease \(String(UInt64(bitPattern: held.id), radix: 16)), node IP \(nodeIP))")
        return (EtcdOverlay(gateway: gateway, held: held, leaser: leaser, settings: settings), leased)
    }

    private init(gateway: EtcdGateway, held: SubnetLeaser.Held, leaser: SubnetLeaser, settings: EtcdSettings) {
        self.gateway = gateway
        self.held = held
        self.leaser = leaser
        self.settings = settings
    }

    /// Starts renewing the lease and watching the others'; `peers` gets every change. This
    /// node's key deleted by someone else is written again at once.
    public func run(peers: @escaping @Sendable ([OverlayPeer]) -> Void, log: @escaping @Sendable (String) -> Void) {
        let watcher = PeerWatcher(gateway: gateway, prefix: settings.prefix, network: leaser.network, own: held.lease,
                                  sinks: .init(peers: peers, log: log, ownLeaseDeleted: { [self] in renew(now: true, log: log) }))
        tasks.add(Task { await watcher.run() })
        renewal.withLock { $0 = (held, nil) }
        renew(now: false, log: log)
    }

    /// (Re)starts the renewal task, its first renewal at once with `now`.
    private func renew(now: Bool, log: @escaping @Sendable (String) -> Void) {
        let leaser = leaser
        renewal.withLock { renewal in
            guard let held = renewal?.held else { return }
            renewal?.task?.cancel()
            renewal?.task = Task { [self] in
                await leaser.keepRenewed(held, firstAfter: now ? 0 : nil, onProblem: log,
                                         onRenewed: { [self] held in self.renewal.withLock { $0?.held = held } })
            }
        }
    }

    /// Stops watching and renewing; with `revoke`, gives the subnet back (the other nodes drop
    /// this one at once; flanneld keeps its lease instead, to come back to it).
    public func stop(revoke: Bool = false) async {
        tasks.cancelAll()
        let current = renewal.withLock { renewal in
            renewal?.task?.cancel()
            return renewal?.held ?? held
        }
        if revoke { try? await gateway.revoke(current.id) }
    }
}

/// The tasks an overlay started, to cancel them.
private final class TaskList: Sendable {
    private let tasks = Mutex<[Task<Void, Never>]>([])

    func add(_ task: Task<Void, Never>) { tasks.withLock { $0.append(task) } }

    func cancelAll() { for task in tasks.withLock({ $0 }) { task.cancel() } }
}
