import Foundation
import Topology
import Wire

/// The other nodes' subnet leases as last seen in etcd, and the peers they make. A lease that
/// cannot be a peer (a value flannel would not write, a subnet outside the network, one that
/// claims this node's subnet, another backend, a node IP another lease already has) is left
/// out, and its problem reported once per revision of its key.
public struct LeaseTable: Sendable {
    /// The network the leases come from.
    public let network: FlannelNetworkConfig
    /// This node's lease: its subnet and node IP.
    public let own: FlannelLease
    /// Every lease key seen, with its entry and what its value reads as (read once per put).
    private var entries: [String: (entry: EtcdGateway.Entry, lease: Result<FlannelLease, FlannelLease.Problem>)] = [:]
    /// The revision of each key whose problem was already reported.
    private var reported: [String: Int64] = [:]

    /// An empty table.
    public init(network: FlannelNetworkConfig, own: FlannelLease) {
        self.network = network
        self.own = own
    }

    /// Replaces every lease with a fresh list; returns the problems not reported before.
    public mutating func replaceAll(_ listed: [EtcdGateway.Entry]) -> [String] {
        entries = Dictionary(listed.map { ($0.key, Self.read($0)) }, uniquingKeysWith: { $1 })
        return problems()
    }

    /// Applies a watch's events; returns the problems not reported before.
    public mutating func apply(_ events: [EtcdGateway.Event]) -> [String] {
        for event in events {
            switch event {
            case .put(let entry): entries[entry.key] = Self.read(entry)
            case .delete(let key, _):
                entries[key] = nil
                reported[key] = nil
            }
        }
        return problems()
    }

    /// The peers, by key; with each lease left out and why.
    public func evaluate() -> (peers: [OverlayPeer], ignored: [(key: String, revision: Int64, problem: String)]) {
        var ignored: [(String, Int64, String)] = []
        var byIP: [IPv4Address: (entry: EtcdGateway.Entry, lease: FlannelLease)] = [:]
        for (entry, read) in entries.values.sorted(by: { $0.entry.key < $1.entry.key }) {
            let lease: FlannelLease
            switch read {
            case .success(let value): lease = value
            case .failure(let error):
                ignored.append((entry.key, entry.modRevision, error.description))
                continue
            }
            if lease.publicIP == own.publicIP { continue }  // this node's lease, or its earlier one
            if let problem = problem(with: lease) {
                ignored.append((entry.key, entry.modRevision, problem))
                continue
            }
            if let other = byIP[lease.publicIP] {
                // A node that came back with another subnet before its old lease expired: the newer wins.
                let (older, newer) = other.entry.modRevision < entry.modRevision ? (other.entry, entry) : (entry, other.entry)
                ignored.append((older.key, older.modRevision, "node \(lease.publicIP) also holds \(newer.key), a newer lease"))
                if older.key == other.entry.key { byIP[lease.publicIP] = (entry, lease) }
                continue
            }
            byIP[lease.publicIP] = (entry, lease)
        }
        let peers = byIP.values.sorted { $0.entry.key < $1.entry.key }.map { $0.lease.peer(lease: $0.entry.lease, key: $0.entry.key) }
        return (peers, ignored)
    }

    /// The peers, by key.
    public var peers: [OverlayPeer] { evaluate().peers }

    /// An entry with its value read.
    private static func read(_ entry: EtcdGateway.Entry) -> (entry: EtcdGateway.Entry, lease: Result<FlannelLease, FlannelLease.Problem>) {
        (entry, Result { () throws(FlannelLease.Problem) in try FlannelLease(key: entry.key, value: entry.value) })
    }

    /// Why `lease` cannot be a peer of this node, if it cannot.
    private func problem(with lease: FlannelLease) -> String? {
        if !network.holds(lease.subnet) {
            return "subnet \(lease.subnet) is not a /\(network.subnetLength) of the network \(network.network)"
        }
        if lease.subnet.overlaps(own.subnet) {
            return "subnet \(lease.subnet) is this node's own (\(own.subnet), leased by \(own.publicIP)) but names node \(lease.publicIP)"
        }
        if lease.backendType != network.backend {
            return "backend \(lease.backendType.isEmpty ? "none" : lease.backendType) is not the network's \(network.backend)"
        }
        return nil
    }

    /// The problems of leases not reported at their revision yet, marking them reported.
    private mutating func problems() -> [String] {
        var lines: [String] = []
        for (key, revision, problem) in evaluate().ignored where reported[key] != revision {
            reported[key] = revision
            lines.append("etcd lease \(key) ignored: \(problem)")
        }
        return lines
    }
}
