import Testing
@testable import Dataplane
import Wire

/// Linux's limits on the ICMP errors a node sends, on the pipeline's clock: per destination a
/// burst of six then one a second (inet_peer_xrlim_allow), and for all destinations together
/// a burst of 50 refilled at 1,000 a second (icmp_global_allow).
struct ICMPRateLimitTests {
    struct Errors: FrameSink {
        var count = 0
        mutating func send(_ frame: borrowing Frame, to port: PortID) {
            let bytes = frame.bytes
            if bytes.u16(at: EthernetHeader.Field.etherType) == 0x0800, bytes.u8(at: 14 + 9) == 1,
               bytes.u8(at: 34) == ICMPv4Type.timeExceeded.rawValue { count += 1 }
        }
    }

    /// TTL-1 packets from `sources` (one each, in order) at `start` plus `spacing` each.
    static func send(_ pipeline: Pipeline, from sources: [IPv4Address], start: Int64, spacing: Int64, into sink: inout Errors) {
        HoldQueueTests.sendSYNs(pipeline, sources.map { ($0, IPv4Address(172, 17, 0, 9)) }, ttl: 1,
                                start: start, spacing: spacing, into: &sink)
    }

    /// 100 senders from 172.17.`block`.0 on.
    static func senders(_ block: UInt8) -> [IPv4Address] {
        (0..<100).map { IPv4Address(rawValue: IPv4Address(172, 17, block, 0).rawValue + UInt32($0)) }
    }

    @Test func oneSenderGetsSixThenOneASecond() {
        let pipeline = HoldQueueTests.pipeline()
        var sink = Errors()
        let sender = IPv4Address(172, 17, 0, 2)
        Self.send(pipeline, from: Array(repeating: sender, count: 20), start: 1_000_000_000_000, spacing: 5_000_000, into: &sink)
        #expect(sink.count == 6)
        #expect(pipeline.counters.value(.icmpErrorsRateLimited) == 14)
        #expect(pipeline.counters.dropped(.ttlExceeded) == 20)
        // A second later the sender has earned one more.
        Self.send(pipeline, from: [sender, sender], start: 1_001_100_000_000, spacing: 1_000_000, into: &sink)
        #expect(sink.count == 7)
    }

    /// One sender's flood spends only the global credit of the errors it is sent (Linux 6.12's
    /// order): within one 20 ms refill window, 20 packets from it and then 50 from others get
    /// 6 and 44 errors; taking credit first, its 20 would have left the others 30.
    @Test func aFloodingSenderSpendsOnlyWhatItIsSent() {
        let pipeline = HoldQueueTests.pipeline()
        var sink = Errors()
        Self.send(pipeline, from: Array(repeating: IPv4Address(172, 17, 0, 2), count: 20), start: 1_000_000_000_000,
                  spacing: 100_000, into: &sink)
        #expect(sink.count == 6)
        Self.send(pipeline, from: Self.senders(5).prefix(50).map { $0 }, start: 1_000_002_000_000, spacing: 10_000, into: &sink)
        #expect(sink.count == 50)
        #expect(pipeline.counters.value(.icmpErrorsRateLimited) == 20)
    }

    @Test func allSendersTogetherGetFiftyThenAThousandASecond() {
        let pipeline = HoldQueueTests.pipeline()
        var sink = Errors()
        Self.send(pipeline, from: Self.senders(2), start: 1_000_000_000_000, spacing: 10_000, into: &sink)
        #expect(sink.count == 50, "the global burst")
        #expect(pipeline.counters.value(.icmpErrorsRateLimited) == 50)
        // 30 ms later, 30 more have been earned (1,000 a second)...
        Self.send(pipeline, from: Self.senders(3), start: 1_000_030_000_000, spacing: 1_000, into: &sink)
        #expect(sink.count == 80)
        // ...and after a second's quiet no more than the burst of 50.
        Self.send(pipeline, from: Self.senders(4), start: 1_001_100_000_000, spacing: 1_000, into: &sink)
        #expect(sink.count == 130)
    }
}
