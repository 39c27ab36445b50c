import Dataplane

/// The 10-byte `struct virtio_net_hdr` (virtio 1.x, §5.1.6) in front of every frame on a TAP
/// device opened with `IFF_VNET_HDR`, in the machine's byte order (the legacy layout TAP uses
/// unless told otherwise):
///
/// ```
///  0      1          2             4          6              8               10
/// +------+----------+-------------+----------+--------------+---------------+
/// | flags| gso_type | hdr_len     | gso_size | csum_start   | csum_offset   |
/// +------+----------+-------------+----------+--------------+---------------+
/// ```
///
/// On an uplink with UDP-tunnel GSO (Linux 6.17, `TUN_F_UDP_TUNNEL_GSO`) the header is the
/// 24-byte `struct virtio_net_hdr_v1_hash_tunnel` (`TUNSETVNETHDRSZ` 24): the fields above,
/// `num_buffers` (10), the hash fields (12–19, unused: zero), then `outer_th_offset` (20) and
/// `inner_nh_offset` (22), little-endian (virtio 1.x, §5.1.6 "Device Operation").
enum VirtioNetHeader {
    /// The header's size.
    static let size = 10
    /// The size of the header with the tunnel offsets.
    static let tunnelSize = 24

    enum Field {
        static let flags = 0
        static let segmentationType = 1
        static let headerLength = 2
        static let segmentSize = 4
        static let checksumStart = 6
        static let checksumOffset = 8
        static let outerTransportOffset = 20
        static let innerNetworkOffset = 22
    }

    /// Reads a header from the first `size` bytes at `base`.
    /// With `size` 24, the tunnel offsets too.
    static func read(_ base: UnsafeRawPointer, frameLength: Int, size: Int = size) -> SegmentOffload {
        var offload = SegmentOffload()
        offload.flags = base.load(fromByteOffset: Field.flags, as: UInt8.self)
        offload.segmentationType = base.load(fromByteOffset: Field.segmentationType, as: UInt8.self)
        offload.headerLength = base.loadUnaligned(fromByteOffset: Field.headerLength, as: UInt16.self)
        offload.segmentSize = base.loadUnaligned(fromByteOffset: Field.segmentSize, as: UInt16.self)
        offload.checksumStart = base.loadUnaligned(fromByteOffset: Field.checksumStart, as: UInt16.self)
        offload.checksumOffset = base.loadUnaligned(fromByteOffset: Field.checksumOffset, as: UInt16.self)
        offload.frameLength = Int32(frameLength)
        if size >= tunnelSize {
            offload.outerTransportOffset = UInt16(littleEndian: base.loadUnaligned(fromByteOffset: Field.outerTransportOffset, as: UInt16.self))
            offload.innerNetworkOffset = UInt16(littleEndian: base.loadUnaligned(fromByteOffset: Field.innerNetworkOffset, as: UInt16.self))
        }
        return offload
    }

    /// Writes the header for a frame of `frameLength` bytes carrying `offload` to `base`;
    /// false when it cannot be passed on (a segmentation request for a frame whose length a
    /// stage changed: its header lengths no longer hold). A partial checksum that started in
    /// bytes a stage removed (a tunnel's outer UDP checksum, left to the device by a kernel
    /// sending VXLAN with `udpcsum`, then decapsulated) went with them: the frame that is left
    /// has its checksums complete (a packet has one partial checksum) and gets a zero header.
    /// With `size` 24 a UDP-tunnel super-frame's offsets are written too (and only then may
    /// one be written: a 10-byte header cannot carry it).
    static func write(_ offload: SegmentOffload, frameLength: Int, to base: UnsafeMutableRawPointer, size: Int = size) -> Bool {
        base.initializeMemory(as: UInt8.self, repeating: 0, count: size)
        guard !offload.isNone else { return true }
        let moved = frameLength - Int(offload.frameLength)
        if moved != 0 && offload.segmentationType != 0 { return false }
        let start = Int(offload.checksumStart) + moved
        if start < 0 { return true }
        guard start <= Int(UInt16.max) else { return false }
        base.storeBytes(of: offload.flags, toByteOffset: Field.flags, as: UInt8.self)
        base.storeBytes(of: offload.segmentationType, toByteOffset: Field.segmentationType, as: UInt8.self)
        base.storeBytes(of: offload.headerLength, toByteOffset: Field.headerLength, as: UInt16.self)
        base.storeBytes(of: offload.segmentSize, toByteOffset: Field.segmentSize, as: UInt16.self)
        base.storeBytes(of: UInt16(start), toByteOffset: Field.checksumStart, as: UInt16.self)
        base.storeBytes(of: offload.checksumOffset, toByteOffset: Field.checksumOffset, as: UInt16.self)
        if offload.segmentationType & SegmentOffload.Kind.tunnelBits != 0 {
            guard size >= tunnelSize else { return false }
            base.storeBytes(of: offload.outerTransportOffset.littleEndian, toByteOffset: Field.outerTransportOffset, as: UInt16.self)
            base.storeBytes(of: offload.innerNetworkOffset.littleEndian, toByteOffset: Field.innerNetworkOffset, as: UInt16.self)
        }
        return true
    }
}
