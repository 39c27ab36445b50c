import Wire

/// Overlay encap: puts frames the route stage sent toward a peer's pod subnet into the tunnel.
/// Such a frame leaves by the uplink with the local tunnel MAC as source and the peer's as
/// destination (the route via the tunnel interface and the static neighbour entry of
/// `PipelineConfig.Overlay` make it so, TTL already decremented). The stage copies the peer's
/// prebuilt outer headers (`TunnelTemplates`) into the headroom in front of it and patches the
/// IPv4 total length, identification and checksum (RFC 1624), the UDP length, and for VXLAN a
/// UDP source port hashed from the inner flow (RFC 7348 §5: one flow keeps one port, flows
/// spread over `sourcePorts`). IP-in-IP and flannel's UDP backend drop the inner Ethernet header.
///
/// Packets longer than the overlay MTU never get here: the route stage refuses them (the
/// tunnel interface's MTU), as Linux does before a packet reaches flannel.1. While the
/// uplink's next hop toward the peer has no MAC, the encapsulated frame waits in the
/// `NeighborResolver`'s hold queue for that next hop (its ARP request, at most one a second, three frames,
/// `neighbor-unresolved` when no answer comes), as Linux queues on the outer route's
/// neighbour; the answer releases the frames with its MAC and completes the peer's template.
///
/// It does not encapsulate IPv6, set outer DF, copy the inner TOS, or compute outer UDP
/// checksums: they are zero, which RFC 7348 §5 allows over IPv4, but a Linux 6.18 VXLAN device
/// made without options sends them (`udpcsum` is its default; the kernel oracle test makes its
/// devices with `noudpcsum` to compare).
package final class OverlayEncapStage: FrameStage, NeighborObserver {
    private let context: PipelineContext
    /// The overlay this stage encapsulates for.
    let overlay: PipelineConfig.Overlay
    let templates: TunnelTemplates
    private let peersByMAC: PeerIndex
    private let uplinkPort: PortID
    /// Where frames wait for the next hop toward a peer (the uplink's gateway or the peer).
    private let resolver: NeighborResolver
    private var identification: UInt16 = 0
    private let portSpan: UInt64
    // The overlay's fields as scalars: reading them through the struct retains its arrays per frame.
    private let tunnelMAC: MACAddress
    private let udpPort: UInt16
    private let lowestSourcePort: UInt16
    private let isIPIP: Bool

    /// Makes the stage for `context.config.overlay`; nil when there is none, or its uplink is
    /// not a routed port. Templates start with the next hops `resolver` knows (later answers
    /// come through `neighborChanged`, as the stage observes it); frames for a peer whose next
    /// hop is unknown wait in its hold queue, which sets their outer MACs on release.
    package init?(context: PipelineContext, resolver: NeighborResolver) {
        guard let overlay = context.config.overlay,
              case .port(let port) = context.config.interfaces[overlay.uplink].attachment else { return nil }
        self.context = context
        self.resolver = resolver
        self.overlay = overlay
        uplinkPort = port
        templates = TunnelTemplates(overlay, uplinkMAC: context.config.interfaces[overlay.uplink].mac)
        peersByMAC = PeerIndex(overlay.peers.map { $0.tunnelMAC.rawValue })
        portSpan = UInt64(overlay.sourcePorts.upperBound - overlay.sourcePorts.lowerBound) + 1
        tunnelMAC = overlay.tunnelMAC
        udpPort = overlay.port
        lowestSourcePort = overlay.sourcePorts.lowerBound
        isIPIP = overlay.encapsulation == .ipip
        for (index, peer) in overlay.peers.enumerated() {
            if let mac = resolver.resolve(peer.nextHop) { templates.setNextHopMAC(mac, peer: index) }
        }
        resolver.observe(self)
    }

    /// Encapsulates frame `index` of the batch (`encapsulate`; the pipeline also calls that for
    /// the frames Pier makes, which belong to no batch).
    package func process(_ frame: inout Frame, at index: Int) { encapsulate(&frame) }

    /// Encapsulates `frame` when it is bound for a peer; leaves every other frame alone.
    package func encapsulate(_ frame: inout Frame) {
        guard case .output(let port) = frame.verdict, port == uplinkPort,
              frame.count >= EthernetHeader.length,
              frame.bytes.mac(at: EthernetHeader.Field.source) == tunnelMAC else { return }
        let destination = frame.bytes.mac(at: EthernetHeader.Field.destination)
        guard let peer = peersByMAC.lookup(destination.rawValue) else {
            frame.verdict = .drop(.unknownVTEP)
            context.trace(frame, "encap: \(destination) is no peer's VTEP -> drop unknown-vtep")
            return
        }
        guard frame.layers.networkType == .ipv4 else {  // only IPv4 is routed into the tunnel
            frame.verdict = .drop(.localDeliveryUnsupported)
            return
        }
        let network = Int(frame.layers.network)
        let innerLength = Int(frame.bytes.u16(at: network + IPv4Header.Field.totalLength))
        let resolved = templates.isResolved[peer]
        let grown: Bool
        if templates.keepsInnerEthernet {
            grown = prependVXLAN(&frame, peer: peer)
        } else {
            grown = prependIPHeaders(&frame, peer: peer, network: network, innerLength: innerLength)
        }
        guard grown else {
            frame.verdict = .drop(.noHeadroom)
            return
        }
        if !frame.offload.isNone { moveOffload(&frame, innerNetwork: network) }
        context.counters.count(.encapsulated)
        context.trace(frame, "encap: \(self.overlay.encapsulation.rawValue) to \(self.overlay.peers[peer].ip)")
        if !resolved {
            // The outer Ethernet header is completed when the next hop answers.
            resolver.hold(&frame, nextHop: .ipv4(overlay.peers[peer].nextHop), interface: overlay.uplink)
        }
    }

    /// Moves the frame's offload record past the outer headers: a VXLAN super-frame becomes a
    /// UDP-tunnel one (outer UDP after the outer IPv4 header), which an uplink with
    /// `TUN_F_UDP_TUNNEL_GSO` takes whole and Pier otherwise segments; IP-in-IP and flannel UDP
    /// have no virtio-net type and are always segmented by Pier (`SoftwareSegmenter`).
    private func moveOffload(_ frame: inout Frame, innerNetwork network: Int) {
        let added = templates.keepsInnerEthernet ? templates.length : templates.length - network
        let innerNetwork = templates.keepsInnerEthernet ? templates.length + network : templates.length
        let outerTransport: Int? = templates.keepsInnerEthernet ? TunnelTemplates.Field.udp : nil
        frame.offload = frame.offload.encapsulated(adding: added, innerNetwork: innerNetwork, outerTransport: outerTransport,
                                                   frameLength: frame.count)
    }

    /// Puts the VXLAN template in front of the whole frame.
    @inline(__always)
    private func prependVXLAN(_ frame: inout Frame, peer: Int) -> Bool {
        let sourcePort = flowPort(frame.bytes, layers: frame.layers)
        let innerCount = frame.count
        guard frame.prepend(templates.length) else { return false }
        let total = UInt16(truncatingIfNeeded: innerCount + templates.length - EthernetHeader.length)
        write(&frame, peer: peer, total: total, sourcePort: sourcePort)
        frame.originalLength += templates.length
        return true
    }

    /// Replaces the Ethernet header (and any VLAN tag) with the IP-in-IP or UDP template.
    @inline(__always)
    private func prependIPHeaders(_ frame: inout Frame, peer: Int, network: Int, innerLength: Int) -> Bool {
        guard network + innerLength <= frame.count else { return false }
        frame.truncate(to: network + innerLength)
        guard frame.prepend(templates.length - network) else { return false }
        let total = UInt16(truncatingIfNeeded: innerLength + templates.length - EthernetHeader.length)
        write(&frame, peer: peer, total: total, sourcePort: udpPort)
        frame.originalLength = frame.count
        return true
    }

    /// Copies the template and patches lengths, identification, checksum and source port.
    @inline(__always)
    private func write(_ frame: inout Frame, peer: Int, total: UInt16, sourcePort: UInt16) {
        identification &+= 1
        let id = identification
        var checksum = InternetChecksum.update(templates.checksums[peer], old: UInt16(IPv4Header.minimumLength), new: total)
        checksum = InternetChecksum.update(checksum, old: 0, new: id)
        let template = templates.template(of: peer)
        let length = templates.length
        let isUDP = !isIPIP
        typealias Field = TunnelTemplates.Field
        var bytes = frame.mutableBytes
        bytes.withUnsafeMutableBytes { target in
            guard let base = target.baseAddress else { return }
            base.copyMemory(from: template, byteCount: length)
            base.storeBytes(of: total.bigEndian, toByteOffset: Field.ipv4 + IPv4Header.Field.totalLength, as: UInt16.self)
            base.storeBytes(of: id.bigEndian, toByteOffset: Field.ipv4 + IPv4Header.Field.identification, as: UInt16.self)
            base.storeBytes(of: checksum.bigEndian, toByteOffset: Field.ipv4 + IPv4Header.Field.checksum, as: UInt16.self)
            guard isUDP else { return }
            let udpLength = (total &- UInt16(IPv4Header.minimumLength)).bigEndian
            base.storeBytes(of: sourcePort.bigEndian, toByteOffset: Field.udp + UDPHeader.Field.sourcePort, as: UInt16.self)
            base.storeBytes(of: udpLength, toByteOffset: Field.udp + UDPHeader.Field.length, as: UInt16.self)
        }
        frame.layers = LayerOffsets(untagged: .ipv4, transport: isUDP ? .udp : .ipip, at: IPv4Header.minimumLength)
    }

    /// The UDP source port for the inner flow: a hash of the inner IPv4 addresses, protocol and
    /// (TCP, UDP, unfragmented) ports, scaled into `sourcePorts` as Linux's
    /// `udp_flow_src_port` scales its flow hash.
    /// (Views and offsets, not the frame: borrowing the noncopyable frame copies it.)
    @inline(__always)
    private func flowPort(_ bytes: RawSpan, layers: LayerOffsets) -> UInt16 {
        let network = Int(layers.network)
        var key = bytes.u64(at: network + IPv4Header.Field.source)
        let proto = layers.transportProtocol
        var extra = UInt64(bytes.u8(at: network + IPv4Header.Field.protocol))
        if (proto == .tcp || proto == .udp) && layers.transport >= 0 {
            extra |= UInt64(bytes.u32(at: Int(layers.transport))) << 8
        }
        key = (key ^ (extra &* 0xC2B2_AE3D_27D4_EB4F)) &* 0x9E37_79B9_7F4A_7C15
        let hash = (key ^ (key >> 32)) & 0xFFFF_FFFF
        return lowestSourcePort &+ UInt16(truncatingIfNeeded: (hash &* portSpan) >> 32)
    }

    /// Completes (or corrects) the templates of peers reached through `address`.
    package func neighborChanged(_ address: IPv4Address, mac: MACAddress) {
        for (index, peer) in overlay.peers.enumerated() where peer.nextHop == address {
            templates.setNextHopMAC(mac, peer: index)
        }
    }
}

// MARK: What this part counts (names and descriptions: DropReason, PipelineCounters.Event)

extension OverlayEncapStage: CountingPart {
    package static let dropReasons: [DropReason] = [.noHeadroom]
    package static let events: [PipelineCounters.Event] = [.encapsulated]
}
