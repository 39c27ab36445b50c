import Dataplane
import PierTestSupport
import Testing
import Topology
import Wire

/// A pipeline that replaces another (`pier apply`) takes over its state: learned MACs on the
/// ports that remain, connections whose translation is still valid, counters; UDP connections
/// to an endpoint that left its Service are forgotten (kube-proxy's `conntrack -D`), TCP ones
/// go on until they end, as on Linux.
struct HandoverTests {
    static let client = IPv4Address(198, 51, 100, 7)
    static let node = IPv4Address(192, 168, 1, 25)
    static let first = IPv4Address(172, 17, 0, 2), second = IPv4Address(172, 17, 0, 3)
    static let gatewayMAC = MACAddress(0x02, 0x00, 0xc0, 0xa8, 0x01, 0x01)
    static let nodeMAC = MACAddress(0x02, 0x00, 0xc0, 0xa8, 0x01, 0x19)

    /// The node with three containers' ports, and two Services (DNS over UDP, web over TCP)
    /// on node ports, whose endpoints are `endpoints`.
    static func topology(ports: [String], endpoints: [IPv4Address]) -> String {
        let list = endpoints.map(\.description).joined(separator: ", ")
        return """
        node: n
        ports:
          - {name: eth0, mac: "\(nodeMAC)", ip: 192.168.1.25/24, gateway: 192.168.1.1}
        \(ports.map { "  - {name: \($0)}" }.joined(separator: "\n"))
        neighbors:
          - {ip: 192.168.1.1, mac: "\(gatewayMAC)"}
          - {ip: 172.17.0.2, mac: "02:42:ac:11:00:02"}
          - {ip: 172.17.0.3, mac: "02:42:ac:11:00:03"}
        bridges:
          - {name: docker0, ports: [\(ports.joined(separator: ", "))], ip: 172.17.0.1/16, mac: "02:42:ac:11:00:01"}
        services:
          - {name: dns, namespace: default, clusterIP: 10.96.0.53, endpoints: [\(list)],
             ports: [{proto: udp, port: 53, targetPort: 53, nodePort: 30053}]}
          - {name: web, namespace: default, clusterIP: 10.96.0.80, endpoints: [\(list)],
             ports: [{proto: tcp, port: 80, targetPort: 8080, nodePort: 30080}]}
        """
    }

    /// The same ports numbered as the running switch numbers them (removed ports leave a gap).
    static func config(_ yaml: String, keeping slots: PortSlots?) throws -> (PipelineConfig, PortSlots) {
        let topology = try Topology.parse(yaml: yaml, file: "t.yaml")
        let numbered = slots.map { PortSlots(topology, keeping: $0) } ?? PortSlots(topology)
        return (PipelineConfig(topology, slots: numbered), numbered)
    }

    @Test func stateSurvivesAndStaleUDPIsFlushed() throws {
        let (before, slots) = try Self.config(Self.topology(ports: ["c1", "c2", "c3"], endpoints: [Self.first, Self.second]),
                                              keeping: nil)
        let harness = PipelineHarness(config: before)
        // The bridge learns a station on each container port.
        for (index, port) in ["c1", "c2", "c3"].enumerated() {
            let mac = MACAddress(0x02, 0x42, 0xac, 0x11, 0x00, UInt8(index + 2))
            harness.feed(Packets.arp(.request, senderMAC: mac, senderIP: IPv4Address(172, 17, 0, UInt8(index + 2)),
                                     targetIP: IPv4Address(172, 17, 0, 9)), into: port, at: 1)
        }
        // A UDP flow and a TCP connection from outside, both to the first endpoint.
        let udp = Packets.udp(Self.client, 5353, Self.node, 30053, sourceMAC: Self.gatewayMAC, destinationMAC: Self.nodeMAC)
        let syn = Packets.tcp(Self.client, 40000, Self.node, 30080, flags: [.syn], sourceMAC: Self.gatewayMAC, destinationMAC: Self.nodeMAC)
        harness.feed(udp, into: "eth0", at: 2)
        harness.feed(syn, into: "eth0", at: 2.1)
        #expect(harness.pipeline.conntrackLines().filter { $0.contains("src=172.17.0.2") }.count == 2)
        let receivedBefore = harness.counters.ports[Int(harness.port("c1").rawValue)].framesIn
        #expect(receivedBefore == 1)

        // The first endpoint leaves both Services and c3 leaves the node.
        let (after, kept) = try Self.config(Self.topology(ports: ["c1", "c2"], endpoints: [Self.second]), keeping: slots)
        #expect(kept.names == ["eth0", "c1", "c2", nil])
        harness.replace(with: after)

        let fdb = harness.pipeline.fdbEntries().flatMap(\.entries).map(\.mac)
        #expect(fdb.contains(MACAddress(0x02, 0x42, 0xac, 0x11, 0x00, 0x02)) && fdb.contains(MACAddress(0x02, 0x42, 0xac, 0x11, 0x00, 0x03)))
        #expect(!fdb.contains(MACAddress(0x02, 0x42, 0xac, 0x11, 0x00, 0x04)), "c3's station is forgotten with c3")
        let lines = harness.pipeline.conntrackLines()
        #expect(!lines.contains { $0.hasPrefix("udp") }, "the UDP flow to the endpoint that left is flushed")
        #expect(lines.contains { $0.hasPrefix("tcp") && $0.contains("src=172.17.0.2") }, "TCP to it goes on")
        #expect(harness.events["conntrack-flushed"] == 1)
        #expect(harness.counters.ports[Int(harness.port("c1").rawValue)].framesIn == receivedBefore)

        // The next datagram of the flow opens a connection to the endpoint that remains; the
        // TCP connection's next segment is still translated to the one that left.
        harness.drainOutbound()
        harness.feed(udp, into: "eth0", at: 3)
        let datagram = try #require(harness.drainOutbound().first)
        #expect(datagram.portName == "c1" || datagram.portName == "c2")
        #expect(IPv4Address(rawValue: datagram.bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 30, as: UInt32.self).bigEndian }) == Self.second)
        let ack = Packets.tcp(Self.client, 40000, Self.node, 30080, flags: [.ack], sourceMAC: Self.gatewayMAC, destinationMAC: Self.nodeMAC)
        harness.feed(ack, into: "eth0", at: 3.1)
        let segment = try #require(harness.drainOutbound().first)
        #expect(IPv4Address(rawValue: segment.bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 30, as: UInt32.self).bigEndian }) == Self.first)
    }
}

extension HandoverTests {
    /// A published port removed: a connection through it goes on (its conntrack entry stays, as
    /// on Linux), a new one is no longer translated (it is for the node, which takes no TCP).
    @Test func removedPortMappingStopsNewConnectionsOnly() throws {
        func topology(_ mappings: String) -> String {
            """
            node: n
            ports:
              - {name: eth0, mac: "\(Self.nodeMAC)", ip: 192.168.1.25/24, gateway: 192.168.1.1}
              - {name: c1}
            neighbors:
              - {ip: 192.168.1.1, mac: "\(Self.gatewayMAC)"}
              - {ip: 172.17.0.2, mac: "02:42:ac:11:00:02"}
            bridges:
              - {name: docker0, ports: [c1], ip: 172.17.0.1/16, mac: "02:42:ac:11:00:01"}
            nat:
              portMappings: [\(mappings)]
            """
        }
        let (before, slots) = try Self.config(topology("{proto: tcp, hostPort: 8080, to: \"172.17.0.2:80\"}"), keeping: nil)
        let harness = PipelineHarness(config: before)
        func segment(_ port: UInt16, _ flags: TCPFlags) -> [UInt8] {
            Packets.tcp(Self.client, port, Self.node, 8080, flags: flags, sourceMAC: Self.gatewayMAC, destinationMAC: Self.nodeMAC)
        }
        harness.feed(segment(41000, [.syn]), into: "eth0", at: 1)
        #expect(harness.drainOutbound().map(\.portName) == ["c1"])
        let (after, _) = try Self.config(topology(""), keeping: slots)
        harness.replace(with: after)
        harness.feed(segment(41000, [.ack]), into: "eth0", at: 2)
        #expect(harness.drainOutbound().map(\.portName) == ["c1"], "the established connection goes on")
        harness.feed(segment(41001, [.syn]), into: "eth0", at: 3)
        #expect(harness.drainOutbound().isEmpty, "a new connection to the removed port reached the container")
        #expect(harness.drops["local-delivery-unsupported"] == 1)
    }
}
