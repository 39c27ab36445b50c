import PierBench
import Testing
import Wire
@testable import Dataplane
import PierTestSupport

/// Reassembly before conntrack and fragmenting again on output, through a whole pipeline: a
/// masqueraded container (NATPipelineTests' topology) gets a 4,000-byte UDP reply from the
/// outside in three fragments. The fragments are cut and glued by the tests' own byte
/// arithmetic (`Fragments`), so the dataplane's reassembler and fragmenter are checked
/// against an independent answer.
struct DefragTests {
    typealias NAT = NATPipelineTests
    static let payload = (0..<4_000).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 3) }

    /// A pipeline where c1 (172.17.0.2:5000) already sent a datagram to the outside host's
    /// port 53, so that the reply is translated back.
    static func masqueraded() -> PipelineHarness {
        let harness = NAT.pipeline()
        let out = NAT.run(harness, [(Packets.udp(NAT.container(2), 5_000, NAT.outside, 53), NAT.c1)])
        #expect(out.count == 1)
        return harness
    }

    /// The reply as the outside host sends it, whole.
    static func reply(payload: [UInt8] = payload) -> [UInt8] {
        Packets.udp(NAT.outside, 53, NAT.node, 5_000, payload: payload, sourceMAC: NAT.gatewayMAC, destinationMAC: NAT.nodeMAC)
    }

    /// What c1 must get once it glues the fragments: the reply translated, TTL 63, from docker0's MAC.
    static func expected(payload: [UInt8] = payload) -> [UInt8] {
        Packets.udp(NAT.outside, 53, NAT.container(2), 5_000, payload: payload, sourceMAC: Packets.bridgeMAC,
                    destinationMAC: Packets.containerMAC, ttl: 63)
    }

    static func feed(_ harness: PipelineHarness, _ frames: [[UInt8]], at seconds: Int64 = 1_010) -> [PipelineHarness.Output] {
        harness.feed(frames.map { PipelineHarness.Input($0, port: NAT.eth0, time: Timestamp(seconds: seconds, nanoseconds: 0)) })
    }

    /// Where two frames first differ (nil when equal), short enough to read in a failure.
    static func difference(_ got: [UInt8]?, _ want: [UInt8]) -> String? {
        guard let got else { return "nothing" }
        if got == want { return nil }
        let first = zip(got, want).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(got.count, want.count)
        return "\(got.count) bytes against \(want.count), first difference at \(first): \(got[first..<min(got.count, first + 8)]) against \(want[first..<min(want.count, first + 8)])"
    }

    /// True when the frame's IPv4 header checksum is right (fragments' UDP sums span them all).
    static func headerChecksumVerifies(_ bytes: [UInt8]) -> Bool {
        var copy = bytes
        Fragments.setIPv4Checksum(&copy, network: 14, headerLength: Int(bytes[14] & 0x0F) * 4)
        return copy == bytes
    }

    static func ipLengths(_ outputs: [PipelineHarness.Output]) -> [Int] {
        outputs.map { Int($0.bytes[16]) << 8 | Int($0.bytes[17]) }
    }

    @Test(arguments: [[0, 1, 2], [2, 0, 1], [1, 2, 0], [2, 1, 0]])
    func aFragmentedReplyIsTranslatedAndLeavesInTheSameFragments(order: [Int]) throws {
        let harness = Self.masqueraded()
        let pieces = Fragments.ipv4(Self.reply(), payloadSizes: [1_480, 1_480, 0])
        let out = Self.feed(harness, order.map { pieces[$0] })
        #expect(out.count == 3)
        #expect(out.allSatisfy { $0.port == NAT.c1 })
        // Linux refragments to the largest fragment's size, in offset order.
        #expect(Self.ipLengths(out) == [1_500, 1_500, 1_068])
        #expect(out.allSatisfy { Self.headerChecksumVerifies($0.bytes) })
        #expect(Self.difference(Fragments.reassemble4(out.map(\.bytes)), Self.expected()) == nil)
        #expect(harness.counters.value(.reassembled) == 1)
        #expect(harness.counters.value(.fragmented) == 1)
        #expect(harness.pipeline.defrag.table.count == 0)
    }

    @Test func fragmentsInSeparateBatchesWaitForEachOther() throws {
        let harness = Self.masqueraded()
        let pieces = Fragments.ipv4(Self.reply(), payloadSizes: [1_480, 1_480, 0])
        #expect(Self.feed(harness, [pieces[1]]).isEmpty)
        #expect(Self.feed(harness, [pieces[0]], at: 1_011).isEmpty)
        let out = Self.feed(harness, [pieces[2]], at: 1_012)
        #expect(Self.difference(Fragments.reassemble4(out.map(\.bytes)), Self.expected()) == nil)
    }

    @Test func aDuplicateIsDroppedAloneAndTheDatagramStillCompletes() throws {
        let harness = Self.masqueraded()
        let pieces = Fragments.ipv4(Self.reply(), payloadSizes: [1_480, 1_480, 0])
        let out = Self.feed(harness, [pieces[0], pieces[0], pieces[1], pieces[2]])
        #expect(harness.counters.dropped(.fragmentDuplicate) == 1)
        #expect(Self.difference(Fragments.reassemble4(out.map(\.bytes)), Self.expected()) == nil)
    }

    @Test func anOverlapDropsTheWholeDatagram() throws {
        let harness = Self.masqueraded()
        let reply = Self.reply()
        let pieces = Fragments.ipv4(reply, payloadSizes: [1_480, 1_480, 0])
        // Bytes 1000..<2480 overlap the first fragment's 0..<1480 across its edge.
        let udp = Array(reply[34...])
        let overlapping = Fragments.ipv4Fragment(reply, offset: 1_000, more: true, payload: Array(udp[1_000..<2_480]))
        let out = Self.feed(harness, [pieces[0], overlapping, pieces[1], pieces[2]])
        #expect(out.isEmpty)
        #expect(harness.counters.dropped(.fragmentOverlap) == 2)  // the one queued and the overlapping one
        #expect(harness.pipeline.defrag.table.count == 1)  // the later two started a new datagram, incomplete
        #expect(harness.counters.value(.reassembled) == 0)
    }

    @Test func inconsistentEndsDropTheDatagram() throws {
        let harness = Self.masqueraded()
        let reply = Self.reply()
        let pieces = Fragments.ipv4(reply, payloadSizes: [1_480, 1_480, 0])
        // A second last fragment that ends before the first one's end.
        let shortLast = Fragments.ipv4Fragment(reply, offset: 1_480, more: false, payload: Array(reply[(34 + 1_480)..<(34 + 1_600)]))
        let out = Self.feed(harness, [pieces[2], shortLast])
        #expect(out.isEmpty)
        #expect(harness.counters.dropped(.fragmentInconsistent) == 2)
    }

    @Test func anIncompleteDatagramTimesOutAfterThirtySeconds() throws {
        let harness = Self.masqueraded()
        let pieces = Fragments.ipv4(Self.reply(), payloadSizes: [1_480, 1_480, 0])
        #expect(Self.feed(harness, [pieces[0], pieces[1]], at: 1_010).isEmpty)
        #expect(Self.feed(harness, [pieces[2]], at: 1_040).isEmpty)  // 30 s later: the first two are gone
        #expect(harness.counters.dropped(.reassemblyTimeout) == 2)
        #expect(harness.pipeline.defrag.table.count == 1)
        // 29 s is not too late.
        let again = Self.masqueraded()
        _ = Self.feed(again, [pieces[0], pieces[1]], at: 1_001)
        #expect(Self.difference(Fragments.reassemble4(Self.feed(again, [pieces[2]], at: 1_029).map(\.bytes)), Self.expected()) == nil)
    }

    @Test func aFloodOfFirstFragmentsEvictsTheOldestAndHarmsNoEstablishedFlow() throws {
        let harness = Self.masqueraded()
        // An established TCP connection from c1.
        _ = NAT.run(harness, [(Packets.tcp(NAT.container(2), 6_000, NAT.outside, 443, flags: [.syn]), NAT.c1)], start: 1_001)
        let synAck = Packets.tcp(NAT.outside, 443, NAT.node, 6_000, flags: [.syn, .ack], sourceMAC: NAT.gatewayMAC, destinationMAC: NAT.nodeMAC)
        #expect(Self.feed(harness, [synAck], at: 1_002).count == 1)
        // 2,000 datagrams from the outside that never complete: one 1,480-byte fragment each.
        let reply = Self.reply()
        let flood = (0..<2_000).map { id in
            Fragments.ipv4Fragment(reply, offset: 0, more: true, payload: Array(reply[34..<(34 + 1_480)]), identification: UInt16(id + 1))
        }
        for start in stride(from: 0, to: flood.count, by: 64) {
            #expect(Self.feed(harness, Array(flood[start..<min(flood.count, start + 64)]), at: 1_003).isEmpty)
        }
        let table = harness.pipeline.defrag.table
        #expect(table.memoryBytes <= ReassemblyTable.memoryLimit)
        #expect(harness.counters.dropped(.reassemblyEvicted) == 2_000 - table.count)
        #expect(table.count > 400)
        // The established connection and a new complete fragmented datagram still get through.
        let ack = Packets.tcp(NAT.outside, 443, NAT.node, 6_000, flags: [.ack], sourceMAC: NAT.gatewayMAC, destinationMAC: NAT.nodeMAC)
        #expect(Self.feed(harness, [ack], at: 1_004).map(\.port) == [NAT.c1])
        let pieces = Fragments.ipv4(reply, payloadSizes: [1_480, 1_480, 0])
        #expect(Self.difference(Fragments.reassemble4(Self.feed(harness, pieces, at: 1_004).map(\.bytes)), Self.expected()) == nil)
    }

    @Test func aTinyFirstFragmentWithoutTheWholeTCPHeaderIsReassembledThenTranslated() throws {
        // c1's SYN cut after 8 bytes of TCP header (the ports only): the flags are in the second
        // fragment (RFC 1858's tiny fragment). Reassembled first, conntrack sees the SYN.
        let harness = NAT.pipeline()
        let syn = Packets.tcp(NAT.container(2), 7_000, NAT.outside, 80, flags: [.syn])
        let pieces = Fragments.ipv4(syn, payloadSizes: [8, 0])
        let out = harness.feed(pieces.map { PipelineHarness.Input($0, port: NAT.c1, time: Timestamp(seconds: 1_000, nanoseconds: 0)) })
        // 28 and 32 bytes in; out cut to the largest fragment's payload rounded down to 8 bytes.
        #expect(Self.ipLengths(out) == [28, 28, 24])
        #expect(harness.counters.value(.conntrackNew) == 1)
        let whole = try #require(Fragments.reassemble4(out.map(\.bytes)))
        #expect(Packets.checksumsVerify(whole))
        #expect(Array(whole[26..<30]) == [192, 168, 1, 25])  // masqueraded to the node's address
    }

    @Test func unfragmentedTrafficIsUntouched() throws {
        let harness = Self.masqueraded()
        let out = Self.feed(harness, [Self.reply(payload: Array(Self.payload[0..<1_000]))])
        #expect(out.count == 1)
        #expect(Self.difference(out.first?.bytes, Self.expected(payload: Array(Self.payload[0..<1_000]))) == nil)
        #expect(harness.counters.value(.reassembled) == 0)
        #expect(harness.counters.value(.fragmented) == 0)
    }
}
