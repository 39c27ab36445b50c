import Wire

/// Classify: decodes each frame's outer headers once (Ethernet, VLAN tags, ARP/IPv4/IPv6, the
/// transport header), caches the offsets on the frame, and drops what cannot be forwarded:
/// malformed headers (ARP that is not Ethernet/IPv4 included), a group or zero source MAC, frames to the IEEE 802.1D reserved group
/// addresses (01:80:c2:00:00:0x, as the Linux bridge does), frames from unknown ports.
///
/// It does not look inside tunnels (the overlay decap stage does) or verify checksums (the local
/// and route stages check the IPv4 header of what they handle).
final class ClassifyStage: BatchStage {
    private let context: PipelineContext
    /// Decodes down to the transport header, not into VXLAN or GENEVE.
    private var decoder: FrameDecoder
    private var decoded = DecodedFrame()
    /// Set when a frame of the batch took the general decoder with an IP header: only those
    /// can be fragments (the fast path takes unfragmented IPv4 only), so the defrag stage
    /// looks at a batch only when this is set, and clears it.
    var sawPossibleFragment = false

    init(context: PipelineContext) {
        self.context = context
        decoder = FrameDecoder(vxlanPorts: [])
        decoder.genevePort = 0
    }

    /// Classifies every frame of the batch.
    func run(_ batch: inout Batch) {
        for index in 0..<batch.count {
            classify(&batch[index])
        }
    }

    /// Classifies one frame (also a decapsulated inner frame, which the overlay stage hands back).
    func classify(_ frame: inout Frame) {
        guard Int(frame.inputPort.rawValue) < context.config.ports.count else {
            frame.verdict = .drop(.unknownPort)
            return
        }
        // Plain IPv4 (most frames) takes the fast path to the same offsets.
        if classifyPlainIPv4(&frame) { return }
        classifyWithDecoder(&frame)
    }

    /// Classifies any frame with the general decoder (what `classifyPlainIPv4` must agree with).
    func classifyWithDecoder(_ frame: inout Frame) {
        decoder.decode(frame.bytes, linkType: .ethernet, capturedAll: frame.count >= frame.originalLength, into: &decoded)
        if let error = decoded.error, error.depth == 0, !isCutFirstFragment(frame, error: error) {
            let reason = Self.reason(for: error.layer)
            frame.verdict = .drop(reason)
            context.trace(frame, "classify: \(error) -> drop \(reason.name)")
            return
        }
        var layers = LayerOffsets()
        for index in 0..<decoded.layerCount {
            let layer = decoded.layers[index]
            guard layer.depth == 0 else { break }
            switch layer.kind {
            case .arp: (layers.network, layers.networkType) = (Int32(layer.offset), .arp)
            case .ipv4: (layers.network, layers.networkType) = (Int32(layer.offset), .ipv4)
            case .ipv6: (layers.network, layers.networkType) = (Int32(layer.offset), .ipv6)
            case .tcp: (layers.transport, layers.transportProtocol) = (Int32(layer.offset), .tcp)
            case .udp: (layers.transport, layers.transportProtocol) = (Int32(layer.offset), .udp)
            case .icmpv4: (layers.transport, layers.transportProtocol) = (Int32(layer.offset), .icmp)
            case .icmpv6: (layers.transport, layers.transportProtocol) = (Int32(layer.offset), .icmpv6)
            default: break
            }
        }
        frame.layers = layers
        if layers.networkType == .ipv4 || layers.networkType == .ipv6 { sawPossibleFragment = true }
        if layers.networkType == .arp && !Self.isEthernetIPv4ARP(frame) {
            frame.verdict = .drop(.malformedARP)
            context.trace(frame, "classify: ARP that is not Ethernet/IPv4 -> drop malformed-arp")
            return
        }
        let source = frame.bytes.mac(at: EthernetHeader.Field.source)
        let destination = frame.bytes.mac(at: EthernetHeader.Field.destination)
        if source.isGroup || source == .zero {
            frame.verdict = .drop(.invalidSourceMAC)
            context.trace(frame, "classify: source \(source) is not a station -> drop invalid-source-mac")
            return
        }
        if destination.isReservedGroup {
            frame.verdict = .drop(.reservedGroupAddress)
            context.trace(frame, "classify: 802.1D reserved group address -> drop reserved-group-address")
        }
    }

    /// True when the error is a transport header cut short by the end of a first fragment:
    /// the defrag stage reassembles it first (RFC 1858's tiny fragments), or refuses an IPv6
    /// one itself (RFC 7112), as Linux does before it reads the transport header.
    private func isCutFirstFragment(_ frame: borrowing Frame, error: DecodeError) -> Bool {
        guard Self.reason(for: error.layer) == .malformedTransport, let network = decoded.last(.ipv4) ?? decoded.last(.ipv6),
              network.depth == 0 else { return false }
        if network.kind == .ipv4 {
            return frame.bytes.u16(at: network.offset + IPv4Header.Field.flagsAndFragmentOffset) & 0x2000 != 0
        }
        if case .fragment = DefragStage.read6(frame.bytes, network: network.offset) { return true }
        if case .refused = DefragStage.read6(frame.bytes, network: network.offset) { return true }
        return false
    }

    /// True when the frame's ARP packet has Ethernet and IPv4 types and sizes (the only ARP
    /// a container network carries; anything else would teach tables nonsense).
    static func isEthernetIPv4ARP(_ frame: borrowing Frame) -> Bool {
        guard let packet = try? ARPPacket(validating: frame.bytes.slice(from: Int(frame.layers.network))) else { return false }
        return packet.isEthernetIPv4
    }

    /// The drop reason for a decode error in `layer`.
    static func reason(for layer: LayerKind) -> DropReason {
        switch layer {
        case .ethernet, .linuxCooked: .malformedEthernet
        case .vlan: .malformedVLAN
        case .arp: .malformedARP
        case .ipv4: .malformedIPv4
        case .ipv6, .ipv6Extension: .malformedIPv6
        case .tcp, .udp, .icmpv4, .icmpv6, .vxlan, .geneve: .malformedTransport
        }
    }
}

// MARK: What this part counts (names and descriptions: DropReason, PipelineCounters.Event)

extension ClassifyStage: CountingPart {
    package static let dropReasons: [DropReason] = [.malformedEthernet, .malformedVLAN, .malformedARP, .malformedIPv4, .malformedIPv6, .malformedTransport, .invalidSourceMAC, .reservedGroupAddress, .unknownPort]
    package static let events: [PipelineCounters.Event] = []
}
