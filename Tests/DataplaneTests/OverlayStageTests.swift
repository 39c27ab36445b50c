import PierBench
import Testing
import Wire
import Dataplane
import PierTestSupport

/// The overlay stages inside a pipeline, without I/O: a pod's frames in, the uplink's bytes
/// out, read back through Wire's views.
struct OverlayStageTests {
    static let nodeIP = SyntheticTopologies.overlayNodeIP
    static let peerIP = IPv4Address(192, 168, 1, 30)
    static let peerUplinkMAC = MACAddress(0x02, 0, 0xC0, 0xA8, 1, 30)
    static let uplinkMAC = MACAddress(0x02, 0, 0xC0, 0xA8, 1, 25)
    static let cni0MAC = SyntheticTopologies.overlayBridgeMAC
    static let podMAC = MACAddress(0x0a, 0x58, 10, 244, 1, 5)
    static let tunnelMAC = SyntheticTopologies.overlayTunnelMAC
    static let peerTunnelMAC = MACAddress(0x02, 0xAA, 0, 0, 0, 2)

    /// eth0 (uplink 192.168.1.25/24), pod (on cni0 10.244.1.1/24), flannel.1; the peer
    /// 192.168.1.30 owns 10.244.2.0/24. `knowsPeer`: a static ARP entry for the peer's node IP.
    static func config(_ encapsulation: PipelineConfig.Overlay.Encapsulation = .vxlan, knowsPeer: Bool = true) -> PipelineConfig {
        SyntheticTopologies.overlayNode(
            encapsulation, vni: 42, uplinkMAC: uplinkMAC,
            peers: [SyntheticTopologies.OverlayPeer(nodeIP: peerIP, uplinkMAC: knowsPeer ? peerUplinkMAC : nil,
                                                    podCIDR: IPv4Prefix(address: IPv4Address(10, 244, 2, 0), length: 24),
                                                    tunnelMAC: peerTunnelMAC)])
    }

    /// A TCP SYN from the pod to 10.244.2.7 through its gateway, from `sourcePort` (a SYN: the
    /// conntrack stage drops a mid-flow segment of a connection it never saw open).
    static func podFrame(sourcePort: UInt16) -> [UInt8] {
        SyntheticFrames.tcp(sourceMAC: podMAC, destinationMAC: cni0MAC, source: IPv4Address(10, 244, 1, 5),
                            destination: IPv4Address(10, 244, 2, 7), sourcePort: sourcePort, destinationPort: 80,
                            flags: [.syn], payloadLength: 10)
    }

    /// Runs `frames` (ingress port index and bytes) through `harness` in one batch at 10 s.
    static func run(_ harness: PipelineHarness, _ frames: [(port: UInt16, bytes: [UInt8])]) -> [(port: UInt16, bytes: [UInt8])] {
        let time = Timestamp(seconds: 10, nanoseconds: 0)
        return harness.feed(frames.map { PipelineHarness.Input($0.bytes, port: PortID(rawValue: $0.port), time: time) })
            .map { ($0.port.rawValue, $0.bytes) }
    }

    @Test func vxlanTemplateIsPatchedPerFrame() throws {
        let harness = PipelineHarness(config: Self.config())
        let inputs = (0..<8).map { Self.podFrame(sourcePort: 1000 + UInt16($0)) } + [Self.podFrame(sourcePort: 1000)]
        let out = Self.run(harness, inputs.map { (1, $0) })
        #expect(out.count == inputs.count)
        var ports: [UInt16] = []
        for ((port, bytes), input) in zip(out, inputs) {
            #expect(port == 0)
            let span = bytes.span.bytes
            let ethernet = try EthernetHeader(validating: span)
            #expect(EthernetRepr(ethernet) == EthernetRepr(destination: Self.peerUplinkMAC, source: Self.uplinkMAC, etherType: .ipv4))
            let ip = try IPv4Header(validating: span.slice(from: 14))
            let checksumValid = ip.isChecksumValid
            #expect(checksumValid)
            let outer = IPv4Repr(ip)
            #expect(outer.source == Self.nodeIP && outer.destination == Self.peerIP && outer.protocol == .udp && outer.ttl == 64)
            #expect(outer.payloadLength == bytes.count - 34)
            let udp = try UDPHeader(validating: span.slice(from: 34))
            let (sourcePort, destinationPort, udpChecksum, udpLength) = (udp.sourcePort, udp.destinationPort, udp.checksum, udp.length)
            #expect(destinationPort == 8472 && udpChecksum == 0 && udpLength == bytes.count - 34)
            #expect((49152...65535).contains(sourcePort))
            ports.append(sourcePort)
            let vxlan = try VXLANHeader(validating: span.slice(from: 42))
            let (hasVNI, vni) = (vxlan.hasVNI, vxlan.vni)
            #expect(hasVNI && vni == 42)
            // The inner frame: the tunnel MACs, TTL 63, the rest as sent.
            let inner = Array(bytes[50...])
            #expect(Array(inner[0..<12]) == [0x02, 0xAA, 0, 0, 0, 2, 0x02, 0xAA, 0, 0, 0, 1])
            #expect(inner[22] == 63)
            #expect(Array(inner[34...]) == Array(input[34...]))
        }
        #expect(ports.first == ports.last, "one flow, one port")
        #expect(Set(ports.dropLast()).count >= 6, "flows spread over ports")
        #expect(harness.counters.value(.encapsulated) == inputs.count)
    }

    @Test func unresolvedNextHopHoldsAsksAndReleases() throws {
        let harness = PipelineHarness(config: Self.config(knowsPeer: false))
        // Four frames for the peer while its node IP is unknown: three wait (Linux's queue of
        // three on the outer neighbour), the fourth is dropped, one ARP request goes out.
        let first = Self.run(harness, (1...4).map { (1, Self.podFrame(sourcePort: UInt16($0))) })
        #expect(harness.counters.value(.held) == 3)
        #expect(harness.counters.dropped(.neighborQueueFull) == 1)
        #expect(first.count == 1)
        let request = try #require(first.first)
        #expect(request.port == 0)
        let arp = try ARPRepr(ARPPacket(validating: request.bytes.span.bytes.slice(from: 14)))
        #expect(arp.operation == .request && arp.targetIP == Self.peerIP && arp.senderIP == Self.nodeIP)
        // The peer answers: the held frames leave with its MAC, then the next frame does too.
        let reply = Packets.arp(.reply, senderMAC: Self.peerUplinkMAC, senderIP: Self.peerIP, targetMAC: Self.uplinkMAC,
                                targetIP: Self.nodeIP, destinationMAC: Self.uplinkMAC)
        let second = Self.run(harness, [(0, reply), (1, Self.podFrame(sourcePort: 9))])
        #expect(second.count == 4)
        #expect(harness.counters.value(.released) == 3)
        #expect(harness.counters.value(.encapsulated) == 5, "four held or dropped after encapsulation, and the fifth")
        var innerPorts: [UInt16] = []
        for frame in second {
            #expect(frame.port == 0)
            // Outer Ethernet: from the uplink to the peer's node; the VXLAN packet whole and valid.
            #expect(Array(frame.bytes[0..<6]) == [0x02, 0, 0xC0, 0xA8, 1, 30])
            #expect(Array(frame.bytes[6..<12]) == [0x02, 0, 0xC0, 0xA8, 1, 25])
            let outer = try IPv4Header(validating: frame.bytes.span.bytes.slice(from: 14))
            let checksumValid = outer.isChecksumValid, destination = outer.destination
            #expect(checksumValid)
            #expect(destination == Self.peerIP)
            innerPorts.append(UInt16(frame.bytes[50 + 34]) << 8 | UInt16(frame.bytes[50 + 35]))
        }
        #expect(innerPorts == [1, 2, 3, 9], "the held frames first, in order, then the new one")
    }

    @Test(arguments: [PipelineConfig.Overlay.Encapsulation.ipip, .udp])
    func ipInIPAndUDPRoundTrip(_ encapsulation: PipelineConfig.Overlay.Encapsulation) throws {
        // Node A encapsulates; the same config with the roles swapped decapsulates.
        let a = PipelineHarness(config: Self.config(encapsulation))
        let input = Self.podFrame(sourcePort: 7)
        let sent = Self.run(a, [(1, input)])
        let tunnel = try #require(sent.first)
        let span = tunnel.bytes.span.bytes
        let ip = try IPv4Header(validating: span.slice(from: 14))
        let (checksumValid, totalLength, proto) = (ip.isChecksumValid, ip.totalLength, ip.protocol)
        #expect(checksumValid && totalLength == tunnel.bytes.count - 14)
        let headers = encapsulation == .ipip ? 34 : 42
        #expect(proto == (encapsulation == .ipip ? .ipip : .udp))
        if encapsulation == .udp {
            let udp = try UDPHeader(validating: span.slice(from: 34))
            let (sourcePort, destinationPort, udpLength) = (udp.sourcePort, udp.destinationPort, udp.length)
            #expect(sourcePort == 8285 && destinationPort == 8285 && udpLength == tunnel.bytes.count - 34)
        }
        // The inner IPv4 packet follows, no Ethernet header: TTL 63, the rest as sent.
        #expect(Array(tunnel.bytes[(headers + 12)...]) == Array(input[(14 + 12)...]))
        #expect(tunnel.bytes[headers + 8] == 63)

        // Node B: the peer's view of the same tunnel, fed the packet addressed to it.
        var b = Self.config(encapsulation)
        b.interfaces[0].mac = Self.peerUplinkMAC
        b.interfaces[0].ipv4 = [IPv4Prefix(address: Self.peerIP, length: 24)]
        b.overlay?.nodeIP = Self.peerIP
        b.overlay?.peers[0].ip = Self.nodeIP
        b.overlay?.peers[0].tunnelMAC = MACAddress(0x02, 0xAA, 0, 0, 0, 9)
        b.interfaces[1].ipv4 = [IPv4Prefix(address: IPv4Address(10, 244, 2, 1), length: 24)]
        b.interfaces[2].ipv4 = [IPv4Prefix(address: IPv4Address(10, 244, 2, 0), length: 32)]
        b.routes4 = [PipelineConfig.Route4(prefix: IPv4Prefix(address: IPv4Address(10, 244, 1, 0), length: 24), interface: 2,
                                           gateway: IPv4Address(10, 244, 1, 0))]
        b.overlay?.peers[0].podCIDR = IPv4Prefix(address: IPv4Address(10, 244, 1, 0), length: 24)
        b.neighbors4.append((IPv4Address(10, 244, 2, 7), MACAddress(0x0a, 0x58, 10, 244, 2, 7)))
        let nodeB = PipelineHarness(config: b)
        var arriving = tunnel.bytes
        arriving.withMutableRawSpan { $0.setMAC(Self.peerUplinkMAC, at: 0) }
        let delivered = Self.run(nodeB, [(0, arriving)])
        #expect(nodeB.counters.value(.decapsulated) == 1)
        let pod = try #require(delivered.first)
        #expect(pod.port == 1)
        #expect(Array(pod.bytes[0..<6]) == [0x0a, 0x58, 10, 244, 2, 7])
        #expect(pod.bytes[22] == 62)
        #expect(Array(pod.bytes[34...]) == Array(input[34...]))
    }

    @Test func icmpErrorsAboutTunnelledPacketsGoBackThroughTheTunnel() throws {
        // A packet from the peer's pod with TTL 1 arrives in the tunnel: the route stage's ICMP
        // time exceeded, a frame Pier makes, leaves encapsulated toward the peer.
        let harness = PipelineHarness(config: Self.config())
        let inner = SyntheticFrames.tcp(sourceMAC: Self.peerTunnelMAC, destinationMAC: Self.tunnelMAC,
                                        source: IPv4Address(10, 244, 2, 7), destination: IPv4Address(10, 244, 1, 5),
                                        sourcePort: 9, destinationPort: 80, flags: [.syn], ttl: 1)
        var outer = SyntheticFrames.vxlan(inner: inner, vni: 42, outerSource: Self.peerIP, outerDestination: Self.nodeIP)
        outer.withMutableRawSpan { $0.setMAC(Self.uplinkMAC, at: 0) }
        let out = Self.run(harness, [(0, outer)])
        #expect(harness.counters.dropped(.ttlExceeded) == 1)
        #expect(harness.counters.value(.decapsulated) == 1)
        #expect(harness.counters.value(.encapsulated) == 1)
        let error = try #require(out.first)
        #expect(error.port == 0)
        let span = error.bytes.span.bytes
        let ip = try IPv4Header(validating: span.slice(from: 14))
        let (checksumValid, outerDestination) = (ip.isChecksumValid, ip.destination)
        #expect(checksumValid && outerDestination == Self.peerIP)
        // Inside: ICMP time exceeded from the tunnel address to the pod that sent the packet.
        let innerIP = try IPv4Header(validating: span.slice(from: 50 + 14))
        let (source, destination, proto) = (innerIP.source, innerIP.destination, innerIP.protocol)
        #expect(source == IPv4Address(10, 244, 1, 0) && destination == IPv4Address(10, 244, 2, 7) && proto == .icmp)
        #expect(error.bytes[50 + 34] == 11)
    }
}
