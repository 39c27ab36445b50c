import Testing
import Wire
@testable import Dataplane
import PierTestSupport

/// IPv6 reassembly on a router between two IPv6 subnets (no conntrack for IPv6 yet: the
/// datagram is reassembled and sent on in its fragments, as Linux does with nf_defrag_ipv6
/// loaded). The fragments are cut and glued by the tests' own byte arithmetic (`Fragments`).
struct DefragIPv6Tests {
    static let left = PortID(rawValue: 0), right = PortID(rawValue: 1)
    static let routerLeftMAC = MACAddress(0x02, 0, 0, 0, 0, 0x01), routerRightMAC = MACAddress(0x02, 0, 0, 0, 0, 0x02)
    static let hostMAC = MACAddress(0x02, 0, 0, 0, 0, 0x10), serverMAC = MACAddress(0x02, 0, 0, 0, 0, 0x20)
    static let host = IPv6Address("fd00:1::5")!, server = IPv6Address("fd00:2::5")!

    static func router() -> PipelineHarness {
        PipelineHarness(config: PipelineConfig(
            ports: [PipelineConfig.Port(name: "left", interface: 0), PipelineConfig.Port(name: "right", interface: 1)],
            interfaces: [
                PipelineConfig.Interface(name: "left", mac: routerLeftMAC, ipv6: [IPv6Prefix("fd00:1::1/64")!], attachment: .port(left)),
                PipelineConfig.Interface(name: "right", mac: routerRightMAC, ipv6: [IPv6Prefix("fd00:2::1/64")!], attachment: .port(right)),
            ],
            neighbors6: [(server, serverMAC), (host, hostMAC)]))
    }

    /// Ethernet + IPv6 (`nextHeader`) from host to server around `payload`, hop limit `hops`.
    static func packet(nextHeader: UInt8, payload: [UInt8], hops: UInt8 = 64, from: MACAddress = hostMAC, to: MACAddress = routerLeftMAC) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: 14 + 40)
        bytes.withMutableRawSpan { span in
            EthernetRepr(destination: to, source: from, etherType: .ipv6).emit(into: &span)
            var ip = span.mutableSlice(from: 14)
            IPv6Repr(source: host, destination: server, nextHeader: IPProtocol(rawValue: nextHeader), payloadLength: payload.count,
                     hopLimit: hops).emit(into: &ip)
        }
        return bytes + payload
    }

    static let udp: [UInt8] = {
        let data = (0..<3_000).map { UInt8(truncatingIfNeeded: $0 &* 11 &+ 1) }
        let length = 8 + data.count
        return [0x9C, 0x40, 0x00, 0x35, UInt8(length >> 8), UInt8(length & 0xFF), 0, 0] + data  // checksum not checked on the way
    }()

    static func feed(_ harness: PipelineHarness, _ frames: [[UInt8]]) -> [PipelineHarness.Output] {
        harness.feed(frames.map { PipelineHarness.Input($0, port: left, time: Timestamp(seconds: 100, nanoseconds: 0)) })
    }

    /// The payload of IPv6 fragments (after a fragment header right behind the IPv6 header), glued by offset.
    static func glued(_ frames: [[UInt8]]) -> [UInt8] {
        let pieces = frames.map { frame -> (Int, [UInt8]) in
            let offset = Int(frame[14 + 40 + 2]) << 8 | Int(frame[14 + 40 + 3]) & 0xF8
            let length = Int(frame[18]) << 8 | Int(frame[19])
            return (offset, Array(frame[(14 + 48)..<(14 + 40 + length)]))
        }
        return pieces.sorted { $0.0 < $1.0 }.flatMap(\.1)
    }

    @Test(arguments: [[0, 1, 2], [2, 0, 1]])
    func fragmentsAreReassembledAndLeaveAsTheyCame(order: [Int]) {
        let harness = Self.router()
        let pieces = Fragments.ipv6(Self.packet(nextHeader: 17, payload: Self.udp), payloadSizes: [1_448, 1_448, 0])
        let out = Self.feed(harness, order.map { pieces[$0] })
        #expect(out.map(\.port) == [Self.right, Self.right, Self.right])
        #expect(out.map(\.bytes.count) == pieces.map(\.count))
        #expect(out.allSatisfy { $0.bytes[14 + 6] == 44 && $0.bytes[14 + 40] == 17 && $0.bytes[14 + 7] == 63 })
        #expect(Self.glued(out.map(\.bytes)) == Self.udp)
        // One identification for the three, Pier's own.
        #expect(Set(out.map { Array($0.bytes[(14 + 44)..<(14 + 48)]) }).count == 1)
        #expect(harness.counters.value(.reassembled) == 1)
    }

    @Test func anOverlappingFragmentDropsTheDatagram() {
        let harness = Self.router()
        let template = Self.packet(nextHeader: 17, payload: Self.udp)
        let pieces = Fragments.ipv6(template, payloadSizes: [1_448, 1_448, 0])
        let overlapping = Fragments.ipv6Fragment(template, nextHeader: 17, offset: 1_440, more: true, payload: Array(Self.udp[1_440..<1_448 + 8]))
        #expect(Self.feed(harness, [pieces[0], overlapping, pieces[1], pieces[2]]).isEmpty)
        #expect(harness.counters.dropped(.fragmentOverlap) == 2)
    }

    @Test func aFirstFragmentWithoutTheWholeTCPHeaderIsDropped() {
        let harness = Self.router()
        let tcp = [UInt8](repeating: 0x11, count: 40)  // a 20-byte header and 20 bytes of data
        let pieces = Fragments.ipv6(Self.packet(nextHeader: 6, payload: tcp), payloadSizes: [8, 0])
        #expect(Self.feed(harness, pieces).isEmpty)
        #expect(harness.counters.dropped(.fragmentIncompleteHeader) == 1)
        #expect(harness.pipeline.defrag.table.count == 1)  // the second waits, and times out
    }

    @Test func anAtomicFragmentIsPassedOnAlone() {
        let harness = Self.router()
        let atomic = Fragments.ipv6Fragment(Self.packet(nextHeader: 17, payload: Self.udp), nextHeader: 17, offset: 0, more: false,
                                            payload: Array(Self.udp[0..<100]))
        let out = Self.feed(harness, [atomic])
        #expect(out.count == 1)
        #expect(out.first.map { Array($0.bytes[14...]) }.map { bytes in bytes[7] == 63 && Array(bytes[40...]) == Array(atomic[(14 + 40)...]) } == true)
        #expect(harness.counters.value(.atomicFragments) == 1)
        #expect(harness.pipeline.defrag.table.count == 0)
    }

    @Test func aNonLastFragmentNotAMultipleOfEightIsDropped() {
        let harness = Self.router()
        let template = Self.packet(nextHeader: 17, payload: Self.udp)
        let odd = Fragments.ipv6Fragment(template, nextHeader: 17, offset: 0, more: true, payload: Array(Self.udp[0..<1_001]))
        #expect(Self.feed(harness, [odd]).isEmpty)
        #expect(harness.counters.dropped(.fragmentInconsistent) == 1)
    }
}
