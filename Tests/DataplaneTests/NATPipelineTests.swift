import PierBench
import Testing
import Wire
import Dataplane
import PierTestSupport

/// Conntrack and NAT through a whole pipeline built in code: a small MASQUERADE port range
/// runs out, a small table fills; both are counted, nothing crashes, and the connections that
/// exist keep working.
struct NATPipelineTests {
    static let eth0 = PortID(rawValue: 0), c1 = PortID(rawValue: 1)
    static let node = IPv4Address(192, 168, 1, 25), outside = IPv4Address(198, 51, 100, 7)
    static let nodeMAC = MACAddress(0x02, 0, 0xC0, 0xA8, 0x01, 0x19), gatewayMAC = MACAddress(0x02, 0, 0xC0, 0xA8, 0x01, 0x01)
    static func container(_ n: UInt8) -> IPv4Address { IPv4Address(172, 17, 0, n) }

    /// eth0 (the node IP, a default route) and docker0 with one port, c1; MASQUERADE of
    /// 172.17.0.0/16 out of eth0 over `portRange`; a table of `capacity`.
    static func pipeline(portRange: ClosedRange<UInt16> = 1_024...65_535, capacity: Int = 1_024) -> PipelineHarness {
        var config = PipelineConfig(
            ports: [PipelineConfig.Port(name: "eth0", interface: 0), PipelineConfig.Port(name: "c1", bridge: 0)],
            bridges: [PipelineConfig.Bridge(name: "docker0", ports: [c1], interface: 1)],
            interfaces: [
                PipelineConfig.Interface(name: "eth0", mac: nodeMAC, ipv4: [IPv4Prefix("192.168.1.25/24")!], attachment: .port(eth0)),
                PipelineConfig.Interface(name: "docker0", mac: Packets.bridgeMAC, ipv4: [IPv4Prefix("172.17.0.1/16")!], attachment: .bridge(0)),
            ],
            routes4: [PipelineConfig.Route4(prefix: IPv4Prefix("0.0.0.0/0")!, interface: 0, gateway: IPv4Address(192, 168, 1, 1))],
            neighbors4: [(IPv4Address(192, 168, 1, 1), gatewayMAC)] + (2...9).map { (container($0), Packets.containerMAC) })
        config.nat = NATRules(masquerade: [NATRules.Masquerade(source: IPv4Prefix("172.17.0.0/16")!, out: eth0)], portRange: portRange)
        config.conntrack = ConntrackSettings(capacity: capacity)
        return PipelineHarness(config: config)
    }

    /// Runs `frames` (bytes and ingress port) through `harness` one at a time (a batch each),
    /// one second apart from `start`.
    static func run(_ harness: PipelineHarness, _ frames: [([UInt8], PortID)], start: Int64 = 1_000) -> [PipelineHarness.Output] {
        frames.enumerated().flatMap { offset, frame in
            harness.feed([PipelineHarness.Input(frame.0, port: frame.1, time: Timestamp(seconds: start + Int64(offset), nanoseconds: 0))])
        }
    }

    static func fromOutside(_ bytes: [UInt8]) -> ([UInt8], PortID) { (bytes, eth0) }

    @Test func whenTheNodeRunsOutOfPortsNewConnectionsAreDroppedAndOldOnesWork() throws {
        let harness = Self.pipeline(portRange: 1_024...1_027)
        // Six containers from source port 5000 to one outside host and port: 5000, then the
        // four ports of the range, then none left.
        let syns = (2...7).map { (Packets.tcp(Self.container(UInt8($0)), 5_000, Self.outside, 443, flags: [.syn]), Self.c1) }
        let out = Self.run(harness, syns)
        #expect(out.count == 5)
        let ports = out.map { $0.bytes.withUnsafeBytes { UInt16($0[34]) << 8 | UInt16($0[35]) } }
        #expect(Set(ports) == [5_000, 1_024, 1_025, 1_026, 1_027])
        #expect(out.allSatisfy { Packets.checksumsVerify($0.bytes) })
        #expect(harness.counters.dropped(.natPortsExhausted) == 1)
        // The first connection still works: its SYN-ACK reaches the first container.
        let reply = Packets.tcp(Self.outside, 443, Self.node, 5_000, flags: [.syn, .ack],
                                sourceMAC: Self.gatewayMAC, destinationMAC: Self.nodeMAC)
        let back = Self.run(harness, [Self.fromOutside(reply)], start: 1_010)
        #expect(back.count == 1)
        #expect(back.first?.port == Self.c1)
        #expect(back.first.map { Array($0.bytes[30..<34]) } == [172, 17, 0, 2])
        #expect(back.first.map { Packets.checksumsVerify($0.bytes) } == true)
    }

    @Test func aFullTableEvictsUnassuredThenDropsAndAssuredConnectionsKeepWorking() throws {
        let harness = Self.pipeline(capacity: 2)
        // Connection A is assured (a UDP reply seen); B is not.
        let a = Packets.udp(Self.container(2), 6_000, Self.outside, 53)
        let aReply = Packets.udp(Self.outside, 53, Self.node, 6_000, sourceMAC: Self.gatewayMAC, destinationMAC: Self.nodeMAC)
        let b = Packets.udp(Self.container(3), 6_001, Self.outside, 53)
        _ = Self.run(harness, [(a, Self.c1), Self.fromOutside(aReply), (b, Self.c1)])
        #expect(harness.pipeline.conntrackCount == 2)
        // C evicts B, the unassured one.
        let c = Packets.udp(Self.container(4), 6_002, Self.outside, 53)
        let cReply = Packets.udp(Self.outside, 53, Self.node, 6_002, sourceMAC: Self.gatewayMAC, destinationMAC: Self.nodeMAC)
        let cOut = Self.run(harness, [(c, Self.c1), Self.fromOutside(cReply)], start: 1_003)
        #expect(cOut.count == 2)
        #expect(harness.counters.value(.conntrackEvicted) == 1)
        #expect(harness.pipeline.conntrackLines().allSatisfy { !$0.contains("src=172.17.0.3") })
        // Now both are assured: D is dropped and counted.
        let d = Packets.udp(Self.container(5), 6_003, Self.outside, 53)
        #expect(Self.run(harness, [(d, Self.c1)], start: 1_005).isEmpty)
        #expect(harness.counters.dropped(.conntrackFull) == 1)
        // A still translates both ways.
        let again = Self.run(harness, [(a, Self.c1), Self.fromOutside(aReply)], start: 1_006)
        #expect(again.map(\.port) == [Self.eth0, Self.c1])
        #expect(again.allSatisfy { Packets.checksumsVerify($0.bytes) })
    }

    @Test func conntrackLinesReadLikeConntrackL() {
        let harness = Self.pipeline()
        _ = Self.run(harness, [(Packets.echo(Self.container(2), Self.outside, identifier: 7), Self.c1)])
        #expect(harness.pipeline.conntrackLines() == [
            "icmp     1 30 src=172.17.0.2 dst=198.51.100.7 type=8 code=0 id=7 [UNREPLIED] src=198.51.100.7 dst=192.168.1.25 type=0 code=0 id=7",
        ])
    }

    /// Two containers ping the same host with identifier 7: the second gets another
    /// identifier; a time exceeded quoting its translated echo comes back to it with the
    /// quote translated (identifier and the quoted ICMP checksum restored).
    @Test func echoIdentifiersStayUniqueAndAnErrorAboutAnEchoIsTranslated() throws {
        let harness = Self.pipeline()
        let first = Packets.echo(Self.container(2), Self.outside, identifier: 7)
        let second = Packets.echo(Self.container(3), Self.outside, identifier: 7)
        let out = Self.run(harness, [(first, Self.c1), (second, Self.c1)])
        #expect(out.count == 2)
        let identifiers = out.map { UInt16($0.bytes[38]) << 8 | UInt16($0.bytes[39]) }
        #expect(identifiers.first == 7)
        #expect(identifiers.last != 7)
        #expect(out.allSatisfy { Packets.checksumsVerify($0.bytes) })
        let error = Packets.icmpError(type: .timeExceeded, code: 0, IPv4Address(192, 168, 1, 1), Self.node, quoting: out[1].bytes,
                                      sourceMAC: Self.gatewayMAC, destinationMAC: Self.nodeMAC)
        let back = Self.run(harness, [Self.fromOutside(error)], start: 1_005)
        #expect(back.count == 1)
        let bytes = try #require(back.first?.bytes)
        #expect(Packets.checksumsVerify(bytes))
        #expect(Array(bytes[30..<34]) == [172, 17, 0, 3])
        // The quote is the container's own echo request header (TTL aside: it was routed).
        var quote = Array(bytes[42..<70])
        var sent = Array(second[14..<42])
        (quote[8], sent[8]) = (0, 0)
        (quote[10], quote[11], sent[10], sent[11]) = (0, 0, 0, 0)
        #expect(quote == sent)
        #expect(harness.counters.value(.relatedTranslated) == 1)
    }

    /// Damaged frames of every kind NAT touches (cut short, bytes flipped anywhere, IP
    /// lengths and header lengths included) never crash the pipeline, and each is accounted
    /// for: sent, dropped under a reason, or taken by the node.
    @Test func damagedFramesNeverCrashAndAreAccountedFor() throws {
        let harness = Self.pipeline()
        let masqueradedProbe = Packets.udp(Self.node, 45_000, Self.outside, 33_434, sourceMAC: Self.nodeMAC, destinationMAC: Self.gatewayMAC)
        let bases: [([UInt8], PortID)] = [
            (Packets.tcp(Self.container(2), 40_000, Self.outside, 80, flags: [.syn]), Self.c1),
            Self.fromOutside(Packets.tcp(Self.outside, 80, Self.node, 40_000, flags: [.syn, .ack], sourceMAC: Self.gatewayMAC, destinationMAC: Self.nodeMAC)),
            (Packets.udp(Self.container(2), 45_000, Self.outside, 33_434), Self.c1),
            Self.fromOutside(Packets.icmpError(type: .destinationUnreachable, code: 3, Self.outside, Self.node, quoting: masqueradedProbe,
                                               sourceMAC: Self.gatewayMAC, destinationMAC: Self.nodeMAC)),
            (Packets.echo(Self.container(2), Self.outside, identifier: 7), Self.c1),
        ]
        var random = SplitMix64(seed: 42)
        var frames: [([UInt8], PortID)] = []
        for _ in 0..<4_000 {
            var (bytes, port) = bases[Int(random.next() % UInt64(bases.count))]
            for _ in 0..<(1 + Int(random.next() % 4)) {
                bytes[Int(random.next() % UInt64(bytes.count))] = UInt8(truncatingIfNeeded: random.next())
            }
            if random.next() % 4 == 0 { bytes = Array(bytes.prefix(14 + Int(random.next() % UInt64(bytes.count - 13)))) }
            frames.append((bytes, port))
        }
        _ = Self.run(harness, bases + frames)
        let counters = harness.counters
        let framesIn = counters.ports.reduce(0) { $0 + $1.framesIn }
        #expect(framesIn == bases.count + frames.count)
        let outcomes = counters.ports.reduce(0) { $0 + $1.framesOut } + counters.totalDrops + counters.value(.delivered)
            + counters.value(.flooded) - counters.value(.icmpErrorsSent) - counters.value(.arpRepliesSent)
        // A flood may reach several ports or none (c1 is docker0's only port): every frame
        // came out, was dropped, taken, or flooded.
        #expect(outcomes >= framesIn - harness.pipeline.heldFrames, "\(outcomes) outcomes for \(framesIn) frames")
        #expect(harness.pipeline.conntrackLines().count == harness.pipeline.conntrackCount)
    }

    /// A frame from a TAP device with offloads carries a partial TCP checksum: the pseudo-
    /// header's sum, uncomplemented, which the kernel finishes. MASQUERADE must leave the sum of
    /// the translated pseudo-header there (the oracle: the pseudo-header recomputed from the
    /// addresses that went out), not patch it as a finished checksum.
    @Test func aPartialChecksumGetsThePseudoHeaderOfTheTranslatedAddresses() throws {
        let harness = Self.pipeline()
        var bytes = Packets.tcp(Self.container(2), 5_000, Self.outside, 443, flags: [.syn])
        let tcpLength = bytes.count - 34
        let partial = InternetChecksum.pseudoHeaderSum(source: Self.container(2), destination: Self.outside,
                                                       protocol: .tcp, length: tcpLength)
        bytes[50] = UInt8(partial >> 8)
        bytes[51] = UInt8(partial & 0xFF)
        var offload = SegmentOffload()
        offload.flags = 1  // VIRTIO_NET_HDR_F_NEEDS_CSUM
        offload.checksumStart = 34
        offload.checksumOffset = 16
        let sent = harness.feed([PipelineHarness.Input(bytes, port: Self.c1, time: Timestamp(seconds: 1_000, nanoseconds: 0), offload: offload)])
        let out = try #require(sent.first)
        #expect(Array(out.bytes[26..<30]) == [192, 168, 1, 25])  // masqueraded to the node
        let expected = InternetChecksum.pseudoHeaderSum(source: Self.node, destination: Self.outside, protocol: .tcp, length: tcpLength)
        #expect(UInt16(out.bytes[50]) << 8 | UInt16(out.bytes[51]) == expected)
        let header = Array(out.bytes[14..<34])
        let headerVerifies = InternetChecksum.verify(header.span.bytes)
        #expect(headerVerifies, "the IPv4 header checksum is a finished one and stays right")
    }
}
