import Dataplane
import Wire

/// `overlay.etcd`: where flannel keeps the overlay's subnet leases. With it the node leases its
/// pod subnet there (unless `podCIDR` is given, which it then leases) and learns its peers
/// from the other nodes' leases.
public struct EtcdSettings: Sendable, Equatable {
    /// flannel's default key prefix.
    public static let defaultPrefix = "/coreos.com/network"

    /// The etcd endpoints, `http://HOST:PORT`, tried in turn.
    public var endpoints: [String]
    /// The key prefix: `PREFIX/config` is the network's config, `PREFIX/subnets/` the leases.
    public var prefix: String

    /// Makes the settings.
    public init(endpoints: [String], prefix: String = EtcdSettings.defaultPrefix) {
        self.endpoints = endpoints
        self.prefix = prefix
    }
}

/// Where an overlay peer came from when it was not written in a file: an etcd subnet lease.
public struct PeerLease: Sendable, Equatable {
    /// The etcd lease ID the key is attached to (0 when the key has none).
    public var lease: Int64
    /// The key, `/coreos.com/network/subnets/10.244.2.0-24`.
    public var key: String

    /// Makes an origin.
    public init(lease: Int64, key: String) {
        self.lease = lease
        self.key = key
    }

    /// The lease as etcdctl prints it, in hexadecimal.
    public var leaseText: String { String(UInt64(bitPattern: lease), radix: 16) }
}

extension OverlayConfig {
    /// The pod subnet an etcd overlay has before its lease names one: `0.0.0.0/32`, which
    /// validation leaves out of its subnet checks and the switch replaces before it starts.
    public static let unleasedPodCIDR = IPv4Prefix(address: IPv4Address(0, 0, 0, 0), length: 32)

    /// True while an etcd overlay waits for its lease to name the pod subnet.
    public var awaitsLease: Bool { etcd != nil && podCIDR == Self.unleasedPodCIDR }
}

extension Topology {
    /// The node IP the overlay uses: the first address of the uplink, the first port outside
    /// every bridge with an IPv4 address (as `PipelineConfig.addOverlay` picks it); nil without one.
    public var overlayNodeIP: IPv4Address? {
        let bridged = bridgedPortNames
        return ports.first { !bridged.contains($0.name) && !$0.addresses.isEmpty }?.addresses.first?.address
    }

    /// This node's VTEP MAC: `overlay.vtepMAC`, else the one derived from the node IP
    /// (02:aa:a.b.c.d), as the pipeline gives its tunnel interface.
    public var overlayVTEPMAC: MACAddress? {
        guard let overlay else { return nil }
        if let mac = overlay.vtepMAC { return mac }
        return overlayNodeIP.map { PipelineConfig.derivedMAC(prefix: 0x02AA, from: [IPv4Prefix(address: $0, length: 32)]) }
    }
}
