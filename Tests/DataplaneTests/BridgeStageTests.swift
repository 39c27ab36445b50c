import Dataplane
import PierTestSupport
import Testing
import Wire

/// The bridge through a whole pipeline (docker0 with c1, c2, c3; StageTopology): learning,
/// flooding, forwarding, hairpin, ageing on the pipeline's clock, capacity, static entries,
/// and what it refuses to forward.
struct BridgeStageTests {
    typealias T = StageTopology

    /// A UDP datagram between two stations on docker0: from station `from` to station `to`
    /// (MACs and addresses 02:42:ac:11:00:0N and 172.17.0.N), or to `destinationMAC`.
    static func udp(from: UInt8, to: UInt8, destinationMAC: MACAddress? = nil) -> [UInt8] {
        Packets.udp(T.ip(from), 5_000, T.ip(to), 7, sourceMAC: T.mac(from), destinationMAC: destinationMAC ?? T.mac(to))
    }

    /// The learned and static entries of docker0 as (MAC, port name, static).
    static func fdb(_ harness: PipelineHarness) -> [(mac: MACAddress, port: String, isStatic: Bool)] {
        (harness.pipeline.fdbEntries().first?.entries ?? []).map { ($0.mac, harness.name(of: $0.port), $0.isStatic) }
            .sorted { $0.mac < $1.mac }
    }

    @Test func unknownUnicastFloodsAndTheSourceIsLearned() throws {
        let harness = try PipelineHarness(topology: T.yaml())
        let frame = Self.udp(from: 2, to: 3)
        let out = harness.feed(frame, into: "c1", at: 1)
        #expect(out.map(\.portName) == ["c2", "c3"], "every member but the ingress")
        #expect(out.allSatisfy { $0.bytes == frame }, "switched frames leave unchanged")
        #expect(Self.fdb(harness).map(\.mac) == [T.mac(2)])
        #expect(Self.fdb(harness).first?.port == "c1")
        #expect(harness.events == ["fdb-learned": 1, "flooded": 1])
        #expect(harness.drops.isEmpty)
    }

    @Test func aKnownStationGetsItsFramesOnItsPortOnly() throws {
        let harness = try PipelineHarness(topology: T.yaml())
        harness.feed(Self.udp(from: 2, to: 3), into: "c1", at: 1)
        harness.feed(Self.udp(from: 3, to: 2), into: "c2", at: 2)
        harness.drainOutbound()
        // Both are known now: each direction goes to one port.
        let forward = Self.udp(from: 2, to: 3), back = Self.udp(from: 3, to: 2)
        #expect(harness.feed(forward, into: "c1", at: 3).map { [$0.portName: $0.bytes] } == [["c2": forward]])
        #expect(harness.feed(back, into: "c2", at: 4).map { [$0.portName: $0.bytes] } == [["c1": back]])
        #expect(harness.events["fdb-learned"] == 2)
        #expect(harness.events["flooded"] == 1, "only the first frame, before c2's station was known")
    }

    @Test func broadcastFloodsToEveryOtherMember() throws {
        let harness = try PipelineHarness(topology: T.yaml())
        // c2's station learned first: a broadcast floods regardless.
        harness.feed(Self.udp(from: 3, to: 2), into: "c2", at: 1)
        harness.drainOutbound()
        let request = Packets.arp(.request, senderMAC: T.mac(2), senderIP: T.ip(2), targetIP: T.ip(3))
        let out = harness.feed(request, into: "c1", at: 2)
        #expect(out.map(\.portName) == ["c2", "c3"])
        #expect(out.allSatisfy { $0.bytes == request })
        #expect(harness.events["arp-replies-sent"] == nil, "172.17.0.3 is not the bridge's address")
    }

    @Test func moveFollowsAStationToAnotherPort() throws {
        let harness = try PipelineHarness(topology: T.yaml())
        harness.feed(Self.udp(from: 2, to: 3), into: "c1", at: 1)
        harness.feed(Self.udp(from: 2, to: 3), into: "c3", at: 2)
        #expect(Self.fdb(harness).first?.port == "c3")
        #expect(harness.events["fdb-moved"] == 1)
        harness.drainOutbound()
        harness.feed(Self.udp(from: 3, to: 2), into: "c2", at: 3)
        #expect(harness.drainOutbound().map(\.portName) == ["c3"])
    }

    @Test(arguments: [false, true])
    func aFrameForAStationBehindItsIngressPortNeedsHairpin(_ hairpin: Bool) throws {
        let harness = try PipelineHarness(topology: T.yaml(hairpin: hairpin))
        harness.feed(Self.udp(from: 2, to: 3), into: "c1", at: 1)
        harness.drainOutbound()
        // Station 4, also behind c1, to station 2.
        let frame = Self.udp(from: 4, to: 2)
        let out = harness.feed(frame, into: "c1", at: 2)
        if hairpin {
            #expect(out.map(\.portName) == ["c1"])
            #expect(out.first?.bytes == frame)
            #expect(harness.drops.isEmpty)
        } else {
            #expect(out.isEmpty)
            #expect(harness.drops == ["hairpin": 1])
        }
    }

    @Test func stationsAgeOutOnThePipelineClock() throws {
        let harness = try PipelineHarness(topology: T.yaml(ageing: 10))
        harness.feed(Self.udp(from: 2, to: 3), into: "c1", at: 100)
        harness.drainOutbound()
        // 9 s later station 2 is still known: one port.
        harness.feed(Self.udp(from: 3, to: 2), into: "c2", at: 109)
        #expect(harness.drainOutbound().map(\.portName) == ["c1"])
        // 11 s after it was last seen it is forgotten: the frame floods, and the table drops it.
        harness.feed(Self.udp(from: 3, to: 2), into: "c2", at: 111)
        #expect(harness.drainOutbound().map(\.portName) == ["c1", "c3"])
        #expect(Self.fdb(harness).map(\.mac) == [T.mac(3)], "only station 3, refreshed at 111 s")
    }

    @Test func aFullTableForwardsButDoesNotLearn() throws {
        let harness = try PipelineHarness(topology: T.yaml(capacity: 2))
        harness.feed(Self.udp(from: 2, to: 9), into: "c1", at: 1)
        harness.feed(Self.udp(from: 3, to: 9), into: "c2", at: 2)
        harness.feed(Self.udp(from: 4, to: 2), into: "c3", at: 3)
        #expect(harness.events["fdb-learned"] == 2)
        #expect(harness.events["fdb-full"] == 1)
        #expect(Self.fdb(harness).map(\.mac) == [T.mac(2), T.mac(3)])
        harness.drainOutbound()
        // Frames for station 4 flood: it was never learned.
        harness.feed(Self.udp(from: 2, to: 4), into: "c1", at: 4)
        #expect(harness.drainOutbound().map(\.portName) == ["c2", "c3"])
    }

    @Test func staticEntriesForwardNeverMoveAndNeverAge() throws {
        let harness = try PipelineHarness(topology: T.yaml(ageing: 10, fdbStatic: "{mac: 02:42:ac:11:00:05, port: c3}"))
        #expect(Self.fdb(harness).map(\.mac) == [T.mac(5)])
        #expect(Self.fdb(harness).first?.isStatic == true)
        harness.feed(Self.udp(from: 2, to: 5), into: "c1", at: 1)
        #expect(harness.drainOutbound().map(\.portName) == ["c3"], "known from the start: no flood")
        // A frame claiming station 5 from c2 does not move it.
        harness.feed(Self.udp(from: 5, to: 2), into: "c2", at: 2)
        #expect(harness.events["fdb-moved"] == nil)
        harness.drainOutbound()
        // Long past the ageing time it is still there and still on c3.
        harness.feed(Self.udp(from: 2, to: 5), into: "c1", at: 500)
        #expect(harness.drainOutbound().map(\.portName) == ["c3"])
        #expect(Self.fdb(harness).first { $0.mac == T.mac(5) }?.port == "c3")
    }

    /// IEEE 802.1D reserved group addresses (STP, pause, 802.1X, LLDP, ...) are never
    /// forwarded, as the Linux bridge treats them; 01:80:c2:00:00:10 is outside the block.
    @Test(arguments: [0x00, 0x01, 0x02, 0x03, 0x0E, 0x0F] as [UInt8])
    func reservedGroupAddressesAreNotForwarded(_ last: UInt8) throws {
        let harness = try PipelineHarness(topology: T.yaml())
        let out = harness.feed(Self.udp(from: 2, to: 3, destinationMAC: MACAddress(0x01, 0x80, 0xC2, 0, 0, last)), into: "c1", at: 1)
        #expect(out.isEmpty)
        #expect(harness.drops == ["reserved-group-address": 1])
        #expect(Self.fdb(harness).isEmpty, "dropped before learning")
    }

    @Test func theGroupAddressAfterTheReservedBlockFloods() throws {
        let harness = try PipelineHarness(topology: T.yaml())
        let out = harness.feed(Self.udp(from: 2, to: 3, destinationMAC: MACAddress(0x01, 0x80, 0xC2, 0, 0, 0x10)), into: "c1", at: 1)
        #expect(out.map(\.portName) == ["c2", "c3"])
        #expect(harness.drops.isEmpty)
    }

    @Test(arguments: [MACAddress.zero, .broadcast, MACAddress(0x01, 0, 0x5E, 0, 0, 1)])
    func aGroupOrZeroSourceIsNeitherLearnedNorForwarded(_ source: MACAddress) throws {
        let harness = try PipelineHarness(topology: T.yaml())
        let frame = Packets.udp(T.ip(2), 5_000, T.ip(3), 7, sourceMAC: source, destinationMAC: T.mac(3))
        #expect(harness.feed(frame, into: "c1", at: 1).isEmpty)
        #expect(harness.drops == ["invalid-source-mac": 1])
        #expect(Self.fdb(harness).isEmpty)
    }
}
