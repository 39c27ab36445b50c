/// What the kernel left undone on a frame read from a TAP device with offloads
/// (`IFF_VNET_HDR`): the `struct virtio_net_hdr` of the virtio 1.x specification, §5.1.6
/// ("Device Operation"): a checksum to finish from `checksumStart` (stored at
/// `checksumStart + checksumOffset`), and segmentation of a large TCP frame into pieces of
/// `segmentSize` bytes of payload. Pier carries it beside the frame and hands it back to the
/// device the frame leaves by, so a 64 KB segment crosses the switch as one frame and the
/// kernel at the other end does the work (or, delivering locally, need not do it at all).
///
/// Zero (`none`) for every frame that did not come from such a device. A stage that changes
/// a frame's length at the front (encapsulation, decapsulation) must account for it: the live
/// switch moves `checksumStart` by the change and refuses to pass on a segmentation request
/// for a frame whose length changed. A stage that rewrites addresses in a frame whose
/// checksum is partial (`needsChecksum`) must treat the TCP/UDP checksum field as what it then
/// holds, the pseudo-header's sum not yet complemented: add the new address and subtract the
/// old without complementing, and leave it alone for a port change (the kernel sums the ports
/// itself), as Linux's `inet_proto_csum_replace4` does for `CHECKSUM_PARTIAL`.
public struct SegmentOffload: Equatable, Sendable {
    /// `VIRTIO_NET_HDR_F_NEEDS_CSUM` (1): the checksum is partial; `DATA_VALID` (2).
    public var flags: UInt8 = 0
    /// `VIRTIO_NET_HDR_GSO_NONE` (0), `TCPV4` (1), `UDP` (3), `TCPV6` (4), with `ECN` (0x80).
    public var segmentationType: UInt8 = 0
    /// The length of the headers in front of the payload (Ethernet through TCP).
    public var headerLength: UInt16 = 0
    /// The payload bytes per segment (the MSS).
    public var segmentSize: UInt16 = 0
    /// Where checksumming starts, from the start of the frame.
    public var checksumStart: UInt16 = 0
    /// Where the checksum goes, from `checksumStart`.
    public var checksumOffset: UInt16 = 0
    /// The frame's byte count when the header was read.
    public var frameLength: Int32 = 0
    /// For a tunnel packet: where its outer UDP header starts (`outer_th_offset` of
    /// `struct virtio_net_hdr_v1_hash_tunnel`, Linux 6.17); 0 otherwise.
    public var outerTransportOffset: UInt16 = 0
    /// For an encapsulated packet: where its inner IP header starts (`inner_nh_offset`); 0
    /// otherwise.
    public var innerNetworkOffset: UInt16 = 0

    /// `VIRTIO_NET_HDR_GSO_TCPV4`, `UDP_L4`, `TCPV6`, and the tunnel bits Linux 6.17 added
    /// (`UDP_TUNNEL_IPV4`, `UDP_TUNNEL_IPV6`), with `ECN`.
    public enum Kind {
        /// TCP over IPv4.
        public static let tcp4: UInt8 = 1
        /// TCP over IPv6.
        public static let tcp6: UInt8 = 4
        /// UDP segmentation offload (`GSO_UDP_L4`).
        public static let udpL4: UInt8 = 5
        /// The inner segments travel in a UDP tunnel over IPv4.
        public static let udpTunnel4: UInt8 = 0x20
        /// The inner segments travel in a UDP tunnel over IPv6.
        public static let udpTunnel6: UInt8 = 0x40
        /// The two tunnel bits.
        public static let tunnelBits: UInt8 = 0x60
        /// Congestion experienced was seen (`ECN`).
        public static let ecn: UInt8 = 0x80
    }

    /// `VIRTIO_NET_HDR_F_UDP_TUNNEL_CSUM` (8): the outer UDP checksum is to be computed too.
    public static let tunnelChecksumFlag: UInt8 = 8

    /// No work left to the kernel.
    @inlinable public static var none: SegmentOffload { SegmentOffload() }

    /// Makes an empty offload record.
    @inlinable public init() {}

    /// True when the transport checksum is partial (`VIRTIO_NET_HDR_F_NEEDS_CSUM`).
    public var needsChecksum: Bool { flags & 1 != 0 }

    /// True when there is nothing for the kernel to do.
    public var isNone: Bool { flags == 0 && segmentationType == 0 }

    /// True for a super-frame: more than one segment's payload, to be cut at `segmentSize`.
    @inlinable public var isSegmented: Bool { segmentationType != 0 }

    /// The inner segmentation type without the tunnel and ECN bits (TCPV4, TCPV6, UDP_L4).
    @inlinable public var innerKind: UInt8 { segmentationType & ~(Kind.tunnelBits | Kind.ecn) }

    /// The record after `byteCount` bytes of outer headers were put in front of the frame,
    /// which is now `frameLength` bytes long. With `udpTunnel` (VXLAN: Ethernet, IPv4, UDP,
    /// VXLAN) a super-frame becomes a UDP-tunnel one whose outer UDP header is at
    /// `outerTransport` and inner IP header at `innerNetwork`; otherwise only the offsets move
    /// and `innerNetworkOffset` says where the inner packet begins, for software segmentation.
    public func encapsulated(adding byteCount: Int, innerNetwork: Int, outerTransport: Int?, frameLength: Int) -> SegmentOffload {
        var moved = self
        moved.checksumStart &+= UInt16(truncatingIfNeeded: byteCount)
        moved.headerLength &+= UInt16(truncatingIfNeeded: byteCount)
        moved.frameLength = Int32(truncatingIfNeeded: frameLength)
        moved.innerNetworkOffset = UInt16(truncatingIfNeeded: innerNetwork)
        if let outerTransport, isSegmented {
            moved.segmentationType |= Kind.udpTunnel4
            moved.outerTransportOffset = UInt16(truncatingIfNeeded: outerTransport)
        }
        return moved
    }

    /// The record of the inner packet after decapsulation removed the first `byteCount`
    /// bytes of a UDP-tunnel super-frame, leaving `frameLength` bytes: the plain TCP (or UDP
    /// L4) super-frame it carried, its checksum still partial.
    public func decapsulated(removing byteCount: Int, frameLength: Int) -> SegmentOffload {
        var inner = self
        inner.segmentationType &= ~Kind.tunnelBits
        inner.flags &= ~Self.tunnelChecksumFlag
        inner.checksumStart &-= UInt16(truncatingIfNeeded: byteCount)
        inner.headerLength = headerLength > byteCount ? headerLength &- UInt16(truncatingIfNeeded: byteCount) : 0
        inner.outerTransportOffset = 0
        inner.innerNetworkOffset = 0
        inner.frameLength = Int32(truncatingIfNeeded: frameLength)
        return inner
    }
}
