import PierBench
import Testing
import Wire
import Dataplane
import PierTestSupport

/// IPv6 conntrack through a whole pipeline built in code: IPv6 keys hold 32-bit hashes of the
/// addresses, so two containers whose addresses hash alike are found here and sent to the
/// same outside host and port from the same source port. The second is refused, never
/// mistaken for the first, and the first keeps working (the full addresses are compared).
struct NAT6PipelineTests {
    static let eth0 = PortID(rawValue: 0), c1 = PortID(rawValue: 1)
    static let node = IPv6Address("2001:db8:1::19")!, outside = IPv6Address("2001:db8:7::7")!
    static let nodeMAC = MACAddress(0x02, 0, 0xC0, 0xA8, 0x01, 0x19), gatewayMAC = MACAddress(0x02, 0, 0xC0, 0xA8, 0x01, 0x01)

    /// eth0 (2001:db8:1::19/64, default route via 2001:db8:1::1) and docker0 (fd00:88::1/64)
    /// with one port, c1; MASQUERADE of fd00:88::/64 out of eth0; `containers` as neighbours.
    static func pipeline(containers: [IPv6Address]) -> PipelineHarness {
        var config = PipelineConfig(
            ports: [PipelineConfig.Port(name: "eth0", interface: 0), PipelineConfig.Port(name: "c1", bridge: 0)],
            bridges: [PipelineConfig.Bridge(name: "docker0", ports: [c1], interface: 1)],
            interfaces: [
                PipelineConfig.Interface(name: "eth0", mac: nodeMAC, ipv6: [IPv6Prefix("2001:db8:1::19/64")!], attachment: .port(eth0)),
                PipelineConfig.Interface(name: "docker0", mac: Packets.bridgeMAC, ipv6: [IPv6Prefix("fd00:88::1/64")!], attachment: .bridge(0)),
            ],
            routes6: [PipelineConfig.Route6(prefix: IPv6Prefix("::/0")!, interface: 0, gateway: IPv6Address("2001:db8:1::1")!)],
            neighbors6: [(IPv6Address("2001:db8:1::1")!, gatewayMAC)] + containers.map { ($0, Packets.containerMAC) })
        config.nat.masquerade6 = [NATRules.Masquerade6(source: IPv6Prefix("fd00:88::/64")!, out: eth0)]
        return PipelineHarness(config: config)
    }

    /// Two container addresses in fd00:88::/64 whose key hashes are equal.
    static func addressesThatHashAlike() -> (IPv6Address, IPv6Address) {
        var seen: [UInt32: UInt64] = [:]
        var low: UInt64 = 2
        while true {
            let hash = FlowKey.addressHash(IPv6Address(high: 0xFD00_0088_0000_0000, low: low))
            if let earlier = seen[hash] {
                return (IPv6Address(high: 0xFD00_0088_0000_0000, low: earlier), IPv6Address(high: 0xFD00_0088_0000_0000, low: low))
            }
            seen[hash] = low
            low += 1
        }
    }

    static func tcp(_ source: IPv6Address, _ sourcePort: UInt16, _ destination: IPv6Address, _ destinationPort: UInt16,
                    flags: TCPFlags, from sourceMAC: MACAddress, to destinationMAC: MACAddress) -> [UInt8] {
        var bytes = ConntrackWorkload6.frame(source, destination, sourcePort, destinationPort, flags: flags)
        for index in 0..<6 {
            bytes[index] = UInt8(truncatingIfNeeded: destinationMAC.rawValue >> (40 - 8 * index))
            bytes[6 + index] = UInt8(truncatingIfNeeded: sourceMAC.rawValue >> (40 - 8 * index))
        }
        return bytes
    }

    /// The TCP checksum of an Ethernet/IPv6/TCP frame verifies (RFC 8200 §8.1 pseudo-header).
    static func checksumVerifies(_ bytes: [UInt8]) -> Bool {
        let length = bytes.count - 54
        let sum = InternetChecksum.pseudoHeaderSum(source: address(bytes, at: 22), destination: address(bytes, at: 38),
                                                   protocol: .tcp, length: length)
        return Array(bytes[54...]).withUnsafeBytes { InternetChecksum.verify(RawSpan(_unsafeBytes: $0), initial: sum) }
    }

    static func address(_ bytes: [UInt8], at offset: Int) -> IPv6Address {
        IPv6Address(groups: (0..<8).map { UInt16(bytes[offset + 2 * $0]) << 8 | UInt16(bytes[offset + 2 * $0 + 1]) })
    }

    @Test func flowsWhoseAddressesHashAlikeAreNeverConfused() throws {
        let (first, second) = Self.addressesThatHashAlike()
        #expect(first != second && FlowKey.addressHash(first) == FlowKey.addressHash(second))
        let harness = Self.pipeline(containers: [first, second])
        func feed(_ bytes: [UInt8], _ port: PortID, at second: Int64) -> [PipelineHarness.Output] {
            harness.feed([PipelineHarness.Input(bytes, port: port, time: Timestamp(seconds: second, nanoseconds: 0))])
        }
        let out = feed(Self.tcp(first, 5_000, Self.outside, 443, flags: [.syn], from: Packets.containerMAC, to: Packets.bridgeMAC), Self.c1, at: 1_000)
        #expect(out.count == 1 && out.first?.port == Self.eth0)
        #expect(out.first.map { Self.address($0.bytes, at: 22) } == Self.node)
        #expect(out.allSatisfy { Self.checksumVerifies($0.bytes) })
        // The second container's SYN has the first one's key: refused, not sent as the first's.
        let clash = feed(Self.tcp(second, 5_000, Self.outside, 443, flags: [.syn], from: Packets.containerMAC, to: Packets.bridgeMAC), Self.c1, at: 1_001)
        #expect(clash.isEmpty)
        #expect(harness.counters.dropped(.conntrackInvalid) == 1)
        // Its ACK (no connection of its own) is not translated as the first container's either.
        let stray = feed(Self.tcp(second, 5_000, Self.outside, 443, flags: [.ack], from: Packets.containerMAC, to: Packets.bridgeMAC), Self.c1, at: 1_002)
        #expect(stray.isEmpty)
        #expect(harness.counters.dropped(.conntrackInvalid) == 2)
        // The first connection still works: the SYN-ACK reaches the first container.
        let back = feed(Self.tcp(Self.outside, 443, Self.node, 5_000, flags: [.syn, .ack], from: Self.gatewayMAC, to: Self.nodeMAC), Self.eth0, at: 1_003)
        #expect(back.count == 1 && back.first?.port == Self.c1)
        #expect(back.first.map { Self.address($0.bytes, at: 38) } == first)
        #expect(back.allSatisfy { Self.checksumVerifies($0.bytes) })
        // From another source port the second container gets through.
        let other = feed(Self.tcp(second, 5_001, Self.outside, 443, flags: [.syn], from: Packets.containerMAC, to: Packets.bridgeMAC), Self.c1, at: 1_004)
        #expect(other.count == 1 && other.first.map { Self.address($0.bytes, at: 22) } == Self.node)
        #expect(harness.counters.value(.conntrackNew) == 2)
    }
}

/// The IPv6 bench workload measures what it says: each reply finds its connection and is
/// translated back to its container.
struct ConntrackWorkload6Tests {
    @Test func repliesAreTranslatedToTheirContainers() throws {
        let workload = ConntrackWorkload6.established(64)
        #expect(workload.connectionCount == 64)
        var batch = Batch(keepsFrames: true)
        let length = ConntrackWorkload6.frameLength
        for index in 0..<4 {
            _ = workload.templates.withUnsafeBytes { all in
                batch.refill(from: workload.pool) { frame in
                    frame.replaceContents(with: UnsafeRawBufferPointer(rebasing: all[(index * length)..<(index * length + length)]))
                    var layers = LayerOffsets()
                    (layers.network, layers.transport, layers.networkType, layers.transportProtocol) = (14, 54, .ipv6, .tcp)
                    frame.layers = layers
                    frame.verdict = .toInterface(0)
                    frame.timestamp = Timestamp(seconds: 1_000, nanoseconds: 0)
                    return true
                }
            }
        }
        workload.stage.prepare(&batch)
        for index in 0..<batch.count {
            workload.stage.process(&batch[index], at: index)
            let bytes = Array(batch[index].bytes.withUnsafeBytes { $0 })
            #expect(NAT6PipelineTests.address(bytes, at: 38).high == 0xFD00 << 48, "frame \(index) not translated to its container")
            #expect(NAT6PipelineTests.checksumVerifies(bytes))
        }
        batch.recycleAll(into: workload.pool)
    }
}
