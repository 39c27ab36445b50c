import Wire

extension PipelineConfig {
    /// A tunnel between nodes as the dataplane runs it (VXLAN, IP-in-IP or flannel's UDP
    /// backend; host-gw needs no tunnel, only routes).
    ///
    /// The tunnel is routed the way flannel programs Linux: a tunnel interface
    /// (`tunnelInterface`, flannel.1 or tunl0) owns `tunnelMAC` and the address
    /// `podCIDR.network/32`; each peer's pod subnet is a route via `peer.podCIDR.network` on it,
    /// and a static neighbour maps that address to `peer.tunnelMAC`. The route stage therefore
    /// leaves a frame for a peer with the local tunnel MAC as source and the peer's as
    /// destination, out of the uplink; the encap stage recognises it by those MACs.
    public struct Overlay: Sendable {
        /// The encapsulation.
        public enum Encapsulation: String, Sendable {
            /// Ethernet in UDP (RFC 7348).
            case vxlan
            /// IPv4 in IPv4 (RFC 2003), protocol 4.
            case ipip
            /// The inner IP packet in UDP (flannel's `udp` backend).
            case udp
        }

        /// Another node: where its tunnel ends.
        public struct Peer: Sendable {
            /// The peer's node IP: the outer destination.
            public var ip: IPv4Address
            /// The peer's pod subnet.
            public var podCIDR: IPv4Prefix
            /// The peer's VTEP MAC (VXLAN), or the MAC that names the peer inside Pier (ipip, udp).
            public var tunnelMAC: MACAddress
            /// The uplink's next hop toward the peer: its gateway, or the peer itself when it is
            /// on the uplink's subnet.
            public var nextHop: IPv4Address
            /// Makes a peer.
            public init(ip: IPv4Address, podCIDR: IPv4Prefix, tunnelMAC: MACAddress, nextHop: IPv4Address) {
                self.ip = ip
                self.podCIDR = podCIDR
                self.tunnelMAC = tunnelMAC
                self.nextHop = nextHop
            }
        }

        /// The encapsulation.
        public var encapsulation: Encapsulation
        /// The VXLAN network identifier.
        public var vni: UInt32
        /// The UDP port (VXLAN, udp); unused for ipip.
        public var port: UInt16
        /// The largest inner IPv4 packet, in bytes.
        public var mtu: Int
        /// The node IP: the outer source, and the only outer destination accepted.
        public var nodeIP: IPv4Address
        /// The uplink interface (a routed port) the tunnel runs over.
        public var uplink: InterfaceIndex
        /// The tunnel interface (flannel.1, tunl0, flannel0).
        public var tunnelInterface: InterfaceIndex
        /// The local VTEP MAC: the tunnel interface's MAC.
        public var tunnelMAC: MACAddress
        /// The bridge that decapsulated frames not addressed to `tunnelMAC` are switched into
        /// (cni0), if any.
        public var podBridge: BridgeIndex?
        /// The peers.
        public var peers: [Peer]
        /// The UDP source ports the flow hash picks from (RFC 7348 §5: 49152–65535).
        public var sourcePorts: ClosedRange<UInt16>

        /// flannel's VNI, 1.
        public static let defaultVNI: UInt32 = 1
        /// flannel's MTU, 1450: a 1500-byte link less VXLAN's 50 bytes.
        public static let defaultMTU = 1450
        /// The UDP source ports VXLAN's flow hash picks from by default: the dynamic ports
        /// (RFC 7348 §5).
        public static let defaultSourcePorts: ClosedRange<UInt16> = 49152...65535

        /// Makes an overlay.
        public init(encapsulation: Encapsulation, vni: UInt32 = defaultVNI, port: UInt16 = 8472, mtu: Int = defaultMTU,
                    nodeIP: IPv4Address, uplink: InterfaceIndex, tunnelInterface: InterfaceIndex,
                    tunnelMAC: MACAddress, podBridge: BridgeIndex? = nil, peers: [Peer],
                    sourcePorts: ClosedRange<UInt16> = defaultSourcePorts) {
            self.encapsulation = encapsulation
            self.vni = vni
            self.port = port
            self.mtu = mtu
            self.nodeIP = nodeIP
            self.uplink = uplink
            self.tunnelInterface = tunnelInterface
            self.tunnelMAC = tunnelMAC
            self.podBridge = podBridge
            self.peers = peers
            self.sourcePorts = sourcePorts
        }
    }
}
