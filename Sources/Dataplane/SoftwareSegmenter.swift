import Wire

/// Cuts a super-frame (a TCP segment of up to 64 KB, or a UDP GSO_UDP_L4 packet, read from a
/// TAP device with offloads) into frames of at most `segmentSize` payload bytes each, for a
/// port that cannot take it whole: a device without segmentation offload, a UDP-tunnel
/// super-frame for an uplink without `TUN_F_UDP_TUNNEL_GSO`, any IP-in-IP or flannel-UDP
/// super-frame (no virtio-net type exists for them). It does what Linux's software GSO does
/// (`tcp_gso_segment`, `__udp_gso_segment`, `skb_udp_tunnel_segment`, `inet_gso_segment`):
///
/// - every segment gets a copy of all headers (outer Ethernet/IPv4/UDP/VXLAN when the frame is
///   encapsulated, then the inner ones) followed by its slice of the payload;
/// - IPv4 total lengths (outer and inner), IPv6 payload lengths and UDP lengths are set to the
///   segment's; IPv4 identifications count up from the super-frame's by one a segment; IPv4
///   header checksums are computed afresh;
/// - TCP: the sequence number advances by the payload before it; FIN and PSH stay only on the
///   last segment, CWR only on the first (RFC 3168 §6.1.2); UDP L4: each segment is a datagram;
/// - the inner TCP/UDP checksum is computed in full (RFC 793/768 with the pseudo-header); an
///   outer UDP checksum of zero stays zero (RFC 7348 §5), a non-zero one is computed in full.
///
/// Nothing is allocated: the caller lends a scratch buffer large enough for the headers plus
/// one segment, and each segment is handed to `emit` while it lies there.
public enum SoftwareSegmenter {
    /// Why a super-frame could not be segmented.
    public enum Failure: Error, Equatable {
        /// Its headers do not hold together (offsets outside the frame, an unknown IP
        /// version, no segment size).
        case malformed
        /// A segment would not fit the scratch buffer.
        case scratchTooSmall
    }

    /// Segments `frame` as `offload` describes and calls `emit` with each segment in order;
    /// returns the number of segments, or why none was made (nothing emitted then).
    /// `emit` returns false to stop early (a write failed).
    public static func segment(
        _ frame: UnsafeRawBufferPointer, offload: SegmentOffload, scratch: UnsafeMutableRawBufferPointer,
        emit: (UnsafeRawBufferPointer) -> Bool
    ) -> Result<Int, Failure> {
        guard let source = frame.baseAddress, let target = scratch.baseAddress else { return .failure(.malformed) }
        guard let layout = Layout(source, count: frame.count, offload: offload) else { return .failure(.malformed) }
        let payload = frame.count - layout.headers
        let size = Int(offload.segmentSize)
        guard layout.headers + min(size, payload) <= scratch.count else { return .failure(.scratchTooSmall) }
        let segments = max(1, (payload + size - 1) / size)
        let innerID = layout.innerIPv4 ? RawFields.load16(source, layout.innerNetwork + IPv4Header.Field.identification) : 0
        let outerID = layout.outerNetwork.map { RawFields.load16(source, $0 + IPv4Header.Field.identification) } ?? 0
        let sequence = layout.isTCP ? RawFields.load32(source, layout.transport + TCPHeader.Field.sequence) : 0
        let tcpFlags = layout.isTCP ? source.load(fromByteOffset: layout.transport + 13, as: UInt8.self) : 0
        target.copyMemory(from: source, byteCount: layout.headers)
        for index in 0..<segments {
            let offset = index * size
            let length = min(size, payload - offset)
            (target + layout.headers).copyMemory(from: source + layout.headers + offset, byteCount: length)
            let total = layout.headers + length
            let step = UInt16(truncatingIfNeeded: index)
            if let outer = layout.outerNetwork {
                writeIPv4(target, at: outer, length: total - outer, id: outerID &+ step)
                if let udp = layout.outerUDP {
                    RawFields.store16(target, udp + UDPHeader.Field.length, UInt16(truncatingIfNeeded: total - udp))
                }
            }
            if layout.innerIPv4 {
                writeIPv4(target, at: layout.innerNetwork, length: total - layout.innerNetwork, id: innerID &+ step)
            } else {
                RawFields.store16(target, layout.innerNetwork + 4, UInt16(truncatingIfNeeded: total - layout.innerNetwork - 40))
            }
            if layout.isTCP {
                RawFields.store32(target, layout.transport + TCPHeader.Field.sequence, sequence &+ UInt32(truncatingIfNeeded: offset))
                var flags = tcpFlags
                if index != segments - 1 { flags &= ~(0x01 | 0x08) }  // FIN, PSH: the last only
                if index != 0 { flags &= ~0x80 }                        // CWR: the first only
                target.storeBytes(of: flags, toByteOffset: layout.transport + 13, as: UInt8.self)
            } else {
                RawFields.store16(target, layout.transport + UDPHeader.Field.length, UInt16(truncatingIfNeeded: total - layout.transport))
            }
            let checksumField = layout.transport + (layout.isTCP ? TCPHeader.Field.checksum : UDPHeader.Field.checksum)
            RawFields.store16(target, checksumField, 0)
            let sum = InternetChecksum.add(layout.pseudoHeader(target, length: total - layout.transport),
                                           RawFields.sum(target + layout.transport, count: total - layout.transport))
            let checksum = ~sum
            RawFields.store16(target, checksumField, !layout.isTCP && checksum == 0 ? 0xFFFF : checksum)
            if let udp = layout.outerUDP, layout.outerUDPChecksummed {
                fillOuterUDPChecksum(target, layout: layout, udp: udp, total: total)
            }
            guard emit(UnsafeRawBufferPointer(start: target, count: total)) else { return .success(index + 1) }
        }
        return .success(segments)
    }

    /// Where a super-frame's headers are.
    struct Layout {
        var outerNetwork: Int?
        var outerUDP: Int?
        var outerUDPChecksummed = false
        var innerNetwork: Int
        var innerIPv4: Bool
        var transport: Int
        var isTCP: Bool
        var headers: Int

        init?(_ base: UnsafeRawPointer, count: Int, offload: SegmentOffload) {
            transport = Int(offload.checksumStart)
            isTCP = offload.innerKind != SegmentOffload.Kind.udpL4
            if offload.innerNetworkOffset != 0 {
                // Encapsulated by Pier: outer Ethernet, outer IPv4 without options (TunnelTemplates).
                let outer = EthernetHeader.length
                outerNetwork = outer
                guard count >= outer + IPv4Header.minimumLength else { return nil }
                if base.load(fromByteOffset: outer + IPv4Header.Field.protocol, as: UInt8.self) == IPProtocol.udp.rawValue {
                    let udp = outer + IPv4Header.minimumLength
                    outerUDP = udp
                    outerUDPChecksummed = RawFields.load16(base, udp + UDPHeader.Field.checksum) != 0
                }
                innerNetwork = Int(offload.innerNetworkOffset)
            } else {
                var network = EthernetHeader.length
                var type = RawFields.load16(base, EthernetHeader.Field.etherType)
                while type == 0x8100 || type == 0x88A8, network + 4 <= count {
                    type = RawFields.load16(base, network + 2)
                    network += 4
                }
                innerNetwork = network
            }
            guard innerNetwork + IPv4Header.minimumLength <= transport, transport + UDPHeader.length <= count,
                  offload.segmentSize > 0 else { return nil }
            let version = base.load(fromByteOffset: innerNetwork, as: UInt8.self) >> 4
            guard version == 4 || version == 6 else { return nil }
            innerIPv4 = version == 4
            if isTCP {
                guard transport + TCPHeader.minimumLength <= count else { return nil }
                let length = Int(base.load(fromByteOffset: transport + TCPHeader.Field.dataOffsetAndFlags, as: UInt8.self) >> 4) * 4
                guard length >= TCPHeader.minimumLength else { return nil }
                headers = transport + length
            } else {
                headers = transport + UDPHeader.length
            }
            guard headers <= count else { return nil }
        }

        /// The pseudo-header sum of the inner packet for a transport length of `length`.
        func pseudoHeader(_ base: UnsafeRawPointer, length: Int) -> UInt16 {
            RawFields.pseudoHeaderSum(base, network: innerNetwork, isIPv6: !innerIPv4, proto: isTCP ? 6 : 17, length: length)
        }
    }

    /// Sets an IPv4 header's total length and identification and computes its checksum.
    private static func writeIPv4(_ base: UnsafeMutableRawPointer, at offset: Int, length: Int, id: UInt16) {
        RawFields.store16(base, offset + IPv4Header.Field.totalLength, UInt16(truncatingIfNeeded: length))
        RawFields.store16(base, offset + IPv4Header.Field.identification, id)
        RawFields.fillIPv4Checksum(base, at: offset)
    }

    /// The outer UDP checksum of a tunnel segment whose sender asked for one.
    private static func fillOuterUDPChecksum(_ base: UnsafeMutableRawPointer, layout: Layout, udp: Int, total: Int) {
        guard let outer = layout.outerNetwork else { return }
        RawFields.store16(base, udp + UDPHeader.Field.checksum, 0)
        let length = total - udp
        let pseudo = RawFields.pseudoHeaderSum(base, network: outer, isIPv6: false, proto: 17, length: length)
        let checksum = ~InternetChecksum.add(pseudo, RawFields.sum(base + udp, count: length))
        RawFields.store16(base, udp + UDPHeader.Field.checksum, checksum == 0 ? 0xFFFF : checksum)
    }

}
