import Foundation
import Testing

/// A dual-stack Service live: `pier switch` with three containers made by `pier up` on one
/// bridge (10.244.80.0/24 and fd00:80::/64), c1 the client, c2 and c3 the endpoints of a
/// Service with a cluster IP of each family (10.96.80.10 and fd00:96:80::10). The client
/// reaches the Service over IPv4 and over IPv6; the kernel's TCP stacks are the oracle: which
/// endpoint answered, the address each endpoint saw its client come from (`getpeername`),
/// in the family it was reached by. Namespaces and TAP devices start with `pv`.
@Suite(.serialized, .enabled(if: Live.available, "live tests need root, ip, ping, python3 and /dev/net/tun"))
struct LiveDualStackTests {
    static let clusterIP = "10.96.80.10", clusterIP6 = "fd00:96:80::10"

    @Test func dualStackServiceOverIPv4AndIPv6() throws {
        let directory = try TemporaryDirectory()
        let config = directory.path("node.yaml")
        try """
            node: pv-ds
            ports:
              - {name: c1, tap: pvds1}
              - {name: c2, tap: pvds2}
              - {name: c3, tap: pvds3}
            bridges:
              - {name: cni0, ports: [c1, c2, c3], ip: [10.244.80.1/24, "fd00:80::1/64"], mac: 0a:58:0a:f4:50:01}
            services:
              - name: web
                clusterIPs: [\(Self.clusterIP), "\(Self.clusterIP6)"]
                ipFamilies: [IPv4, IPv6]
                ipFamilyPolicy: RequireDualStack
                ports: [{proto: tcp, port: 80, targetPort: 8080}]
                endpoints: [10.244.80.3, 10.244.80.4, "fd00:80::3", "fd00:80::4"]
            containers:
              - {name: pv-ds1, port: c1, ip: [10.244.80.2/24, "fd00:80::2/64"]}
              - {name: pv-ds2, port: c2, ip: [10.244.80.3/24, "fd00:80::3/64"]}
              - {name: pv-ds3, port: c3, ip: [10.244.80.4/24, "fd00:80::4/64"]}
            """.write(toFile: config, atomically: true, encoding: .utf8)
        _ = try? Tool.pier("down", config)
        defer { _ = try? Tool.pier("down", config) }
        let up = try Tool.pier("up", config)
        try #require(up.status == 0, "pier up: \(up)")
        let live = try SwitchProcess(config: config, log: directory.path("switch.log"), ports: 3)
        defer { live.stop() }
        for n in 1...3 {
            try Live.exec("pv-ds\(n)", ["ip", "-6", "route", "replace", "default", "via", "fd00:80::1", "dev", "eth0"])
        }
        // Duplicate address detection runs through the switch; wait until every address is usable.
        let settled = try Live.wait(seconds: 10) {
            try (1...3).allSatisfy { try Live.exec("pv-ds\($0)", ["ip", "-6", "addr", "show", "tentative"]).stdout.isEmpty }
        }
        #expect(settled, "IPv6 addresses still tentative")
        var servers: [LiveProgram] = []
        defer { for server in servers { server.stop() } }
        for n in [2, 3] {
            let server = try LiveProgram("pv-ds\(n)", ["python3", "-c", Self.dualStackServer, "8080", "c\(n)"],
                                         log: directory.path("serve-c\(n).log"))
            servers.append(server)
            #expect(Live.wait(seconds: 5) { server.output.contains("listening") }, "server c\(n): \(server.output)")
        }
        for (host, client, gateway) in [(Self.clusterIP, "10.244.80.2", "10.244.80.1"), (Self.clusterIP6, "fd00:80::2", "fd00:80::1")] {
            let before = servers.map(\.peers.count)
            let run = try LiveProgram("pv-ds1", ["python3", "-c", Scripts.namedClient, host, "80", "6"],
                                      log: directory.path("client-\(host).log"))
            #expect(run.finish() == 0, "\(host): \(run.output)\n\(live.log)")
            let answers = run.answers
            #expect(answers.filter { $0 == "c2" }.count == 3 && answers.filter { $0 == "c3" }.count == 3, "\(host): \(answers)")
            // Each endpoint saw the client in the family it was reached by: through the bridge's
            // address (Pier masquerades a Service reached from its own bridge) or, once bridged
            // traffic is tracked as kube-proxy does, the client's own address.
            let seen = zip(servers, before).flatMap { server, count in server.peers.dropFirst(count) }
            #expect(seen.count == 6 && seen.allSatisfy { $0 == gateway || $0 == client }, "\(host): endpoints saw \(seen)")
        }
        let conntrack = try Tool.pier("conntrack", "--node", "pv-ds")
        let six = conntrack.lines.filter { $0.hasPrefix("ipv6     10 tcp      6 ") && $0.contains("src=fd00:80::2 dst=\(Self.clusterIP6) ") }
        #expect(six.count == 6, "\(conntrack)")
        for entry in six {
            #expect(entry.contains("src=fd00:80::3 dst=") || entry.contains("src=fd00:80::4 dst="), "\(entry)")
        }
        #expect(conntrack.lines.filter { $0.contains("src=10.244.80.2 dst=\(Self.clusterIP) ") }.count == 6, "\(conntrack)")
        #expect(live.stop() == 0, "\(live.log)")
    }

    /// `python3 -c SERVER PORT NAME`: Scripts.namedServer on an IPv6 socket that takes IPv4
    /// too; an IPv4 client is printed as its IPv4 address (not `::ffff:a.b.c.d`).
    static let dualStackServer = """
        import socket, socketserver, sys
        name = sys.argv[2]
        class Handler(socketserver.StreamRequestHandler):
            def handle(self):
                host, port = self.client_address[:2]
                host = host[7:] if host.startswith("::ffff:") else host
                print("peer", host, port, flush=True)
                self.wfile.write(("%s %s\\n" % (name, host)).encode())
                self.wfile.flush()
                self.rfile.read()
        class Server(socketserver.ThreadingTCPServer):
            address_family = socket.AF_INET6
            allow_reuse_address = True
            daemon_threads = True
            def server_bind(self):
                self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
                super().server_bind()
        server = Server(("::", int(sys.argv[1])), Handler)
        print("listening", flush=True)
        server.serve_forever()
        """
}
