import Dataplane
import PierTestSupport
import Testing
import Wire

/// Forwarding between docker0 and the uplink (StageTopology): TTL and checksum, ICMP errors,
/// next hops resolved by ARP while frames wait, longest-prefix match. Forwarded frames are
/// compared with the frame Wire builds for the expected result, every checksum computed whole.
struct RouteStageTests {
    typealias T = StageTopology
    static let outside = IPv4Address(198, 51, 100, 7)

    /// A UDP datagram from container 2 (on c1) to `destination` through the gateway.
    static func fromContainer(to destination: IPv4Address, ttl: UInt8 = 64, payload: [UInt8] = Array("payload!".utf8)) -> [UInt8] {
        Packets.udp(T.ip(2), 5_000, destination, 53, payload: payload, sourceMAC: T.mac(2), destinationMAC: T.bridgeMAC, ttl: ttl)
    }

    /// The ICMP error (type, code) quoting `frame`, sent back to container 2 from the gateway:
    /// Wire's repr of its IPv4 header, its ICMP header and the quote.
    static func expectICMPError(_ bytes: [UInt8], type: ICMPv4Type, code: UInt8, quoting frame: [UInt8],
                                sourceLocation: SourceLocation = #_sourceLocation) throws {
        let span = bytes.span.bytes
        #expect(EthernetRepr(try EthernetHeader(validating: span)) == EthernetRepr(destination: T.mac(2), source: T.bridgeMAC, etherType: .ipv4),
                sourceLocation: sourceLocation)
        let header = try IPv4Header(validating: span.slice(from: EthernetHeader.length))
        let ip = IPv4Repr(header)
        #expect(ip.source == T.bridgeIP && ip.destination == T.ip(2) && ip.protocol == .icmp, sourceLocation: sourceLocation)
        #expect(Packets.checksumsVerify(bytes), "IPv4 header and ICMP checksums", sourceLocation: sourceLocation)
        let message = try ICMPv4Message(validating: span.slice(from: EthernetHeader.length + ip.headerLength))
        #expect(ICMPv4Repr(message) == ICMPv4Repr(type: type, code: code), sourceLocation: sourceLocation)
        // RFC 792: the offending IP header and the first 8 bytes of its payload, as they arrived.
        let quote = Array(bytes[(EthernetHeader.length + ip.headerLength + ICMPv4Message.headerLength)...])
        #expect(Array(quote.prefix(28)) == Array(frame[EthernetHeader.length..<(EthernetHeader.length + 28)]), sourceLocation: sourceLocation)
    }

    /// TTL minus one and the checksum patched (RFC 1624): byte for byte the datagram Wire
    /// builds with the lower TTL, from the node's MAC to the gateway's.
    @Test(arguments: [(UInt8(64), 8), (255, 8), (2, 8), (128, 1), (17, 33)])
    func forwardingDecrementsTheTTLAndPatchesTheChecksum(_ ttl: UInt8, _ payloadCount: Int) throws {
        let harness = try PipelineHarness(topology: T.yaml())
        let payload = (0..<payloadCount).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ Int(ttl)) }
        harness.feed(Self.fromContainer(to: Self.outside, ttl: ttl, payload: payload), into: "c1", at: 1)
        let out = try #require(harness.readOutbound(from: "eth0"))
        #expect(out == Packets.udp(T.ip(2), 5_000, Self.outside, 53, payload: payload, sourceMAC: T.nodeMAC,
                                   destinationMAC: T.gatewayMAC, ttl: ttl - 1))
        let header = try IPv4Header(validating: out.span.bytes.slice(from: EthernetHeader.length))
        let valid = header.isChecksumValid
        #expect(valid)
        #expect(harness.outbound.isEmpty)
        #expect(harness.events["routed"] == 1)
    }

    @Test func ttlOneGetsTimeExceededBackToTheSender() throws {
        let harness = try PipelineHarness(topology: T.yaml())
        let frame = Self.fromContainer(to: Self.outside, ttl: 1)
        harness.feed(frame, into: "c1", at: 1)
        #expect(harness.readAllOutbound(from: "eth0").isEmpty)
        let errors = harness.readAllOutbound(from: "c1")
        #expect(errors.count == 1)
        try Self.expectICMPError(try #require(errors.first), type: .timeExceeded, code: 0, quoting: frame)
        #expect(harness.drops == ["ttl-exceeded": 1])
        #expect(harness.events["icmp-errors-sent"] == 1)
    }

    @Test func noRouteGetsDestinationUnreachable() throws {
        let harness = try PipelineHarness(topology: T.yaml(gateway: false))
        let frame = Self.fromContainer(to: Self.outside)
        harness.feed(frame, into: "c1", at: 1)
        let errors = harness.drainOutbound()
        #expect(errors.map(\.portName) == ["c1"])
        try Self.expectICMPError(try #require(errors.first?.bytes), type: .destinationUnreachable, code: 0, quoting: frame)
        #expect(harness.drops == ["no-route": 1])
    }

    /// A packet from outside for container 5, whose MAC nobody configured: held, an ARP
    /// request floods docker0, and the reply releases it (to the port the reply came from).
    @Test func anUnresolvedNextHopIsAskedForAndTheFrameWaitsForTheReply() throws {
        let harness = try PipelineHarness(topology: T.yaml())
        let inbound = Packets.udp(Self.outside, 53, T.ip(5), 5_000, sourceMAC: T.gatewayMAC, destinationMAC: T.nodeMAC, ttl: 50)
        harness.feed(inbound, into: "eth0", at: 1)
        #expect(harness.pipeline.heldFrames == 1)
        let request = Packets.padded(Packets.arp(.request, senderMAC: T.bridgeMAC, senderIP: T.bridgeIP, targetIP: T.ip(5)))
        #expect(harness.drainOutbound().map { [$0.portName: $0.bytes] } == [["c1": request], ["c2": request], ["c3": request]])
        // Container 5 answers from c2: the held frame leaves by c2, TTL 49, from the bridge's MAC.
        let reply = Packets.arp(.reply, senderMAC: T.mac(5), senderIP: T.ip(5), targetMAC: T.bridgeMAC, targetIP: T.bridgeIP,
                                destinationMAC: T.bridgeMAC)
        let released = harness.feed(reply, into: "c2", at: 1.5)
        #expect(released.map(\.portName) == ["c2"])
        #expect(released.first?.bytes == Packets.udp(Self.outside, 53, T.ip(5), 5_000, sourceMAC: T.bridgeMAC, destinationMAC: T.mac(5), ttl: 49))
        #expect(harness.pipeline.heldFrames == 0)
        harness.drainOutbound()
        #expect(harness.events["held"] == 1 && harness.events["released"] == 1 && harness.events["arp-requests-sent"] == 1)
        // The next one goes straight through.
        harness.feed(inbound, into: "eth0", at: 2)
        #expect(harness.drainOutbound().map(\.portName) == ["c2"])
        #expect(harness.drops.isEmpty)
    }

    @Test func heldFramesAreDroppedWhenNoReplyComesInTime() throws {
        let harness = try PipelineHarness(topology: T.yaml())
        let inbound = Packets.udp(Self.outside, 53, T.ip(5), 5_000, sourceMAC: T.gatewayMAC, destinationMAC: T.nodeMAC)
        harness.feed(inbound, into: "eth0", at: 1)
        harness.feed(inbound, into: "eth0", at: 2)
        #expect(harness.pipeline.heldFrames == 2)
        // Past the three-second neighbour timeout, any frame moves the clock: both are dropped.
        harness.feed(Packets.udp(T.ip(2), 1, T.ip(3), 1, sourceMAC: T.mac(2), destinationMAC: T.mac(3)), into: "c1", at: 5)
        #expect(harness.pipeline.heldFrames == 0)
        #expect(harness.drops == ["neighbor-unresolved": 2])
    }

    /// 10.0.0.0/8 via 192.168.1.1 and 10.1.0.0/16 via 192.168.1.2: the longer prefix wins
    /// wherever both match; elsewhere the default route (also via 192.168.1.1) carries it.
    @Test(arguments: [(IPv4Address(10, 1, 2, 3), true), (IPv4Address(10, 1, 255, 255), true), (IPv4Address(10, 2, 0, 1), false),
                      (IPv4Address(10, 0, 255, 255), false), (IPv4Address(8, 8, 8, 8), false)])
    func theLongestPrefixWins(_ destination: IPv4Address, _ viaSecondRouter: Bool) throws {
        let secondRouterMAC = MACAddress(0x02, 0, 0xC0, 0xA8, 1, 0x02)
        var config = try PipelineHarness.config(topology: T.yaml())
        let uplink = try #require(config.ports[Int(config.port(named: "eth0")!.rawValue)].interface)
        config.routes4 += [
            PipelineConfig.Route4(prefix: IPv4Prefix("10.0.0.0/8")!, interface: uplink, gateway: IPv4Address(192, 168, 1, 1)),
            PipelineConfig.Route4(prefix: IPv4Prefix("10.1.0.0/16")!, interface: uplink, gateway: IPv4Address(192, 168, 1, 2)),
        ]
        config.neighbors4.append((IPv4Address(192, 168, 1, 2), secondRouterMAC))
        let harness = PipelineHarness(config: config)
        harness.feed(Self.fromContainer(to: destination), into: "c1", at: 1)
        let out = try #require(harness.readOutbound(from: "eth0"))
        #expect(out.span.bytes.mac(at: EthernetHeader.Field.destination) == (viaSecondRouter ? secondRouterMAC : T.gatewayMAC))
        #expect(out == Packets.udp(T.ip(2), 5_000, destination, 53, sourceMAC: T.nodeMAC,
                                   destinationMAC: viaSecondRouter ? secondRouterMAC : T.gatewayMAC, ttl: 63))
    }
}
