import Wire

/// Overlay decap: turns tunnel packets from peers into their inner frames, over the whole
/// batch right after classification. A frame is the tunnel's when it entered on the uplink,
/// is unicast to the uplink's MAC, is IPv4 to the node IP, and is UDP to the configured port
/// (VXLAN, flannel UDP) or protocol 4 (IP-in-IP); everything else passes untouched. Such a
/// frame must then be whole and unfragmented, carry a valid outer IPv4 checksum, come from a
/// configured peer's node IP (`unknown-vtep`), and for VXLAN have the I flag (`not-vxlan`) and
/// the configured VNI (`wrong-vni`), reserved bits ignored (RFC 7348 §5). The inner frame is
/// classified afresh; a tunnel packet inside it is refused (`nested-tunnel`).
///
/// Where the inner frame goes (the choice that satisfies both flannel and a plain VXLAN
/// segment): an inner frame addressed to the local VTEP MAC (flannel's model: the peer's
/// route and neighbour entries point at this node's flannel.1) is for the tunnel interface and
/// is routed like a frame that entered on it (local answers, then the route stage: into cni0
/// for a local pod). Any other inner frame (another MAC, broadcast, multicast) is switched into
/// the pod bridge unchanged, as if it had entered on a VXLAN port of that bridge: to the port
/// its destination was learned on, else flooded. The bridge does not learn inner source MACs
/// (they live behind the tunnel, not behind a bridge port). IP-in-IP and UDP carry no inner
/// Ethernet header: the stage writes one, local VTEP MAC as destination, so they are routed.
///
/// It does not reassemble outer fragments, verify a non-zero outer UDP checksum, or learn
/// remote VTEPs (peers are configured, as flannel configures them).
package final class OverlayDecapStage: BatchStage {
    private let context: PipelineContext
    private let classify: ClassifyStage
    private let peersByIP: PeerIndex
    private let uplinkPort: PortID
    private let uplinkMAC: MACAddress
    // The overlay's fields as scalars: reading them through the struct retains its arrays per frame.
    private let encapsulation: PipelineConfig.Overlay.Encapsulation
    private let udpPort: UInt16
    private let vni: UInt32
    private let nodeIP: UInt32
    private let tunnelMAC: MACAddress
    private let tunnelInterface: InterfaceIndex
    private let podBridge: BridgeIndex?
    private let peerMACs: [MACAddress]
    /// Frames decapsulated since `run` last added them to the counters (one counter update
    /// per batch: the per-frame update retained the counters object each time).
    private var decapsulated = 0

    /// Makes the stage for `context.config.overlay`; nil when there is none, or its uplink is
    /// not a routed port.
    init?(context: PipelineContext, classify: ClassifyStage) {
        guard let overlay = context.config.overlay,
              case .port(let port) = context.config.interfaces[overlay.uplink].attachment else { return nil }
        self.context = context
        self.classify = classify
        uplinkPort = port
        uplinkMAC = context.config.interfaces[overlay.uplink].mac
        peersByIP = PeerIndex(overlay.peers.map { UInt64($0.ip.rawValue) })
        encapsulation = overlay.encapsulation
        udpPort = overlay.port
        vni = overlay.vni
        nodeIP = overlay.nodeIP.rawValue
        tunnelMAC = overlay.tunnelMAC
        tunnelInterface = overlay.tunnelInterface
        podBridge = overlay.podBridge
        peerMACs = overlay.peers.map(\.tunnelMAC)
    }

    /// Makes the stage with its own classifier (for benchmarks and tests).
    package convenience init?(context: PipelineContext) {
        self.init(context: context, classify: ClassifyStage(context: context))
    }

    /// Decapsulates every tunnel packet of the batch.
    package func run(_ batch: inout Batch) {
        for index in 0..<batch.count where batch[index].verdict == .pending && batch[index].inputPort == uplinkPort {
            decapsulate(&batch[index])
        }
        context.counters.count(.decapsulated, decapsulated)
        decapsulated = 0
    }

    /// Where a tunnel packet's inner packet lies, or why there is none.
    private enum Outcome {
        case inner(start: Int, count: Int, peer: Int)
        case refused(DropReason)
        case notTunnel
    }

    /// Decapsulates one classified frame that entered on the uplink, if it is the tunnel's
    /// (counted as `decapsulated` when `run` ends).
    package func decapsulate(_ frame: inout Frame) {
        let outcome = locate(frame.bytes, layers: frame.layers)
        switch outcome {
        case .notTunnel:
            return
        case .refused(let reason):
            frame.verdict = .drop(reason)
            context.trace(frame, "decap: -> drop \(reason.name)")
        case .inner(let start, let count, let peer):
            strip(&frame, start: start, count: count, peer: peer)
            classify.classify(&frame)  // the plain-IPv4 fast path first, as for every frame
            if case .drop = frame.verdict { return }
            deliver(&frame)
        }
    }

    /// Checks the outer headers and finds the inner packet.
    ///
    /// Views and offsets, not the frame: borrowing the noncopyable frame copied its fields to
    /// the stack on every call, which the profile of `pier bench vxlan-decap` showed stalling.
    private func locate(_ bytes: RawSpan, layers: LayerOffsets) -> Outcome {
        guard layers.networkType == .ipv4 else { return .notTunnel }
        let network = Int(layers.network)
        guard bytes.mac(at: EthernetHeader.Field.destination) == uplinkMAC,
              bytes.u32(at: network + IPv4Header.Field.destination) == nodeIP else { return .notTunnel }
        let proto = bytes.u8(at: network + IPv4Header.Field.protocol)
        let headerLength = Int(bytes.u8(at: network + IPv4Header.Field.versionAndIHL) & 0x0F) * 4
        let udp = network + headerLength
        switch encapsulation {
        case .vxlan, .udp:
            guard proto == IPProtocol.udp.rawValue, layers.transport >= 0,
                  bytes.u16(at: udp + UDPHeader.Field.destinationPort) == udpPort else { return .notTunnel }
        case .ipip:
            guard proto == IPProtocol.ipip.rawValue else { return .notTunnel }
        }
        let total = Int(bytes.u16(at: network + IPv4Header.Field.totalLength))
        guard network + total <= bytes.byteCount else { return .refused(.truncatedTunnel) }
        guard bytes.u16(at: network + IPv4Header.Field.flagsAndFragmentOffset) & IPv4Header.FragmentMask.anyFragment == 0 else {
            return .refused(.tunnelFragment)
        }
        guard InternetChecksum.verify(bytes.slice(from: network, count: headerLength)) else { return .refused(.badIPv4Checksum) }
        guard let peer = peersByIP.lookup(UInt64(bytes.u32(at: network + IPv4Header.Field.source))) else {
            return .refused(.unknownVTEP)
        }
        if encapsulation == .ipip {
            let count = total - headerLength
            return count >= IPv4Header.minimumLength ? .inner(start: udp, count: count, peer: peer) : .refused(.innerTooShort)
        }
        let udpLength = Int(bytes.u16(at: udp + UDPHeader.Field.length))
        guard udpLength >= UDPHeader.length, udp + udpLength <= network + total else { return .refused(.truncatedTunnel) }
        if encapsulation == .udp {
            let count = udpLength - UDPHeader.length
            return count >= IPv4Header.minimumLength
                ? .inner(start: udp + UDPHeader.length, count: count, peer: peer) : .refused(.innerTooShort)
        }
        let vxlan = udp + UDPHeader.length
        guard udpLength >= UDPHeader.length + VXLANHeader.length else { return .refused(.truncatedTunnel) }
        guard bytes.u8(at: vxlan + VXLANHeader.Field.flags) & VXLANHeader.vniValidFlag != 0 else { return .refused(.notVXLAN) }
        guard bytes.u32(at: vxlan + VXLANHeader.Field.vni) >> 8 == vni else { return .refused(.wrongVNI) }
        let count = udpLength - UDPHeader.length - VXLANHeader.length
        guard count >= EthernetHeader.length else { return .refused(.innerTooShort) }
        return .inner(start: vxlan + VXLANHeader.length, count: count, peer: peer)
    }

    /// Removes the outer headers (and any trailing padding); for IP-in-IP and UDP writes an
    /// Ethernet header from the peer's tunnel MAC to the local one.
    private func strip(_ frame: inout Frame, start: Int, count: Int, peer: Int) {
        frame.truncate(to: start + count)
        let tunnelSuperFrame = frame.offload.segmentationType & SegmentOffload.Kind.tunnelBits != 0
        if encapsulation == .vxlan {
            frame.removeFirst(start)
        } else {
            frame.removeFirst(start - EthernetHeader.length)
            var bytes = frame.mutableBytes
            bytes.setMAC(tunnelMAC, at: EthernetHeader.Field.destination)
            bytes.setMAC(peerMACs[peer], at: EthernetHeader.Field.source)
            bytes.setU16(EtherType.ipv4.rawValue, at: EthernetHeader.Field.etherType)
        }
        if tunnelSuperFrame {
            // A UDP-tunnel super-frame from the uplink: the inner TCP super-frame goes on whole.
            let removed = encapsulation == .vxlan ? start : start - EthernetHeader.length
            frame.offload = frame.offload.decapsulated(removing: removed, frameLength: frame.count)
        }
        frame.originalLength = frame.count
        frame.layers = LayerOffsets()
        decapsulated &+= 1
    }

    /// Refuses a tunnel inside the tunnel, then routes or bridges the inner frame.
    private func deliver(_ frame: inout Frame) {
        if isTunnel(frame.bytes, layers: frame.layers) {
            frame.verdict = .drop(.nestedTunnel)
            context.trace(frame, "decap: inner packet is itself tunnelled -> drop nested-tunnel")
            return
        }
        let destination = frame.bytes.mac(at: EthernetHeader.Field.destination)
        if destination == tunnelMAC {
            frame.verdict = .toInterface(tunnelInterface)
            context.trace(frame, "decap: inner frame to the VTEP MAC, routed")
        } else if let bridge = podBridge {
            frame.verdict = .toBridge(bridge)
            context.trace(frame, "decap: inner frame to \(destination), switched into \(context.config.bridges[bridge].name)")
        } else {
            frame.verdict = .drop(.notForThisHost)
            context.trace(frame, "decap: inner frame to \(destination) and no pod bridge -> drop not-for-this-host")
        }
    }

    /// True when the inner packet is a tunnel packet of the same kind (VXLAN to the
    /// configured port or 4789, UDP to the configured port, IP-in-IP).
    private func isTunnel(_ bytes: RawSpan, layers: LayerOffsets) -> Bool {
        guard layers.networkType == .ipv4 else { return false }
        let network = Int(layers.network)
        if encapsulation == .ipip {
            return bytes.u8(at: network + IPv4Header.Field.protocol) == IPProtocol.ipip.rawValue
        }
        guard layers.transportProtocol == .udp, layers.transport >= 0 else { return false }
        let port = bytes.u16(at: Int(layers.transport) + UDPHeader.Field.destinationPort)
        return port == udpPort || (encapsulation == .vxlan && port == VXLANHeader.ianaPort)
    }
}

// MARK: What this part counts (names and descriptions: DropReason, PipelineCounters.Event)

extension OverlayDecapStage: CountingPart {
    package static let dropReasons: [DropReason] = [.unknownVTEP, .wrongVNI, .notVXLAN, .truncatedTunnel, .innerTooShort, .nestedTunnel, .tunnelFragment]
    package static let events: [PipelineCounters.Event] = [.decapsulated]
}
