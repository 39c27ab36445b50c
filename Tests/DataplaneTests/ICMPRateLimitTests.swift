import Testing
import Dataplane
import PierTestSupport
import Wire

/// Linux's limits on the ICMP errors a node sends, on the pipeline's clock: per destination a
/// burst of six then one a second (inet_peer_xrlim_allow), and for all destinations together
/// a burst of 50 refilled at 1,000 a second (icmp_global_allow).
struct ICMPRateLimitTests {
    /// The ICMP time exceeded messages `harness` has sent so far.
    static func errors(_ harness: PipelineHarness) -> Int {
        harness.outbound.filter { output in
            let bytes = output.bytes.span.bytes
            return bytes.u16(at: EthernetHeader.Field.etherType) == 0x0800 && bytes.u8(at: 14 + 9) == 1
                && bytes.u8(at: 34) == ICMPv4Type.timeExceeded.rawValue
        }.count
    }

    /// TTL-1 packets from `sources` (one each, in order) at `start` plus `spacing` each.
    static func send(_ harness: PipelineHarness, from sources: [IPv4Address], start: Int64, spacing: Int64) {
        HoldQueueTests.sendSYNs(harness, sources.map { ($0, IPv4Address(172, 17, 0, 9)) }, ttl: 1, start: start, spacing: spacing)
    }

    /// 100 senders from 172.17.`block`.0 on.
    static func senders(_ block: UInt8) -> [IPv4Address] {
        (0..<100).map { IPv4Address(rawValue: IPv4Address(172, 17, block, 0).rawValue + UInt32($0)) }
    }

    @Test func oneSenderGetsSixThenOneASecond() {
        let harness = HoldQueueTests.pipeline()
        let sender = IPv4Address(172, 17, 0, 2)
        Self.send(harness, from: Array(repeating: sender, count: 20), start: 1_000_000_000_000, spacing: 5_000_000)
        #expect(Self.errors(harness) == 6)
        #expect(harness.counters.value(.icmpErrorsRateLimited) == 14)
        #expect(harness.counters.dropped(.ttlExceeded) == 20)
        // A second later the sender has earned one more.
        Self.send(harness, from: [sender, sender], start: 1_001_100_000_000, spacing: 1_000_000)
        #expect(Self.errors(harness) == 7)
    }

    /// One sender's flood spends only the global credit of the errors it is sent (Linux 6.12's
    /// order): within one 20 ms refill window, 20 packets from it and then 50 from others get
    /// 6 and 44 errors; taking credit first, its 20 would have left the others 30.
    @Test func aFloodingSenderSpendsOnlyWhatItIsSent() {
        let harness = HoldQueueTests.pipeline()
        Self.send(harness, from: Array(repeating: IPv4Address(172, 17, 0, 2), count: 20), start: 1_000_000_000_000,
                  spacing: 100_000)
        #expect(Self.errors(harness) == 6)
        Self.send(harness, from: Self.senders(5).prefix(50).map { $0 }, start: 1_000_002_000_000, spacing: 10_000)
        #expect(Self.errors(harness) == 50)
        #expect(harness.counters.value(.icmpErrorsRateLimited) == 20)
    }

    @Test func allSendersTogetherGetFiftyThenAThousandASecond() {
        let harness = HoldQueueTests.pipeline()
        Self.send(harness, from: Self.senders(2), start: 1_000_000_000_000, spacing: 10_000)
        #expect(Self.errors(harness) == 50, "the global burst")
        #expect(harness.counters.value(.icmpErrorsRateLimited) == 50)
        // 30 ms later, 30 more have been earned (1,000 a second)...
        Self.send(harness, from: Self.senders(3), start: 1_000_030_000_000, spacing: 1_000)
        #expect(Self.errors(harness) == 80)
        // ...and after a second's quiet no more than the burst of 50.
        Self.send(harness, from: Self.senders(4), start: 1_001_100_000_000, spacing: 1_000)
        #expect(Self.errors(harness) == 130)
    }
}
