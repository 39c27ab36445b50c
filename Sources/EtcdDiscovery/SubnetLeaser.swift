import Foundation
import Topology
import Wire

/// Leases this node's pod subnet as flanneld does (flannel's `pkg/subnet/etcd`): its own
/// previous lease when it comes back (a lease with its PublicIP), else the subnet the topology
/// names, else the first free subnet of the network; created only if absent (a transaction on
/// the key's create revision), attached to an etcd lease of `ttl` seconds that is renewed
/// `renewBefore` seconds before it ends.
public struct SubnetLeaser: Sendable {
    /// The etcd client.
    public let gateway: EtcdGateway
    /// The key prefix (`/coreos.com/network`).
    public let prefix: String
    /// The network.
    public let network: FlannelNetworkConfig
    /// What this node writes in its lease (the subnet is filled in when it is chosen).
    public let attributes: FlannelLease
    /// The subnet the topology asks for, if any.
    public let requested: IPv4Prefix?
    /// The etcd lease's TTL in seconds (flannel's: 24 hours).
    public var ttl: Int64 = 24 * 3600
    /// How long before the end the lease is renewed (flannel: an hour).
    public var renewBefore: Int64 = 3600

    /// A lease held: the subnet's key and the etcd lease it is attached to.
    public struct Held: Sendable, Equatable {
        /// The lease's contents.
        public var lease: FlannelLease
        /// `PREFIX/subnets/10.244.1.0-24`.
        public var key: String
        /// The etcd lease ID.
        public var id: Int64
    }

    /// Makes a leaser.
    public init(gateway: EtcdGateway, prefix: String, network: FlannelNetworkConfig, attributes: FlannelLease, requested: IPv4Prefix?) {
        self.gateway = gateway
        self.prefix = prefix
        self.network = network
        self.attributes = attributes
        self.requested = requested
    }

    /// Takes a subnet: tries again (up to 16 times) when another node wins the race for one.
    public func acquire() async throws(EtcdGateway.Failure) -> Held {
        if let requested, !network.holds(requested) {
            throw .init(description: "overlay.podCIDR \(requested) is not a /\(network.subnetLength) of the network config's Network \(network.network)")
        }
        for _ in 0..<16 {
            let (entries, _) = try await gateway.range(FlannelLease.subnetsPrefix(prefix), end: Self.end(of: FlannelLease.subnetsPrefix(prefix)))
            var taken: [IPv4Prefix: (lease: FlannelLease?, entry: EtcdGateway.Entry)] = [:]
            for entry in entries {
                guard let subnet = FlannelLease.subnet(key: entry.key) else { continue }
                taken[subnet] = ((try? FlannelLease(key: entry.key, value: entry.value)), entry)
            }
            let mine = taken.first { $0.value.lease?.publicIP == attributes.publicIP && network.holds($0.key) }
            let choice: IPv4Prefix
            if let requested {
                if let holder = taken[requested], holder.lease?.publicIP != attributes.publicIP {
                    throw .init(description: "overlay.podCIDR \(requested) is leased by \(holder.lease.map { "\($0.publicIP)" } ?? "another node") (\(holder.entry.key))")
                }
                choice = requested
            } else if let mine {
                choice = mine.key
            } else {
                guard let free = network.leasableSubnets.first(where: { taken[$0] == nil }) else {
                    throw .init(description: "no free /\(network.subnetLength) left in \(network.network)")
                }
                choice = free
            }
            var lease = attributes
            lease.subnet = choice
            let key = FlannelLease.key(prefix: prefix, subnet: choice)
            let id = try await gateway.grant(ttl: ttl)
            if try await gateway.put(key, lease.json, lease: id, ifModRevision: taken[choice]?.entry.modRevision ?? 0) {
                return Held(lease: lease, key: key, id: id)
            }
            try? await gateway.revoke(id)
        }
        throw .init(description: "lost the race for a subnet 16 times")
    }

    /// Renews `held` for as long as the task runs: `renewBefore` seconds before its end (or
    /// after `firstAfter` seconds), then again each time. A lease found gone (expired while etcd
    /// was away, or revoked) is replaced by a new one and a key found gone is written again, as
    /// long as no other node took the subnet meanwhile. Failures are retried with backoff and
    /// told to `onProblem`; `onRenewed` gets the lease after each renewal.
    public func keepRenewed(_ held: Held, firstAfter: Double? = nil, onProblem: @Sendable (String) -> Void,
                            onRenewed: @Sendable (Held) -> Void = { _ in }) async {
        var held = held
        var backoff = Backoff()
        var wait = firstAfter ?? Double(max(1, ttl - renewBefore))
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(wait))
            if Task.isCancelled { return }
            do {
                held = try await renew(held, onProblem: onProblem)
                onRenewed(held)
                backoff.reset()
                wait = Double(max(1, ttl - renewBefore))
            } catch {
                onProblem("renewing the lease of \(held.lease.subnet): \(error)")
                wait = backoff.next()
            }
        }
    }

    /// One renewal: the etcd lease kept alive (or granted anew if it is gone), and the key
    /// written again if it is gone or on another lease, unless another node holds it now.
    private func renew(_ held: Held, onProblem: (String) -> Void) async throws(EtcdGateway.Failure) -> Held {
        var held = held
        let alive = try await gateway.keepAlive(held.id) > 0
        let current = try await gateway.get(held.key)
        if let current, (try? FlannelLease(key: current.key, value: current.value))?.publicIP != attributes.publicIP {
            onProblem("subnet \(held.lease.subnet) was taken by another node while this node's lease was gone; keeping it until restart")
            return held
        }
        guard !alive || current?.lease != held.id else { return held }
        if !alive { held.id = try await gateway.grant(ttl: ttl) }
        guard try await gateway.put(held.key, held.lease.json, lease: held.id, ifModRevision: current?.modRevision ?? 0) else {
            throw .init(description: "the lease key changed while it was being written again")
        }
        return held
    }

    /// The range end of a prefix.
    static func end(of prefix: String) -> String {
        String(decoding: EtcdGateway.prefixEnd(prefix), as: UTF8.self)
    }
}
