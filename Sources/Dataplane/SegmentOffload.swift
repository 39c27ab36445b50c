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

    /// No work left to the kernel.
    @inlinable public static var none: SegmentOffload { SegmentOffload() }

    /// Makes an empty offload record.
    @inlinable public init() {}

    /// True when the transport checksum is partial (`VIRTIO_NET_HDR_F_NEEDS_CSUM`).
    public var needsChecksum: Bool { flags & 1 != 0 }

    /// True when there is nothing for the kernel to do.
    public var isNone: Bool { flags == 0 && segmentationType == 0 }
}
