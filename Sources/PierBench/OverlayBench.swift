import Dataplane
import Wire

/// `pier bench vxlan-encap vxlan-decap ipip`: the overlay stages alone on 64-byte inner frames
/// (Ethernet/IPv4/TCP), 64 flows to 16 peers in a batch of 64, as the pipeline runs them.
///
/// - encap: the frame arrives as the route stage leaves it (output by the uplink, tunnel MACs);
///   the stage copies the peer's template in front and patches it. The loop then moves the
///   frame's start back over the inner frame (and for IP-in-IP rewrites its Ethernet header)
///   so the next round sees the same frame: that undo is part of the measured time.
/// - decap: the frame arrives classified (outer offsets known), to the node IP from a peer;
///   the stage checks the outer headers, strips them and classifies the inner frame (what the
///   pipeline does); the loop then moves the start back over the outer headers.
package enum OverlayBench {
    static let nodeIP = SyntheticTopologies.overlayNodeIP
    /// SyntheticFrames.vxlan's outer destination MAC, so its frames are for this uplink.
    static let uplinkMAC = MACAddress(0x02, 0, 0xC0, 0xA8, 0x01, 0x01)
    static let tunnelMAC = SyntheticTopologies.overlayTunnelMAC
    static let peerCount = 16

    static func peerMAC(_ index: Int) -> MACAddress { MACAddress(0x02, 0xAA, 0, 0, 1, UInt8(index)) }
    static func peerIP(_ index: Int) -> IPv4Address { IPv4Address(192, 168, 1, UInt8(100 + index)) }

    /// eth0 (the uplink), pod (a cni0 port), flannel.1; 16 peers on the uplink's subnet, no
    /// routes (the stages run alone).
    static func config(_ encapsulation: PipelineConfig.Overlay.Encapsulation) -> PipelineConfig {
        SyntheticTopologies.overlayNode(
            encapsulation, uplinkMAC: uplinkMAC,
            peers: (0..<peerCount).map { index in
                SyntheticTopologies.OverlayPeer(nodeIP: peerIP(index), uplinkMAC: MACAddress(0x02, 0, 0xC0, 0xA8, 1, UInt8(100 + index)),
                                                podCIDR: IPv4Prefix(address: IPv4Address(10, 244, UInt8(2 + index), 0), length: 24),
                                                tunnelMAC: peerMAC(index))
            },
            routesPodCIDRs: false)
    }

    /// A 64-byte inner frame of flow `index`, as routing leaves it for peer `index % 16`.
    static func inner(_ index: Int) -> [UInt8] {
        var bytes = SyntheticFrames.tcp(sourceMAC: tunnelMAC, destinationMAC: peerMAC(index % peerCount),
                                        source: IPv4Address(10, 244, 1, 5), destination: IPv4Address(10, 244, UInt8(2 + index % peerCount), 7),
                                        sourcePort: UInt16(30_000 + index), destinationPort: 80, ttl: 63)
        bytes += [UInt8](repeating: 0, count: max(0, 64 - bytes.count))
        return bytes
    }

    static var innerLayers: LayerOffsets {
        var layers = LayerOffsets()
        (layers.network, layers.networkType) = (14, .ipv4)
        (layers.transport, layers.transportProtocol) = (34, .tcp)
        return layers
    }

    /// Encapsulates `packets` frames (rounded down to whole batches) with `encapsulation`.
    package static func encap(_ encapsulation: PipelineConfig.Overlay.Encapsulation, stage name: String, packets: Int,
                              meter: BenchMeter) -> BenchResult {
        let context = PipelineContext(config: config(encapsulation), pool: FramePool())
        // Every peer's next hop is a static neighbour, so nothing is ever held.
        guard let stage = OverlayEncapStage(context: context, resolver: NeighborResolver(context: context)) else {
            fatalError("bench overlay config")
        }
        let uplink = PortID(rawValue: 0)
        var batch = Batch()
        let inners = (0..<64).map(inner)
        for bytes in inners {
            var frame = Frame(bytes: bytes)
            frame.layers = innerLayers
            frame.verdict = .output(uplink)
            batch.append(frame)
        }
        let keepsEthernet = encapsulation == .vxlan
        let added = overhead(encapsulation)
        let count = packets / 64 * 64
        let layers = innerLayers
        var sink = 0
        let result = meter.measure(stage: name, frames: count) {
            for _ in 0..<(count / 64) {
                for index in 0..<64 {
                    stage.encapsulate(&batch[index])
                    sink &+= Int(batch[index].bytes.u16(at: 34))
                    batch[index].removeFirst(added)
                    if !keepsEthernet {
                        var bytes = batch[index].mutableBytes
                        bytes.setMAC(peerMAC(index % peerCount), at: EthernetHeader.Field.destination)
                        bytes.setMAC(tunnelMAC, at: EthernetHeader.Field.source)
                        bytes.setU16(EtherType.ipv4.rawValue, at: EthernetHeader.Field.etherType)
                    }
                    batch[index].layers = layers
                    batch[index].verdict = .output(uplink)
                }
            }
        }
        blackHole(sink)
        blackHole(context.counters.value(.encapsulated))
        return result
    }

    /// A tunnel packet from peer `index % 16` to the node, carrying `inner(index)` addressed to
    /// the local VTEP.
    static func outer(_ encapsulation: PipelineConfig.Overlay.Encapsulation, _ index: Int) -> [UInt8] {
        var innerFrame = inner(index)
        innerFrame.withMutableRawSpan { span in
            span.setMAC(tunnelMAC, at: EthernetHeader.Field.destination)
            span.setMAC(peerMAC(index % peerCount), at: EthernetHeader.Field.source)
        }
        if encapsulation == .vxlan {
            return SyntheticFrames.vxlan(inner: innerFrame, outerSource: peerIP(index % peerCount), outerDestination: nodeIP)
        }
        return SyntheticFrames.ipTunnel(Array(innerFrame[14..<54]), udpPort: encapsulation == .udp ? 8285 : nil, sourcePort: 8285,
                                        outerSource: peerIP(index % peerCount), outerDestination: nodeIP,
                                        sourceMAC: MACAddress(0x02, 0, 0xC0, 0xA8, 1, 1), destinationMAC: uplinkMAC)
    }

    /// Decapsulates `packets` frames (rounded down to whole batches) of `encapsulation`.
    package static func decap(_ encapsulation: PipelineConfig.Overlay.Encapsulation, stage name: String, packets: Int,
                              meter: BenchMeter) -> BenchResult {
        let context = PipelineContext(config: config(encapsulation), pool: FramePool())
        guard let stage = OverlayDecapStage(context: context) else { fatalError("bench overlay config") }
        let uplink = PortID(rawValue: 0)
        var batch = Batch()
        var outerLayers = LayerOffsets()
        (outerLayers.network, outerLayers.networkType) = (14, .ipv4)
        if encapsulation != .ipip { (outerLayers.transport, outerLayers.transportProtocol) = (34, .udp) }
        for index in 0..<64 {
            var frame = Frame(bytes: outer(encapsulation, index))
            frame.inputPort = uplink
            batch.append(frame)
        }
        let removed = overhead(encapsulation)
        // IP-in-IP and UDP decap write an Ethernet header over the outer one: put it back.
        let restored = encapsulation == .vxlan ? 0 : 14 + removed
        let heads = UnsafeMutableRawPointer.allocate(byteCount: 64 * 64, alignment: 64)
        defer { heads.deallocate() }
        for index in 0..<64 {
            batch[index].withUnsafeBytes { (heads + index * 64).copyMemory(from: $0.baseAddress!, byteCount: restored) }
        }
        let count = packets / 64 * 64
        var sink = 0
        let result = meter.measure(stage: name, frames: count) {
            for _ in 0..<(count / 64) {
                for index in 0..<64 {
                    batch[index].layers = outerLayers
                    batch[index].verdict = .pending
                    stage.decapsulate(&batch[index])
                    if case .toInterface = batch[index].verdict { sink &+= 1 }
                    batch[index].prepend(removed)
                    if restored > 0 {
                        var bytes = batch[index].mutableBytes
                        bytes.withUnsafeMutableBytes { $0.baseAddress?.copyMemory(from: heads + index * 64, byteCount: restored) }
                    }
                }
            }
        }
        blackHole(sink)
        precondition(sink == count, "\(name): only \(sink) of \(count) frames decapsulated")
        return result
    }

    /// The bytes each encapsulation puts in front of the inner packet: outer Ethernet, IPv4,
    /// UDP and VXLAN around an inner Ethernet frame (50), outer IPv4 alone (20), or outer IPv4
    /// and UDP around the inner IP packet (28).
    static func overhead(_ encapsulation: PipelineConfig.Overlay.Encapsulation) -> Int {
        switch encapsulation {
        case .vxlan: 50
        case .ipip: 20
        case .udp: 28
        }
    }
}
