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
        var index = 0
        while index < sources.count {
            var batch = Batch()
            while !batch.isFull && index < sources.count {
                var frame = pipeline.context.pool.take()
                SyntheticFrames.tcp(sourceMAC: MACAddress(0x02, 0x42, 0xAC, 0x11, 0, 0x02), destinationMAC: HoldQueueTests.bridgeMAC,
                                    source: sources[index], destination: IPv4Address(172, 17, 0, 9),
                                    sourcePort: 40_000, destinationPort: 80, flags: [.syn], ttl: 1)
                    .withUnsafeBytes { frame.replaceContents(with: $0) }
                frame.inputPort = HoldQueueTests.c1
                frame.timestamp = Timestamp(nanoseconds: start + Int64(index) * spacing)
                batch.append(frame)
                index += 1
            }
            pipeline.process(&batch, into: &sink)
        }
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

    @Test func allSendersTogetherGetFiftyThenAThousandASecond() {
        let pipeline = HoldQueueTests.pipeline()
        var sink = Errors()
        let senders = (0..<100).map { IPv4Address(rawValue: IPv4Address(172, 17, 2, 0).rawValue + UInt32($0)) }
        Self.send(pipeline, from: senders, start: 1_000_000_000_000, spacing: 10_000, into: &sink)
        #expect(sink.count == 50, "the global burst")
        #expect(pipeline.counters.value(.icmpErrorsRateLimited) == 50)
        // 50 ms later, 50 more have been earned (1,000 a second).
        let others = (0..<100).map { IPv4Address(rawValue: IPv4Address(172, 17, 3, 0).rawValue + UInt32($0)) }
        Self.send(pipeline, from: others, start: 1_000_051_000_000, spacing: 1_000, into: &sink)
        #expect(sink.count == 100)
    }
}
