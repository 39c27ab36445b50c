import Dataplane
@testable import PacketIO
import Testing

/// The 24-byte `struct virtio_net_hdr_v1_hash_tunnel` of a TAP device with UDP-tunnel GSO
/// (Linux 6.17+), with the values read from this machine's kernel (a kernel VXLAN sender
/// behind the TAP device, /work/shared/notes/tun-udp-tunnel-gso.md), and how the overlay's
/// stages move a super-frame's record in and out of the tunnel.
struct TunnelHeaderTests {
    /// What the kernel handed over: NEEDS_CSUM | UDP_TUNNEL_CSUM, TCPV4 | UDP_TUNNEL_IPV4,
    /// hdr_len 116, gso_size 1398, csum_start 84, csum_offset 16, outer_th_offset 34,
    /// inner_nh_offset 64 (every field little-endian).
    static let kernelHeader: [UInt8] = [
        0x09, 0x21, 0x74, 0x00, 0x76, 0x05, 0x54, 0x00, 0x10, 0x00,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0x22, 0x00, 0x40, 0x00,
    ]

    @Test func readsTheKernelsTunnelHeader() {
        let offload = Self.kernelHeader.withUnsafeBytes {
            VirtioNetHeader.read($0.baseAddress!, frameLength: 64_424, size: VirtioNetHeader.tunnelSize)
        }
        #expect(offload.segmentationType == 0x21 && offload.innerKind == SegmentOffload.Kind.tcp4)
        #expect(offload.headerLength == 116 && offload.segmentSize == 1_398)
        #expect(offload.checksumStart == 84 && offload.checksumOffset == 16)
        #expect(offload.outerTransportOffset == 34 && offload.innerNetworkOffset == 64)
    }

    /// Decapsulating the 50 VXLAN bytes leaves a plain TCPv4 super-frame whose checksum
    /// starts at 34, the outer checksum flag gone; written to a pod's 10-byte header.
    @Test func decapsulationLeavesAPlainTCPSuperFrame() {
        let tunnel = Self.kernelHeader.withUnsafeBytes {
            VirtioNetHeader.read($0.baseAddress!, frameLength: 64_424, size: VirtioNetHeader.tunnelSize)
        }
        let inner = tunnel.decapsulated(removing: 50, frameLength: 64_374)
        var out = [UInt8](repeating: 0xee, count: VirtioNetHeader.size)
        #expect(out.withUnsafeMutableBytes { VirtioNetHeader.write(inner, frameLength: 64_374, to: $0.baseAddress!) })
        #expect(out == [0x01, 0x01, 0x42, 0x00, 0x76, 0x05, 0x22, 0x00, 0x10, 0x00])
    }

    /// Encapsulating a pod's TCPv4 super-frame in VXLAN gives the header the kernel takes:
    /// gso_type 0x21, csum_start 84, outer_th_offset 34, inner_nh_offset 64; a 10-byte
    /// header cannot carry it (the write is refused, the frame goes to the segmenter).
    @Test func encapsulationMakesAUDPTunnelSuperFrame() {
        var pod = SegmentOffload()
        pod.flags = 1
        pod.segmentationType = SegmentOffload.Kind.tcp4
        pod.headerLength = 66
        pod.segmentSize = 1_398
        pod.checksumStart = 34
        pod.checksumOffset = 16
        pod.frameLength = 64_000
        let tunnel = pod.encapsulated(adding: 50, innerNetwork: 64, outerTransport: 34, frameLength: 64_050)
        var out = [UInt8](repeating: 0xee, count: VirtioNetHeader.tunnelSize)
        #expect(out.withUnsafeMutableBytes {
            VirtioNetHeader.write(tunnel, frameLength: 64_050, to: $0.baseAddress!, size: VirtioNetHeader.tunnelSize)
        })
        #expect(out == [0x01, 0x21, 0x74, 0x00, 0x76, 0x05, 0x54, 0x00, 0x10, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x22, 0x00, 0x40, 0x00])
        var short = [UInt8](repeating: 0, count: VirtioNetHeader.size)
        #expect(!short.withUnsafeMutableBytes { VirtioNetHeader.write(tunnel, frameLength: 64_050, to: $0.baseAddress!) })
        // IP-in-IP: no tunnel type, only the offsets move (Pier segments it).
        let ipip = pod.encapsulated(adding: 20, innerNetwork: 34, outerTransport: nil, frameLength: 64_020)
        #expect(ipip.segmentationType == SegmentOffload.Kind.tcp4 && ipip.checksumStart == 54 && ipip.innerNetworkOffset == 34)
    }
}
