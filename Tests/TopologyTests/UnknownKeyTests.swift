import Testing
import Topology

/// Unknown keys are errors at every level, naming the key, its line and the keys allowed.
struct UnknownKeyTests {
    static let cases: [Failure] = [
        Failure("top level", """
            node: n
            ports: [{name: p0}]
            bridge: []
            """, line: 3, path: "bridge",
            says: "unknown key (expected one of: node, ports, neighbors, bridges, nat, services, overlay, conntrack, containers)"),
        Failure("port", """
            node: n
            ports:
              - name: p0
              - name: p1
                speed: 1000
            """, line: 5, path: "ports[1].speed", says: "unknown key (expected one of: name, bridge, netns, tap, mac, ip, gateway)"),
        Failure("neighbor", """
            node: n
            ports: [{name: p0}]
            neighbors:
              - {ip: 10.0.0.1, mac: 02:00:00:00:00:01, dev: p0}
            """, line: 4, path: "neighbors[0].dev", says: "unknown key (expected one of: ip, mac)"),
        Failure("bridge", """
            node: n
            ports: [{name: p0}]
            bridges:
              - name: br0
                stp: true
            """, line: 5, path: "bridges[0].stp",
            says: "unknown key (expected one of: name, ports, ip, mac, hairpin, fdb, fdbStatic)"),
        Failure("fdb", """
            node: n
            ports: [{name: p0}]
            bridges:
              - name: br0
                ports: [p0]
                fdb:
                  size: 10
            """, line: 7, path: "bridges[0].fdb.size", says: "unknown key (expected one of: capacity, ageing)"),
        Failure("nat", """
            node: n
            ports: [{name: p0}]
            nat:
              snat: []
            """, line: 4, path: "nat.snat", says: "unknown key (expected one of: masquerade, portMappings)"),
        Failure("masquerade rule", """
            node: n
            ports: [{name: p0}]
            nat:
              masquerade:
                - {source: 10.0.0.0/8, out: p0, dest: x}
            """, line: 5, path: "nat.masquerade[0].dest", says: "unknown key (expected one of: source, out)"),
        Failure("service port", """
            node: n
            ports: [{name: p0}]
            services:
              - name: web
                clusterIP: 10.96.0.1
                ports:
                  - {port: 80, name: http}
            """, line: 7, path: "services[0].ports[0].name",
            says: "unknown key (expected one of: proto, port, targetPort, nodePort)"),
        Failure("overlay peer", """
            node: n
            ports: [{name: p0}]
            overlay:
              backend: vxlan
              podCIDR: 10.244.1.0/24
              peers:
                - node: b
                  ip: 192.168.1.2
                  podCIDR: 10.244.2.0/24
                  mac: 02:00:00:00:00:01
            """, line: 10, path: "overlay.peers[0].mac", says: "unknown key (expected one of: node, ip, podCIDR, vtepMAC, lease)"),
        Failure("conntrack timeout name", """
            node: n
            ports: [{name: p0}]
            conntrack:
              timeouts:
                tcp_established: 600
                tcp_syn: 30
            """, line: 6, path: "conntrack.timeouts.tcp_syn",
            says: "unknown key (expected one of: tcp_syn_sent, tcp_syn_recv, tcp_established, tcp_fin_wait, tcp_close_wait, tcp_last_ack, tcp_time_wait, tcp_close, udp, udp_stream, icmp)"),
        Failure("container", """
            node: n
            ports: [{name: p0}]
            containers:
              - name: c1
                image: alpine
            """, line: 5, path: "containers[0].image", says: "unknown key (expected one of: name, port, ip, mode)"),
    ]

    @Test(arguments: cases)
    func unknownKey(_ failure: Failure) {
        failure.check()
    }
}
