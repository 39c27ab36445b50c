import PierBench
import Testing
import Wire
@testable import Dataplane

/// The fast classifier (every frame that enters, and the overlay's inner frames) agrees with
/// the general decoder's: on every frame it accepts, the offsets and types are the ones
/// `classifyWithDecoder` finds and `classifyWithDecoder` keeps the frame;
/// on frames it declines, nothing changed. Checked over TCP, UDP and ICMP seeds and 20,000
/// mutations of their first 60 bytes.
struct FastClassifyTests {
    static func seeds() -> [[UInt8]] {
        let mac1 = MACAddress(0x0a, 0x58, 10, 244, 1, 5), mac2 = MACAddress(0x02, 0xAA, 0, 0, 0, 1)
        var udp = [UInt8](repeating: 0, count: 14 + 20 + 8 + 12)
        udp.withMutableRawSpan { span in
            EthernetRepr(destination: mac2, source: mac1, etherType: .ipv4).emit(into: &span)
            var ip = span.mutableSlice(from: 14)
            IPv4Repr(source: IPv4Address(10, 244, 1, 5), destination: IPv4Address(10, 244, 2, 7), protocol: .udp, payloadLength: 20).emit(into: &ip)
            var l4 = ip.mutableSlice(from: 20)
            UDPRepr(sourcePort: 5000, destinationPort: 53).emit(into: &l4, pseudoHeaderSum: nil)
        }
        var icmp = udp
        icmp[14 + 9] = 1
        return [SyntheticFrames.tcp(sourceMAC: mac1, destinationMAC: mac2, source: IPv4Address(10, 244, 1, 5),
                                    destination: IPv4Address(10, 244, 2, 7), sourcePort: 1, destinationPort: 2, payloadLength: 6),
                udp, icmp]
    }

    @Test func agreesWithTheFullClassifier() {
        let config = PipelineConfig(ports: [PipelineConfig.Port(name: "p0")])
        let classify = ClassifyStage(context: PipelineContext(config: config, pool: FramePool()))
        var random = UInt64(0x5EED)
        var accepted = 0
        for round in 0..<20_000 {
            let seeds = Self.seeds()
            var bytes = seeds[round % seeds.count]
            if round >= seeds.count {
                for _ in 0..<(1 + round % 3) {
                    random = random &* 6364136223846793005 &+ 1442695040888963407
                    let index = Int(random >> 33) % min(60, bytes.count)
                    bytes[index] = UInt8(truncatingIfNeeded: random >> 17)
                }
                if round % 7 == 0 { bytes.removeLast(Int(random >> 40) % 20) }
            }
            var fast = Frame(bytes: bytes)
            fast.inputPort = PortID(rawValue: 0)
            var full = Frame(bytes: bytes)
            full.inputPort = PortID(rawValue: 0)
            classify.classifyWithDecoder(&full)
            if classify.classifyPlainIPv4(&fast) {
                accepted += 1
                #expect(full.verdict == .pending, "round \(round): the full classifier dropped what the fast one kept")
                #expect(fast.layers == full.layers, "round \(round)")
            } else {
                #expect(fast.layers == LayerOffsets())
            }
        }
        #expect(accepted > 1_000)
    }
}
