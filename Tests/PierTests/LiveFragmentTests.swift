import Foundation
import Testing

/// Reassembly live: a container behind a masquerading `pier switch` asks a host outside for a
/// 4,000-byte UDP answer, which leaves the outside host's kernel in three fragments (its MTU is
/// 1,500). Pier reassembles them before conntrack, translates the datagram back to the
/// container and sends it in its three fragments; the container's kernel, the oracle, must
/// reassemble exactly the 4,000 bytes sent (their SHA-256 compared). Namespaces, TAP devices
/// and veths start with `pf`; the test stops only the processes it started.
@Suite(.serialized, .enabled(if: Live.available, "live tests need root, ip, ping, python3 and /dev/net/tun"))
struct LiveFragmentTests {
    static let nodeIP = "192.168.78.25", routerIP = "192.168.78.1", outsideIP = "203.0.113.78"

    static let answerer = """
        import hashlib, socket, sys
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); udp.bind(("0.0.0.0", 9000))
        print("listening", flush=True)
        for _ in range(2):
            data, peer = udp.recvfrom(100)
            answer = bytes((index * 13 + 5) & 0xFF for index in range(4000))
            print("asked by", peer[0], hashlib.sha256(answer).hexdigest(), flush=True)
            udp.sendto(answer, peer)
        """

    static let asker = """
        import hashlib, socket, sys
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); udp.settimeout(3)
        udp.sendto(b"big please", (sys.argv[1], 9000))
        data, peer = udp.recvfrom(65535)
        print(len(data), peer[0], hashlib.sha256(data).hexdigest())
        """

    @Test func aContainerReceivesAFourThousandByteDatagramInFragments() throws {
        let directory = try TemporaryDirectory()
        let config = directory.path("node.yaml")
        let router = "pf-lr", outside = "pf-lo", container = "pf-l1"
        try """
            node: pf-l
            ports:
              - {name: eth0, tap: pflup, mac: 02:00:c0:a8:4e:19, ip: \(Self.nodeIP)/24, gateway: \(Self.routerIP)}
              - {name: c1, tap: pfl1}
            bridges:
              - {name: docker0, ports: [c1], ip: 172.30.78.1/24, mac: 02:42:ac:1e:4e:01}
            nat:
              masquerade:
                - {source: 172.30.78.0/24, out: eth0}
            containers:
              - {name: \(container), port: c1, ip: 172.30.78.2/24}
            """.write(toFile: config, atomically: true, encoding: .utf8)
        let cleanUp = {
            _ = try? Tool.pier("down", config)
            for ns in [router, outside] { _ = try? Live.ip("netns", "delete", ns) }
        }
        cleanUp()
        defer { cleanUp() }
        try Live.ipAll([
            ["netns", "add", router], ["netns", "add", outside],
            ["-n", router, "tuntap", "add", "dev", "pflup", "mode", "tap"],
            ["-n", router, "addr", "add", "\(Self.routerIP)/24", "dev", "pflup"],
            ["-n", router, "link", "set", "pflup", "up"],
            ["-n", router, "link", "add", "pflrv", "type", "veth", "peer", "name", "eth0", "netns", outside],
            ["-n", router, "addr", "add", "203.0.113.1/24", "dev", "pflrv"],
            ["-n", router, "link", "set", "pflrv", "up"],
            ["netns", "exec", router, "sysctl", "-qw", "net.ipv4.ip_forward=1"],
            ["-n", outside, "addr", "add", "\(Self.outsideIP)/24", "dev", "eth0"],
            ["-n", outside, "link", "set", "eth0", "up"],
            ["-n", outside, "link", "set", "lo", "up"],
            ["-n", outside, "route", "add", "default", "via", "203.0.113.1"],
        ])
        let up = try Tool.pier("up", config)
        try #require(up.status == 0, "pier up: \(up)")
        let live = try SwitchProcess(config: config, log: directory.path("switch.log"), ports: 2, namespace: router)
        defer { live.stop() }
        let server = try LiveProgram(outside, ["python3", "-c", Self.answerer], log: directory.path("answerer.log"))
        defer { server.stop() }
        #expect(Live.wait(seconds: 5) { server.output.contains("listening") }, "\(server.output)")
        let answer = try Live.exec(container, ["python3", "-c", Self.asker, Self.outsideIP])
        #expect(answer.status == 0, "\(answer)")
        let sent = server.output.split(separator: "\n").first { $0.hasPrefix("asked by") }.map { String($0.split(separator: " ").last ?? "") }
        // The whole datagram, from the outside host, with the bytes it sent.
        #expect(answer.lines == ["4000 \(Self.outsideIP) \(sent ?? "?")"], "\(answer), server: \(server.output)")
        // The outside host saw the node, not the container.
        #expect(server.output.contains("asked by \(Self.nodeIP) "), "\(server.output)")
        #expect(live.stop() == 0, "\(live.log)")
        #expect(live.log.contains("reassembled "), "\(live.log)")
    }
}
