import Dataplane
import PierTestSupport
import Testing
import Wire

/// What the node answers itself (StageTopology): ARP and neighbour solicitations for its
/// addresses, ping to them; anything else for them is dropped as local-delivery-unsupported.
/// Replies are checked against frames built independently through Wire's reprs.
struct LocalStageTests {
    typealias T = StageTopology

    @Test func anARPRequestForTheGatewayIsAnsweredWithTheBridgeMAC() throws {
        let harness = try PipelineHarness(topology: T.yaml())
        let request = Packets.arp(.request, senderMAC: T.mac(2), senderIP: T.ip(2), targetIP: T.bridgeIP)
        harness.feed(request, into: "c1", at: 1)
        let reply = try #require(harness.readOutbound(from: "c1"))
        #expect(reply == Packets.padded(Packets.arp(.reply, senderMAC: T.bridgeMAC, senderIP: T.bridgeIP, targetMAC: T.mac(2),
                                                    targetIP: T.ip(2), destinationMAC: T.mac(2))))
        #expect(harness.readOutbound(from: "c1") == nil, "one reply")
        // The request is a broadcast: it also floods to the other members, unchanged.
        #expect(harness.readAllOutbound(from: "c2") == [request])
        #expect(harness.readAllOutbound(from: "c3") == [request])
        #expect(harness.events["arp-replies-sent"] == 1)
        #expect(harness.drops.isEmpty)
    }

    @Test func anARPRequestForTheNodeIPOnTheUplinkIsAnsweredWithTheUplinkMAC() throws {
        let harness = try PipelineHarness(topology: T.yaml())
        let outside = IPv4Address(192, 168, 1, 77), outsideMAC = MACAddress(0x02, 0, 0xC0, 0xA8, 1, 77)
        harness.feed(Packets.arp(.request, senderMAC: outsideMAC, senderIP: outside, targetIP: T.node), into: "eth0", at: 1)
        #expect(harness.drainOutbound().map(\.bytes) == [
            Packets.padded(Packets.arp(.reply, senderMAC: T.nodeMAC, senderIP: T.node, targetMAC: outsideMAC, targetIP: outside,
                                       destinationMAC: outsideMAC)),
        ])
        #expect(harness.events["neighbors-learned"] == 1, "a request for us teaches the sender, as Linux learns")
    }

    /// The reply is the request with MACs, addresses and type swapped, TTL 64: exactly the
    /// frame Wire builds for that reply with every checksum computed whole.
    @Test(arguments: [(T.bridgeIP, UInt16(7), UInt16(1)), (T.bridgeIP, 0xFFFF, 0xFFFF), (T.node, 0x1234, 42)])
    func pingToTheNodeIsAnsweredWithCorrectChecksums(_ address: IPv4Address, _ identifier: UInt16, _ sequence: UInt16) throws {
        let harness = try PipelineHarness(topology: T.yaml())
        let request = Packets.echo(T.ip(2), address, identifier: identifier, sequence: sequence, sourceMAC: T.mac(2),
                                   destinationMAC: T.bridgeMAC, ttl: 17)
        harness.feed(request, into: "c1", at: 1)
        let reply = try #require(harness.readOutbound(from: "c1"))
        #expect(reply == Packets.echo(address, T.ip(2), identifier: identifier, sequence: sequence, reply: true,
                                      sourceMAC: T.bridgeMAC, destinationMAC: T.mac(2)))
        #expect(Packets.checksumsVerify(reply))
        let ip = try IPv4Header(validating: reply.span.bytes.slice(from: EthernetHeader.length))
        let (valid, ttl) = (ip.isChecksumValid, ip.ttl)
        #expect(valid && ttl == 64)
        #expect(harness.outbound.isEmpty, "nothing else left")
        #expect(harness.events == ["echo-replies-sent": 1, "fdb-learned": 1], "ping to the node opens no tracked connection")
    }

    @Test func aNeighborSolicitationForTheGatewayIsAnswered() throws {
        let harness = try PipelineHarness(topology: T.yaml())
        let container = IPv6Address("fd00:17::2")!
        harness.feed(Packets.neighborSolicitation(senderMAC: T.mac(2), source: container, target: T.bridgeIP6), into: "c1", at: 1)
        let advertisement = try #require(harness.readOutbound(from: "c1"))
        let bytes = advertisement.span.bytes
        let ethernet = EthernetRepr(try EthernetHeader(validating: bytes))
        #expect(ethernet == EthernetRepr(destination: T.mac(2), source: T.bridgeMAC, etherType: .ipv6))
        let ip = IPv6Repr(try IPv6Header(validating: bytes.slice(from: EthernetHeader.length)))
        #expect(ip.source == T.bridgeIP6 && ip.destination == container && ip.nextHeader == .icmpv6 && ip.hopLimit == 255)
        let message = try ICMPv6Message(validating: bytes.slice(from: EthernetHeader.length + IPv6Header.length, count: ip.payloadLength))
        let sum = InternetChecksum.pseudoHeaderSum(source: ip.source, destination: ip.destination, protocol: .icmpv6, length: ip.payloadLength)
        let checksumValid = message.isChecksumValid(pseudoHeaderSum: sum)
        #expect(checksumValid)
        let repr = try NeighborDiscoveryRepr(message)
        #expect(repr == NeighborDiscoveryRepr(
            kind: .advertisement,
            flags: NeighborDiscoveryRepr.routerFlag | NeighborDiscoveryRepr.solicitedFlag | NeighborDiscoveryRepr.overrideFlag,
            target: T.bridgeIP6, linkLayerAddress: T.bridgeMAC))
        #expect(harness.events["neighbor-advertisements-sent"] == 1)
        #expect(harness.events["neighbors-learned"] == 1)
    }

    @Test(arguments: [(T.bridgeIP, "udp"), (T.node, "udp"), (T.bridgeIP, "tcp"), (T.node, "tcp")])
    func otherTrafficForTheNodeIsDropped(_ address: IPv4Address, _ kind: String) throws {
        let harness = try PipelineHarness(topology: T.yaml())
        let frame = kind == "udp"
            ? Packets.udp(T.ip(2), 5_000, address, 53, sourceMAC: T.mac(2), destinationMAC: T.bridgeMAC)
            : Packets.tcp(T.ip(2), 5_000, address, 22, flags: [.syn], sourceMAC: T.mac(2), destinationMAC: T.bridgeMAC)
        #expect(harness.feed(frame, into: "c1", at: 1).isEmpty)
        #expect(harness.drops == ["local-delivery-unsupported": 1])
        #expect(harness.events["icmp-errors-sent"] == nil, "no port unreachable: Pier only says it does not deliver")
    }
}
