import Wire

/// The outer headers of every peer's tunnel, built once when the pipeline is made (STYLE.md,
/// principle 11; VPP's vxlan `encap.c` does the same): per frame the encap stage copies the
/// peer's template in front of the inner packet and patches only the lengths, the IPv4
/// identification and checksum, and (VXLAN) the UDP source port.
///
/// Layouts (outer Ethernet always first, IPv4 without options, DF clear, TTL 64):
/// - VXLAN (RFC 7348 §5): Ethernet 14 + IPv4 20 + UDP 8 (checksum zero) + VXLAN 8 = 50 bytes,
///   followed by the whole inner Ethernet frame.
/// - IP-in-IP (RFC 2003 §3): Ethernet 14 + IPv4 20 (protocol 4) = 34 bytes, followed by the
///   inner IPv4 packet (its Ethernet header is dropped).
/// - flannel UDP: Ethernet 14 + IPv4 20 + UDP 8 (source and destination port `port`, checksum
///   zero) = 42 bytes, followed by the inner IPv4 packet.
///
/// The outer destination MAC (the uplink's next hop toward the peer) is written when it
/// becomes known; until then `isResolved` is false for that peer.
final class TunnelTemplates {
    /// Byte offsets inside a template.
    enum Field {
        static let ethernet = 0
        static let ipv4 = EthernetHeader.length
        static let udp = ipv4 + IPv4Header.minimumLength
        static let vxlan = udp + UDPHeader.length
    }

    /// Bytes between two peers' templates.
    static let stride = 64

    /// The template's length: the bytes put in front of the inner packet.
    let length: Int
    /// True when the inner packet keeps its Ethernet header (VXLAN).
    let keepsInnerEthernet: Bool
    /// Each peer's IPv4 checksum with the total length of an empty packet and identification 0.
    private(set) var checksums: [UInt16]
    /// True when the peer's outer destination MAC is filled in.
    private(set) var isResolved: [Bool]
    /// The templates, `stride` bytes apart.
    let storage: UnsafeMutableRawPointer

    /// Builds one template per peer of `overlay`, with `uplinkMAC` as the outer source.
    init(_ overlay: PipelineConfig.Overlay, uplinkMAC: MACAddress) {
        switch overlay.encapsulation {
        case .vxlan: (length, keepsInnerEthernet) = (Field.vxlan + VXLANHeader.length, true)
        case .ipip: (length, keepsInnerEthernet) = (Field.udp, false)
        case .udp: (length, keepsInnerEthernet) = (Field.vxlan, false)
        }
        let count = max(overlay.peers.count, 1)
        storage = .allocate(byteCount: count * Self.stride, alignment: 64)
        storage.initializeMemory(as: UInt8.self, repeating: 0, count: count * Self.stride)
        checksums = Array(repeating: 0, count: overlay.peers.count)
        isResolved = Array(repeating: false, count: overlay.peers.count)
        for (index, peer) in overlay.peers.enumerated() {
            var bytes = [UInt8](repeating: 0, count: length)
            bytes.withMutableRawSpan { span in
                EthernetRepr(destination: .zero, source: uplinkMAC, etherType: .ipv4).emit(into: &span)
                var ip = span.mutableSlice(from: Field.ipv4)
                let proto: IPProtocol = overlay.encapsulation == .ipip ? .ipip : .udp
                IPv4Repr(source: overlay.nodeIP, destination: peer.ip, protocol: proto, payloadLength: 0,
                         ttl: 64, identification: 0, dontFragment: false).emit(into: &ip)
                checksums[index] = span.bytes.u16(at: Field.ipv4 + IPv4Header.Field.checksum)
                guard overlay.encapsulation != .ipip else { return }
                var udp = span.mutableSlice(from: Field.udp)
                let sourcePort = overlay.encapsulation == .udp ? overlay.port : 0
                UDPRepr(sourcePort: sourcePort, destinationPort: overlay.port).emit(into: &udp, pseudoHeaderSum: nil)
                udp.setU16(0, at: UDPHeader.Field.length)
                guard overlay.encapsulation == .vxlan else { return }
                var vxlan = span.mutableSlice(from: Field.vxlan)
                VXLANRepr(vni: overlay.vni).emit(into: &vxlan)
            }
            bytes.withUnsafeBytes { source in
                (storage + index * Self.stride).copyMemory(from: source.baseAddress!, byteCount: length)
            }
        }
    }

    deinit { storage.deallocate() }

    /// Writes the outer destination MAC of `peer`'s template.
    func setNextHopMAC(_ mac: MACAddress, peer: Int) {
        let base = storage + peer * Self.stride
        base.storeBytes(of: UInt16(truncatingIfNeeded: mac.rawValue >> 32).bigEndian, as: UInt16.self)
        (base + 2).storeBytes(of: UInt32(truncatingIfNeeded: mac.rawValue).bigEndian, toByteOffset: 0, as: UInt32.self)
        isResolved[peer] = true
    }

    /// The template of `peer`, `length` bytes.
    @inline(__always)
    func template(of peer: Int) -> UnsafeRawPointer { UnsafeRawPointer(storage + peer * Self.stride) }
}
