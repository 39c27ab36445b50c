import PierBench
import Testing
@testable import Dataplane
import PierTestSupport
import Wire

/// The route stage's hold queue for unresolved next hops: bounded per next hop (three frames)
/// and in the number of next hops (1,024, Linux's gc_thresh3), so a scan cannot grow it.
struct HoldQueueTests {
    static let c1 = PortID(rawValue: 0)
    static let bridgeMAC = MACAddress(0x02, 0x42, 0xAC, 0x11, 0, 0x01)

    /// docker0 (172.17.0.1/16) with one port, c1; no neighbours known.
    static func pipeline() -> PipelineHarness {
        PipelineHarness(config: PipelineConfig(
            ports: [PipelineConfig.Port(name: "c1", bridge: 0)],
            bridges: [PipelineConfig.Bridge(name: "docker0", ports: [c1], interface: 0)],
            interfaces: [PipelineConfig.Interface(name: "docker0", mac: bridgeMAC, ipv4: [IPv4Prefix("172.17.0.1/16")!],
                                                  attachment: .bridge(0))]))
    }

    /// SYNs from c1, one per (source, destination) pair in order, `spacing` ns apart from
    /// `start`, run through `harness` a batch (64 frames) at a time.
    static func sendSYNs(_ harness: PipelineHarness, _ pairs: [(source: IPv4Address, destination: IPv4Address)],
                         ttl: UInt8 = 64, start: Int64, spacing: Int64) {
        harness.feed(pairs.enumerated().map { index, pair in
            PipelineHarness.Input(
                SyntheticFrames.tcp(sourceMAC: MACAddress(0x02, 0x42, 0xAC, 0x11, 0, 0x02), destinationMAC: bridgeMAC,
                                    source: pair.source, destination: pair.destination,
                                    sourcePort: 40_000, destinationPort: 80, flags: [.syn], ttl: ttl),
                port: c1, time: Timestamp(nanoseconds: start + Int64(index) * spacing))
        })
    }

    @Test func aScanHoldsAtMostTheNextHopLimit() {
        let harness = Self.pipeline()
        // SYNs routed back into docker0 toward 172.17.x.y, a new next hop each.
        let pairs = (0..<(NeighborResolver.maximumPendingNextHops + 100)).map {
            (IPv4Address(172, 17, 0, 2), IPv4Address(rawValue: IPv4Address(172, 17, 1, 0).rawValue + UInt32($0)))
        }
        Self.sendSYNs(harness, pairs, start: 1_000_000_000_000, spacing: 1)
        #expect(harness.pipeline.heldFrames == NeighborResolver.maximumPendingNextHops)
        #expect(harness.counters.dropped(.neighborQueueFull) == 100)
        let arpRequests = harness.outbound.filter { $0.bytes.span.bytes.u16(at: EthernetHeader.Field.etherType) == 0x0806 }.count
        #expect(arpRequests == NeighborResolver.maximumPendingNextHops, "one request per next hop held, none for those refused")
    }
}
