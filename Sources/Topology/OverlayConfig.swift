import Dataplane
import Wire

/// The overlay between nodes (`overlay:`), as flannel sets it up on this node.
public struct OverlayConfig: Sendable, Equatable {
    /// How pod traffic crosses to other nodes.
    public enum Backend: String, Sendable, Hashable, CaseIterable {
        /// Ethernet in UDP (RFC 7348), flannel's default.
        case vxlan
        /// Plain routes to each peer's pod subnet via the peer's node IP (same L2 only).
        case hostGW = "host-gw"
        /// IPv4 in IPv4 (RFC 2003), as Calico's IP-in-IP does it.
        case ipip
        /// IP in UDP, flannel's legacy `udp` backend.
        case udp

        /// The UDP port a backend listens on by default: 8472 (the Linux kernel's VXLAN
        /// port, which flannel uses) for `vxlan`, 8285 for `udp`, nil for the others.
        public var defaultPort: UInt16? {
            switch self {
            case .vxlan: 8472
            case .udp: 8285
            case .hostGW, .ipip: nil
            }
        }
    }

    /// The default VXLAN network identifier: 1, flannel's.
    public static let defaultVNI = PipelineConfig.Overlay.defaultVNI
    /// The default MTU: 1450, a 1500-byte link less VXLAN's 50 bytes.
    public static let defaultMTU = PipelineConfig.Overlay.defaultMTU

    /// The backend.
    public var backend: Backend
    /// The VXLAN network identifier, 0 to 16777215 (default 1).
    public var vni: UInt32
    /// The UDP port (default 8472 for vxlan, 8285 for udp; nil for host-gw and ipip unless given).
    public var port: UInt16?
    /// The MTU of the pod network (default 1450).
    public var mtu: Int
    /// This node's pod subnet.
    public var podCIDR: IPv4Prefix
    /// This node's VTEP MAC, if fixed.
    public var vtepMAC: MACAddress?
    /// The other nodes.
    public var peers: [OverlayPeer]
    /// The UDP source ports VXLAN's flow hash picks from (`sourcePorts: {min, max}`, a Pier
    /// extension; default 49152–65535, RFC 7348 §5).
    public var sourcePorts: ClosedRange<UInt16> = OverlayConfig.defaultSourcePorts
    /// The default source-port range: the dynamic ports, 49152–65535.
    public static let defaultSourcePorts = PipelineConfig.Overlay.defaultSourcePorts
    /// Where flannel's leases are (`etcd:`), if the peers come from etcd too.
    public var etcd: EtcdSettings?

    /// Makes an overlay; `port` defaults by backend.
    public init(
        backend: Backend,
        vni: UInt32 = OverlayConfig.defaultVNI,
        port: UInt16? = nil,
        mtu: Int = OverlayConfig.defaultMTU,
        podCIDR: IPv4Prefix,
        vtepMAC: MACAddress? = nil,
        peers: [OverlayPeer] = []
    ) {
        self.backend = backend
        self.vni = vni
        self.port = port ?? backend.defaultPort
        self.mtu = mtu
        self.podCIDR = podCIDR
        self.vtepMAC = vtepMAC
        self.peers = peers
    }
}

/// Another node of the overlay: where its pod subnet lives.
public struct OverlayPeer: Sendable, Equatable {
    /// The peer's node name.
    public var node: String
    /// The peer's node IP: the outer destination (VXLAN, ipip, udp) or next hop (host-gw).
    public var ip: IPv4Address
    /// The peer's pod subnet.
    public var podCIDR: IPv4Prefix
    /// The peer's VTEP MAC (vxlan), if known.
    public var vtepMAC: MACAddress?
    /// The etcd lease the peer was learned from; nil for a peer written in a file or applied.
    public var lease: PeerLease?

    /// Makes a peer.
    public init(node: String, ip: IPv4Address, podCIDR: IPv4Prefix, vtepMAC: MACAddress? = nil, lease: PeerLease? = nil) {
        self.node = node
        self.ip = ip
        self.podCIDR = podCIDR
        self.vtepMAC = vtepMAC
        self.lease = lease
    }
}
