import Foundation
import Testing

/// Services' traffic policies live (issue 16): `pier switch` between two containers made by
/// `pier up` and an `outside` host behind the node's upstream router. The kernel's TCP stack
/// is the oracle: the address each server sees its client come from (`getpeername`), and
/// how a connection fails. Namespaces, TAP devices and veths start with `pt`; each test stops
/// only the processes it started, by PID.
@Suite(.serialized, .enabled(if: Live.available, "live tests need root, ip, python3 and /dev/net/tun"))
struct LivePolicyTests {
    /// The node of the NAT tests (`NATNode`: an upstream router, an outside host, pods c1–c3
    /// at 172.30.79.2–4 on docker0) with prefix `pt` and these Services: `local-web` (node port
    /// 30080, Local, one endpoint c2 here and one on another node), `remote-web` (node port
    /// 30081, Local, its only endpoint elsewhere), `pod-web` (10.96.78.12:80 to c2:8080).
    static func node(_ tag: String) throws -> NATNode {
        try NATNode(tag: tag, prefix: "pt", services: """
              - name: local-web
                clusterIP: 10.96.78.10
                ports: [{proto: tcp, port: 80, targetPort: 8080, nodePort: 30080}]
                externalTrafficPolicy: Local
                endpoints:
                  - {addresses: [172.30.79.3], nodeName: pt-\(tag)}
                  - {addresses: [10.244.9.9], nodeName: elsewhere}
              - name: remote-web
                clusterIP: 10.96.78.11
                ports: [{proto: tcp, port: 80, targetPort: 8080, nodePort: 30081}]
                externalTrafficPolicy: Local
                endpoints: [{addresses: [10.244.9.9], nodeName: elsewhere}]
              - name: pod-web
                clusterIP: \(podServiceIP)
                ports: [{proto: tcp, port: 80, targetPort: 8080}]
                endpoints: [172.30.79.3]
            """)
    }

    static let podServiceIP = "10.96.78.12"

    /// `externalTrafficPolicy: Local` from the outside host: through the node port, c2 (the
    /// one endpoint on this node) answers every connection and sees the outside host's own
    /// address; the Service whose only endpoint is on another node does not answer at all
    /// (kube-proxy's DROP, "has no local endpoints": the client times out, nothing refuses).
    @Test func externalTrafficPolicyLocalKeepsTheClientAddress() throws {
        let node = try Self.node("l")
        let live = try node.start()
        defer { live.stop() }
        let server = try node.serve(node.container(2), port: 8080, name: "c2")
        defer { server.stop() }
        let client = try node.connect(from: node.outside, to: NATNode.nodeIP, port: 30080, count: 3)
        #expect(client.finish() == 0, "\(client.output)")
        #expect(client.answers == ["c2", "c2", "c2"], "\(client.output)")
        #expect(server.peers == Array(repeating: NATNode.outsideIP, count: 3), "c2 saw \(server.peers): \(server.output)")
        let refused = try Live.exec(node.outside, ["python3", "-c", Self.attempt, NATNode.nodeIP, "30081"])
        #expect(refused.lines == ["timed out"], "\(refused)")
        #expect(live.stop() == 0, "\(live.log)")
        #expect(live.log.contains("service-no-local-endpoints"), "\(live.log)")
    }

    /// A pod reaching a Service whose endpoint shares its bridge: c2 sees c1's own address
    /// (DNAT, no masquerade), and c1 gets its answers (the switched reply un-DNATed). c2
    /// reaching itself through the same Service is masqueraded to the bridge's address.
    @Test func aPodReachingAServiceOnItsOwnBridgeKeepsItsAddress() throws {
        let node = try Self.node("b")
        let live = try node.start()
        defer { live.stop() }
        let server = try node.serve(node.container(2), port: 8080, name: "c2")
        defer { server.stop() }
        let client = try node.connect(from: node.container(1), to: Self.podServiceIP, port: 80, count: 3)
        #expect(client.finish() == 0, "\(client.output)")
        #expect(client.answers == ["c2", "c2", "c2"], "\(client.output)")
        #expect(server.peers == Array(repeating: node.address(1), count: 3), "c2 saw \(server.peers): \(server.output)")
        let conntrack = try Tool.pier("conntrack", "--node", node.name)
        let entries = conntrack.lines.filter { $0.contains("dst=\(Self.podServiceIP) ") }
        #expect(entries.count >= 3, "\(conntrack)")
        #expect(entries.allSatisfy { $0.contains(" src=\(node.address(2)) dst=\(node.address(1)) sport=8080 ") }, "\(conntrack)")
        let hairpin = try node.connect(from: node.container(2), to: Self.podServiceIP, port: 80, count: 1)
        #expect(hairpin.finish() == 0, "\(hairpin.output)")
        #expect(server.peers.last == node.gateway, "c2 to itself: \(server.peers)")
        #expect(live.stop() == 0, "\(live.log)")
    }

    /// `python3 -c ATTEMPT HOST PORT`: one connection with a 2 s timeout; prints `connected`,
    /// `refused` or `timed out`.
    static let attempt = """
        import socket, sys
        try:
            socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=2)
            print("connected")
        except ConnectionRefusedError:
            print("refused")
        except (socket.timeout, TimeoutError):
            print("timed out")
        """
}
