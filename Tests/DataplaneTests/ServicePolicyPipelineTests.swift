import Testing
import Wire
import Dataplane
import PierTestSupport

/// Services' traffic policies through a whole pipeline built from a topology document, with
/// kube-proxy's iptables-mode semantics (pkg/proxy/iptables/proxier.go, pkg/proxy/topology.go):
/// `externalTrafficPolicy: Local` keeps the client's address and drops without a local
/// endpoint (pods short-circuit to every endpoint), `internalTrafficPolicy: Local`, external
/// and load-balancer IPs, terminating endpoints as a fallback, the ClientIP affinity timeout,
/// and a pod reaching a Service whose endpoint shares its bridge (DNAT without masquerade,
/// the switched reply un-DNATed) against one reaching itself (masqueraded).
struct ServicePolicyPipelineTests {
    static let node = IPv4Address(192, 168, 1, 25), outside = IPv4Address(198, 51, 100, 7)
    static let remote = IPv4Address(10, 244, 2, 7)
    static let nodeMAC = MACAddress(0x02, 0, 0xC0, 0xA8, 0x01, 0x19), gatewayMAC = MACAddress(0x02, 0, 0xC0, 0xA8, 0x01, 0x01)
    static func pod(_ n: UInt8) -> IPv4Address { IPv4Address(172, 17, 0, n) }
    static func podMAC(_ n: UInt8) -> MACAddress { MACAddress(0x02, 0x42, 0xAC, 0x11, 0, n) }

    static let topology = """
        node: node-a
        ports:
          - {name: eth0, mac: "02:00:c0:a8:01:19", ip: 192.168.1.25/24, gateway: 192.168.1.1}
          - name: c1
          - name: c2
          - name: c3
        neighbors:
          - {ip: 192.168.1.1, mac: "02:00:c0:a8:01:01"}
          - {ip: 172.17.0.2, mac: "02:42:ac:11:00:02"}
          - {ip: 172.17.0.3, mac: "02:42:ac:11:00:03"}
          - {ip: 172.17.0.4, mac: "02:42:ac:11:00:04"}
        bridges:
          - name: cni0
            ports: [c1, c2, c3]
            ip: 172.17.0.1/16
            mac: "02:42:ac:11:00:01"
            fdbStatic:
              - {mac: "02:42:ac:11:00:02", port: c1}
              - {mac: "02:42:ac:11:00:03", port: c2}
              - {mac: "02:42:ac:11:00:04", port: c3}
        nat:
          portMappings: [{proto: tcp, hostPort: 8080, to: "172.17.0.3:80"}]
        services:
          - name: local-web           # one endpoint here (c2), one on node-b
            clusterIP: 10.96.0.20
            ports: [{proto: tcp, port: 80, targetPort: 8080, nodePort: 30080}]
            externalTrafficPolicy: Local
            externalIPs: [203.0.113.10]
            status: {loadBalancer: {ingress: [{ip: 203.0.113.20}]}}
            endpoints:
              - {addresses: [172.17.0.3], nodeName: node-a}
              - {addresses: [10.244.2.7], nodeName: node-b}
          - name: remote-only         # Local, with its only endpoint on node-b
            clusterIP: 10.96.0.21
            ports: [{proto: tcp, port: 80, targetPort: 8080, nodePort: 30081}]
            externalTrafficPolicy: Local
            endpoints: [{addresses: [10.244.2.7], nodeName: node-b}]
          - name: cluster-ext         # Cluster policy on an external IP: masqueraded
            clusterIP: 10.96.0.25
            ports: [{proto: tcp, port: 80, targetPort: 8080}]
            externalIPs: [203.0.113.30]
            endpoints: [172.17.0.3]
          - name: internal-local
            clusterIP: 10.96.0.22
            ports: [{proto: tcp, port: 80, targetPort: 8080}]
            internalTrafficPolicy: Local
            endpoints:
              - {addresses: [10.244.2.7], nodeName: node-b}
              - {addresses: [172.17.0.3], nodeName: node-a}
          - name: internal-remote-only
            clusterIP: 10.96.0.23
            ports: [{proto: tcp, port: 80, targetPort: 8080}]
            internalTrafficPolicy: Local
            endpoints: [{addresses: [10.244.2.7], nodeName: node-b}]
          - name: draining            # no ready endpoint left: the serving, terminating one
            clusterIP: 10.96.0.24
            ports: [{proto: tcp, port: 80, targetPort: 8080}]
            endpoints:
              - {addresses: [172.17.0.3], conditions: {ready: false, serving: true, terminating: true}}
              - {addresses: [172.17.0.4], conditions: {ready: false, serving: false, terminating: true}}
          - name: rolling             # a ready endpoint wins over a terminating one
            clusterIP: 10.96.0.26
            ports: [{proto: tcp, port: 80, targetPort: 8080}]
            endpoints:
              - {addresses: [172.17.0.3], conditions: {ready: false, serving: true, terminating: true}}
              - {addresses: [172.17.0.4], conditions: {ready: true}}
          - name: sticky
            clusterIP: 10.96.0.27
            ports: [{proto: tcp, port: 80, targetPort: 8080}]
            endpoints: [172.17.0.3, 172.17.0.4, 10.244.2.7]
            sessionAffinity: ClientIP
            sessionAffinityConfig: {clientIP: {timeoutSeconds: 60}}
          - name: self                # c1 is the only endpoint: c1 reaching it is hairpin
            clusterIP: 10.96.0.28
            ports: [{proto: tcp, port: 80, targetPort: 8080}]
            endpoints: [172.17.0.2]
        """

    /// What a test reads of a frame that left: its port and addresses and ports.
    struct Seen: Equatable, CustomStringConvertible {
        var port: String
        var source: IPv4Address, sourcePort: UInt16
        var destination: IPv4Address, destinationPort: UInt16
        var description: String { "\(port): \(source):\(sourcePort) > \(destination):\(destinationPort)" }
    }

    static func seen(_ output: PipelineHarness.Output) -> Seen {
        let b = output.bytes
        func u32(_ at: Int) -> UInt32 { UInt32(b[at]) << 24 | UInt32(b[at + 1]) << 16 | UInt32(b[at + 2]) << 8 | UInt32(b[at + 3]) }
        func u16(_ at: Int) -> UInt16 { UInt16(b[at]) << 8 | UInt16(b[at + 1]) }
        return Seen(port: output.portName, source: IPv4Address(rawValue: u32(26)), sourcePort: u16(34),
                    destination: IPv4Address(rawValue: u32(30)), destinationPort: u16(36))
    }

    /// A SYN from the outside host (through the gateway) to `destination`:`port`.
    static func fromOutside(_ destination: IPv4Address, _ port: UInt16, sourcePort: UInt16) -> [UInt8] {
        Packets.tcp(outside, sourcePort, destination, port, flags: .syn, sourceMAC: gatewayMAC, destinationMAC: nodeMAC)
    }

    /// A SYN from pod `n` (through its gateway, cni0) to `destination`:`port`.
    static func fromPod(_ n: UInt8, _ destination: IPv4Address, _ port: UInt16, sourcePort: UInt16) -> [UInt8] {
        Packets.tcp(pod(n), sourcePort, destination, port, flags: .syn, sourceMAC: podMAC(n), destinationMAC: Packets.bridgeMAC)
    }

    /// Feeds one frame into `port` at `seconds`; what left.
    static func send(_ harness: PipelineHarness, _ bytes: [UInt8], into port: String, at seconds: Double) -> [Seen] {
        let out = harness.feed(bytes, into: port, at: seconds)
        #expect(out.allSatisfy { Packets.checksumsVerify($0.bytes) })
        return out.map(seen)
    }

    @Test func externalLocalReachesOnlyThisNodesEndpointAndKeepsTheClientAddress() throws {
        let harness = try PipelineHarness(topology: Self.topology)
        // Node port, external IP, load-balancer IP: each connection to c2, from the client itself.
        for (index, (address, port)) in [(Self.node, UInt16(30080)), (IPv4Address(203, 0, 113, 10), 80),
                                          (IPv4Address(203, 0, 113, 20), 80)].enumerated() {
            for connection in 0..<4 {
                let sourcePort = UInt16(40_000 + index * 10 + connection)
                let out = Self.send(harness, Self.fromOutside(address, port, sourcePort: sourcePort), into: "eth0", at: 1)
                #expect(out == [Seen(port: "c2", source: Self.outside, sourcePort: sourcePort, destination: Self.pod(3), destinationPort: 8080)])
            }
        }
        // c2's answer leaves as the node port.
        let answer = Packets.tcp(Self.pod(3), 8080, Self.outside, 40_000, flags: [.syn, .ack], sourceMAC: Self.podMAC(3),
                                 destinationMAC: Packets.bridgeMAC)
        #expect(Self.send(harness, answer, into: "c2", at: 2)
            == [Seen(port: "eth0", source: Self.node, sourcePort: 30080, destination: Self.outside, destinationPort: 40_000)])
        #expect(harness.counters.value(.sourceNAT) == 0)
    }

    @Test func externalLocalWithoutALocalEndpointDropsButPodsShortCircuitToTheCluster() throws {
        let harness = try PipelineHarness(topology: Self.topology)
        // From outside: dropped silently (kube-proxy's DROP "has no local endpoints"), no ICMP.
        #expect(Self.send(harness, Self.fromOutside(Self.node, 30081, sourcePort: 41_000), into: "eth0", at: 1).isEmpty)
        #expect(harness.counters.dropped(.serviceNoLocalEndpoints) == 1)
        #expect(harness.counters.value(.icmpErrorsSent) == 0)
        // From a pod on this node: "pod traffic for external destinations" goes to the
        // cluster-wide endpoint, not masqueraded.
        #expect(Self.send(harness, Self.fromPod(2, Self.node, 30081, sourcePort: 41_001), into: "c1", at: 2)
            == [Seen(port: "eth0", source: Self.pod(2), sourcePort: 41_001, destination: Self.remote, destinationPort: 8080)])
    }

    @Test func clusterPolicyOnAnExternalIPMasquerades() throws {
        let harness = try PipelineHarness(topology: Self.topology)
        let out = Self.send(harness, Self.fromOutside(IPv4Address(203, 0, 113, 30), 80, sourcePort: 42_000), into: "eth0", at: 1)
        #expect(out == [Seen(port: "c2", source: Self.pod(1), sourcePort: 42_000, destination: Self.pod(3), destinationPort: 8080)])
    }

    @Test func internalLocalUsesOnlyThisNodesEndpointsAndDropsWithoutOne() throws {
        let harness = try PipelineHarness(topology: Self.topology)
        for connection in 0..<4 {
            let sourcePort = UInt16(43_000 + connection)
            #expect(Self.send(harness, Self.fromPod(4, IPv4Address(10, 96, 0, 22), 80, sourcePort: sourcePort), into: "c3", at: 1)
                == [Seen(port: "c2", source: Self.pod(4), sourcePort: sourcePort, destination: Self.pod(3), destinationPort: 8080)])
        }
        #expect(Self.send(harness, Self.fromPod(4, IPv4Address(10, 96, 0, 23), 80, sourcePort: 43_100), into: "c3", at: 2).isEmpty)
        #expect(harness.counters.dropped(.serviceNoLocalEndpoints) == 1)
        #expect(harness.counters.dropped(.serviceNoEndpoints) == 0)
    }

    @Test func terminatingEndpointsServeOnlyWhenNoReadyOneIsLeft() throws {
        let harness = try PipelineHarness(topology: Self.topology)
        for connection in 0..<3 {
            let draining = Self.send(harness, Self.fromPod(2, IPv4Address(10, 96, 0, 24), 80, sourcePort: UInt16(44_000 + connection)),
                                     into: "c1", at: 1)
            #expect(draining.map(\.destination) == [Self.pod(3)])  // serving and terminating; .4 is not serving
            let rolling = Self.send(harness, Self.fromPod(2, IPv4Address(10, 96, 0, 26), 80, sourcePort: UInt16(44_100 + connection)),
                                    into: "c1", at: 1)
            #expect(rolling.map(\.destination) == [Self.pod(4)])  // the ready one
        }
    }

    @Test func clientIPAffinityLastsItsTimeoutSinceTheLastConnection() throws {
        let harness = try PipelineHarness(topology: Self.topology)
        let sticky = IPv4Address(10, 96, 0, 27)
        func endpoint(_ sourcePort: UInt16, at seconds: Double) -> IPv4Address? {
            Self.send(harness, Self.fromPod(2, sticky, 80, sourcePort: sourcePort), into: "c1", at: seconds).first?.destination
        }
        let first = try #require(endpoint(45_000, at: 1))
        #expect(endpoint(45_001, at: 50) == first)   // 49 s idle: kept
        #expect(endpoint(45_002, at: 109) == first)  // 59 s since the last one: kept
        #expect(endpoint(45_003, at: 170) != first)  // 61 s idle: the timeout passed, the next in turn
    }

    @Test func aPodReachingAServiceOnItsOwnBridgeIsDNATedAndTheSwitchedReplyUnDNATed() throws {
        let harness = try PipelineHarness(topology: Self.topology)
        let web = IPv4Address(10, 96, 0, 25)
        // c1 to the Service: at c2 (its endpoint on the same bridge) from c1's own address,
        // bridged as br_netfilter does: c2's MAC, c1's MAC and TTL kept (not routed).
        let syn = Self.fromPod(2, web, 80, sourcePort: 46_000)
        let there = harness.feed(syn, into: "c1", at: 1)
        #expect(there.map(Self.seen) == [Seen(port: "c2", source: Self.pod(2), sourcePort: 46_000, destination: Self.pod(3), destinationPort: 8080)])
        #expect(there.first.map { Array($0.bytes[0..<12]) } == Self.podMAC(3).octets + Self.podMAC(2).octets)
        #expect(there.first?.bytes[22] == 64)
        // c2 answers c1 directly (same subnet): switched, and un-DNATed on the way.
        let answer = Packets.tcp(Self.pod(3), 8080, Self.pod(2), 46_000, flags: [.syn, .ack], sourceMAC: Self.podMAC(3),
                                 destinationMAC: Self.podMAC(2))
        let back = harness.feed(answer, into: "c2", at: 2)
        #expect(back.map(Self.seen) == [Seen(port: "c1", source: web, sourcePort: 80, destination: Self.pod(2), destinationPort: 46_000)])
        #expect(back.allSatisfy { Packets.checksumsVerify($0.bytes) })
        // Switched, not routed: the MACs and TTL are c2's.
        #expect(back.first.map { Array($0.bytes[0..<12]) } == Array(answer[0..<12]))
        #expect(back.first?.bytes[22] == answer[22])
        // The connection walked on: c1's ACK through the gateway establishes it.
        let ack = Packets.tcp(Self.pod(2), 46_000, web, 80, flags: .ack, sourceMAC: Self.podMAC(2), destinationMAC: Packets.bridgeMAC)
        #expect(Self.send(harness, ack, into: "c1", at: 3).map(\.port) == ["c2"])
        #expect(harness.pipeline.conntrackLines().first?.contains("ESTABLISHED") == true)
        #expect(harness.counters.value(.sourceNAT) == 0)
        // Bridged traffic of no translated connection passes untouched, even from c2.
        let direct = Packets.udp(Self.pod(3), 5_000, Self.pod(2), 5_001, sourceMAC: Self.podMAC(3), destinationMAC: Self.podMAC(2))
        #expect(harness.feed(direct, into: "c2", at: 4).map(\.bytes) == [direct])
    }

    @Test func aPublishedPortReachedFromTheSameBridgeKeepsThePodAddress() throws {
        let harness = try PipelineHarness(topology: Self.topology)
        #expect(Self.send(harness, Self.fromPod(2, Self.node, 8080, sourcePort: 47_000), into: "c1", at: 1)
            == [Seen(port: "c2", source: Self.pod(2), sourcePort: 47_000, destination: Self.pod(3), destinationPort: 80)])
        let answer = Packets.tcp(Self.pod(3), 80, Self.pod(2), 47_000, flags: [.syn, .ack], sourceMAC: Self.podMAC(3),
                                 destinationMAC: Self.podMAC(2))
        #expect(Self.send(harness, answer, into: "c2", at: 2)
            == [Seen(port: "c1", source: Self.node, sourcePort: 8080, destination: Self.pod(2), destinationPort: 47_000)])
    }

    @Test func onlyAPodReachingItselfThroughItsServiceIsMasqueraded() throws {
        let harness = try PipelineHarness(topology: Self.topology)
        #expect(Self.send(harness, Self.fromPod(2, IPv4Address(10, 96, 0, 28), 80, sourcePort: 48_000), into: "c1", at: 1)
            == [Seen(port: "c1", source: IPv4Address(172, 17, 0, 1), sourcePort: 48_000, destination: Self.pod(2), destinationPort: 8080)])
        #expect(harness.counters.value(.sourceNAT) == 1)
    }
}
