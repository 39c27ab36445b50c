import Dataplane
import PierBench
import Wire

/// The overlay part of the fuzz target: each input also runs through a whole pipeline with a
/// VXLAN, IP-in-IP or UDP overlay (the selector picks which), once as a raw frame on the
/// uplink and once wrapped in valid outer headers from the configured peer to the node IP (so
/// the fuzzer reaches the VXLAN header and the inner frame rather than failing the outer
/// checks). Decapsulated frames for a peer's pod subnet are routed back into the tunnel, so
/// encap runs too. Invariants: no trap, and nothing leaves the uplink with the tunnel MAC as
/// its source (that would be a frame the encap stage missed).
enum FuzzOverlay {
    static let nodeIP = SyntheticTopologies.overlayNodeIP
    static let peerIP = IPv4Address(192, 168, 1, 30)
    static let uplinkMAC = MACAddress(0x02, 0, 0xC0, 0xA8, 1, 25)
    static let tunnelMAC = SyntheticTopologies.overlayTunnelMAC
    static let peerMAC = MACAddress(0x02, 0xAA, 0, 0, 0, 2)
    static let encapsulations: [PipelineConfig.Overlay.Encapsulation] = [.vxlan, .ipip, .udp]
    nonisolated(unsafe) static let pipelines = encapsulations.map { Pipeline(config: config($0)) }

    /// eth0 (uplink, 192.168.1.25/24), a cni0 port, flannel.1; one peer, node-b, whose pod
    /// subnet is routed into the tunnel.
    static func config(_ encapsulation: PipelineConfig.Overlay.Encapsulation) -> PipelineConfig {
        SyntheticTopologies.overlayNode(
            encapsulation, uplinkMAC: uplinkMAC,
            peers: [SyntheticTopologies.OverlayPeer(nodeIP: peerIP, uplinkMAC: MACAddress(0x02, 0, 0xC0, 0xA8, 1, 30),
                                                    podCIDR: IPv4Prefix(address: IPv4Address(10, 244, 2, 0), length: 24),
                                                    tunnelMAC: peerMAC)])
    }

    /// Traps when a frame leaves the uplink with the tunnel MAC as source.
    struct CheckingSink: FrameSink {
        mutating func send(_ frame: borrowing Frame, to port: PortID) {
            guard port.rawValue == 0, frame.count >= EthernetHeader.length else { return }
            precondition(frame.bytes.mac(at: EthernetHeader.Field.source) != tunnelMAC, "a tunnel frame left unencapsulated")
        }
    }

    /// Runs `frame` through the overlay pipeline picked by `selector`, raw and wrapped.
    static func check(_ frame: UnsafeRawBufferPointer, selector: UInt8) {
        let index = Int(selector >> 3 & 0x3) % encapsulations.count
        run(Array(frame), pipeline: pipelines[index])
        run(wrapped(frame, encapsulations[index]), pipeline: pipelines[index])
    }

    static func run(_ bytes: [UInt8], pipeline: Pipeline) {
        var batch = Batch()
        var frame = pipeline.context.pool.take()
        bytes.withUnsafeBytes { frame.replaceContents(with: $0) }
        frame.originalLength = bytes.count
        frame.inputPort = PortID(rawValue: 0)
        batch.append(frame)
        var sink = CheckingSink()
        pipeline.process(&batch, into: &sink, now: Timestamp(seconds: 1, nanoseconds: 0))
    }

    /// `payload` behind Ethernet/IPv4/UDP (port 8472 or 8285) or Ethernet/IPv4 (protocol 4)
    /// from the peer to the node, every length and checksum right.
    static func wrapped(_ payload: UnsafeRawBufferPointer, _ encapsulation: PipelineConfig.Overlay.Encapsulation) -> [UInt8] {
        let udpPort: UInt16? = switch encapsulation {
        case .ipip: nil
        case .udp: 8285
        case .vxlan: 8472
        }
        return SyntheticFrames.ipTunnel(Array(payload.prefix(60_000)), udpPort: udpPort, sourcePort: 50_000,
                                        outerSource: peerIP, outerDestination: nodeIP,
                                        sourceMAC: MACAddress(0x02, 0, 0xC0, 0xA8, 1, 30), destinationMAC: uplinkMAC)
    }
}
