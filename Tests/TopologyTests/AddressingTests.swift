import Testing
import Topology

/// Subnets that must not overlap, bridge members without addresses, gateways on their link.
struct AddressingTests {
    static let overlaps: [Failure] = [
        Failure("port and port", """
            node: n
            ports:
              - {name: eth0, ip: 192.168.1.25/24}
              - {name: eth1, ip: 192.168.1.130/25}
            """, line: 4, path: "ports[1].ip",
            says: "subnet 192.168.1.130/25 overlaps 192.168.1.25/24 at ports[0].ip (line 3); expected subnets that do not overlap"),
        Failure("the same bridge prefix twice", """
            node: n
            ports: [{name: c1}, {name: c2}]
            bridges:
              - {name: br0, ports: [c1], ip: 172.17.0.1/16}
              - {name: br1, ports: [c2], ip: 172.17.0.1/16}
            """, line: 5, path: "bridges[1].ip", says: "subnet 172.17.0.1/16 overlaps 172.17.0.1/16 at bridges[0].ip (line 4)"),
        Failure("bridge and port, list forms", """
            node: n
            ports:
              - name: eth0
                ip: [fd00::1/64, 10.1.0.1/16]
              - name: c1
            bridges:
              - name: br0
                ports: [c1]
                ip:
                  - 10.1.2.1/24
            """, line: 10, path: "bridges[0].ip[0]", says: "subnet 10.1.2.1/24 overlaps 10.1.0.1/16 at ports[0].ip[1] (line 4)"),
        Failure("IPv6 port and bridge", """
            node: n
            ports: [{name: eth0, ip: "fd00::1/48"}, {name: c1}]
            bridges: [{name: br0, ports: [c1], ip: "fd00:0:0:1::1/64"}]
            """, line: 3, path: "bridges[0].ip", says: "subnet fd00:0:0:1::1/64 overlaps fd00::1/48 at ports[0].ip (line 2)"),
        Failure("pod subnet and port", """
            node: n
            ports: [{name: eth0, ip: 10.244.0.5/16}]
            overlay:
              backend: vxlan
              podCIDR: 10.244.1.0/24
            """, line: 5, path: "overlay.podCIDR", says: "subnet 10.244.1.0/24 overlaps 10.244.0.5/16 at ports[0].ip (line 2)"),
        Failure("peer's pod subnet and ours", """
            node: n
            ports: [{name: eth0}]
            overlay:
              backend: vxlan
              podCIDR: 10.244.1.0/24
              peers:
                - {node: b, ip: 192.168.1.2, podCIDR: 10.244.1.0/24}
            """, line: 7, path: "overlay.peers[0].podCIDR", says: "subnet 10.244.1.0/24 overlaps 10.244.1.0/24 at overlay.podCIDR (line 5)"),
        Failure("two peers' pod subnets", """
            node: n
            ports: [{name: eth0}]
            overlay:
              backend: vxlan
              podCIDR: 10.244.1.0/24
              peers:
                - {node: b, ip: 192.168.1.2, podCIDR: 10.244.2.0/24}
                - {node: c, ip: 192.168.1.3, podCIDR: 10.244.2.0/23}
            """, line: 8, path: "overlay.peers[1].podCIDR", says: "overlaps 10.244.2.0/24 at overlay.peers[0].podCIDR (line 7)"),
        Failure("bridge written after the peer it overlaps", """
            node: n
            ports: [{name: c1}]
            overlay:
              backend: host-gw
              podCIDR: 10.244.1.0/24
              peers: [{node: b, ip: 192.168.1.2, podCIDR: 10.244.2.0/24}]
            bridges:
              - {name: cni0, ports: [c1], ip: 10.244.2.1/24}
            """, line: 8, path: "bridges[0].ip", says: "subnet 10.244.2.1/24 overlaps 10.244.2.0/24 at overlay.peers[0].podCIDR (line 6)"),
        Failure("bridge wider than our pod subnet", """
            node: n
            ports: [{name: c1}]
            bridges: [{name: cni0, ports: [c1], ip: 10.244.0.1/16}]
            overlay: {backend: vxlan, podCIDR: 10.244.1.0/24}
            """, line: 4, path: "overlay.podCIDR", says: "subnet 10.244.1.0/24 overlaps 10.244.0.1/16 at bridges[0].ip (line 3)"),
    ]

    @Test(arguments: overlaps)
    func overlappingSubnets(_ failure: Failure) {
        failure.check()
    }

    static let links: [Failure] = [
        Failure("bridge port with an address", """
            node: n
            ports:
              - {name: c1, ip: 172.17.0.2/16}
            bridges:
              - {name: br0, ports: [c1], ip: 172.17.0.1/16}
            """, line: 3, path: "ports[0].ip",
            says: "port c1 is a port of bridge br0, bridges[0].ports[0] (line 5), and bridge ports are layer 2 only; expected no ip here"),
        Failure("bridge port with an IPv6 address", """
            node: n
            ports:
              - name: c1
                ip:
                  - "fd00::2/64"
            bridges:
              - {name: br0, ports: [c1]}
            """, line: 5, path: "ports[0].ip[0]", says: "port c1 is a port of bridge br0"),
        Failure("gateway off the port's subnet", """
            node: n
            ports:
              - {name: eth0, ip: 192.168.1.25/24, gateway: 192.168.2.1}
            """, line: 3, path: "ports[0].gateway",
            says: "gateway 192.168.2.1 is not inside any of port eth0's subnets (192.168.1.25/24); expected an address on the port's own link"),
        Failure("gateway on a port without an address of its family", """
            node: n
            ports:
              - name: eth0
                ip: "fd00::2/64"
                gateway:
                  - "fd00::1"
                  - 10.0.0.1
            """, line: 7, path: "ports[0].gateway[1]", says: "gateway 10.0.0.1 is not inside any of port eth0's subnets (it has no address)"),
        Failure("IPv6 gateway off the port's subnet", """
            node: n
            ports:
              - {name: eth0, ip: "fd00::2/64", gateway: "fd01::1"}
            """, line: 3, path: "ports[0].gateway", says: "gateway fd01::1 is not inside any of port eth0's subnets (fd00::2/64)"),
        Failure("two ports with IPv4 gateways", """
            node: n
            ports:
              - {name: eth0, ip: 192.168.1.25/24, gateway: 192.168.1.1}
              - {name: eth1, ip: 192.168.2.25/24, gateway: 192.168.2.1}
            """, line: 4, path: "ports[1].gateway", says: "a second IPv4 gateway, after ports[0].gateway (line 3)"),
        Failure("an address twice on one port", """
            node: n
            ports:
              - {name: eth0, ip: [10.0.0.1/24, 10.0.0.1/16]}
            """, line: 3, path: "ports[0].ip[1]", says: "address 10.0.0.1 is already used at ports[0].ip[0] (line 3)"),
    ]

    @Test(arguments: links)
    func link(_ failure: Failure) {
        failure.check()
    }
}
