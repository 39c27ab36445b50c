import Testing
import Topology

/// Names: unique where they must be, and naming something that exists wherever they refer.
struct ReferenceTests {
    static let uniqueness: [Failure] = [
        Failure("duplicate port names", """
            node: n
            ports:
              - name: c1
              - name: c2
              - name: c1
            """, line: 5, path: "ports[2].name",
            says: #"duplicate port name "c1", also ports[0].name (line 3); expected each port to have its own name"#),
        Failure("duplicate TAP devices", """
            node: n
            ports:
              - {name: c1, tap: pier-c1}
              - {name: c2, tap: pier-c1}
            """, line: 4, path: "ports[1].tap", says: #"duplicate TAP device "pier-c1", also ports[0].tap (line 3)"#),
        Failure("bridge named like a port", """
            node: n
            ports: [{name: c1}, {name: br0}]
            bridges:
              - name: br0
                ports: [c1]
            """, line: 4, path: "bridges[0].name",
            says: #""br0" is already the name of a port, ports[1].name (line 2); expected a name no port has"#),
        Failure("duplicate bridge names", """
            node: n
            ports: [{name: c1}]
            bridges:
              - {name: br0}
              - {name: br0}
            """, line: 5, path: "bridges[1].name", says: #"duplicate bridge name "br0", also bridges[0].name (line 4)"#),
        Failure("port in two bridges", """
            node: n
            ports: [{name: c1}, {name: c2}]
            bridges:
              - name: br0
                ports: [c1, c2]
              - name: br1
                ports:
                  - c2
            """, line: 8, path: "bridges[1].ports[0]",
            says: #"port "c2" is already a port of bridge br0, bridges[0].ports[1] (line 5); expected a port to join one bridge at most"#),
        Failure("port twice in one bridge", """
            node: n
            ports: [{name: c1}]
            bridges:
              - {name: br0, ports: [c1, c1]}
            """, line: 4, path: "bridges[0].ports[1]", says: #"port "c1" is listed twice"#),
        Failure("duplicate neighbor IPs", """
            node: n
            ports: [{name: p0}]
            neighbors:
              - {ip: 10.0.0.1, mac: 02:00:00:00:00:01}
              - {ip: 10.0.0.2, mac: 02:00:00:00:00:02}
              - {ip: 10.0.0.1, mac: 02:00:00:00:00:03}
            """, line: 6, path: "neighbors[2].ip",
            says: "duplicate neighbor 10.0.0.1, also neighbors[0].ip (line 4); expected each IP address once"),
        Failure("duplicate container names", """
            node: n
            ports: [{name: p0}]
            containers:
              - {name: a}
              - {name: a}
            """, line: 5, path: "containers[1].name", says: #"duplicate container name "a", also containers[0].name (line 4)"#),
        Failure("duplicate static FDB MAC", """
            node: n
            ports: [{name: c1}, {name: c2}]
            bridges:
              - name: br0
                ports: [c1, c2]
                fdbStatic:
                  - {mac: 02:00:00:00:00:01, port: c1}
                  - {mac: 02:00:00:00:00:01, port: c2}
            """, line: 8, path: "bridges[0].fdbStatic[1].mac", says: "duplicate entry for 02:00:00:00:00:01, also bridges[0].fdbStatic[0].mac (line 7)"),
    ]

    @Test(arguments: uniqueness)
    func unique(_ failure: Failure) {
        failure.check()
    }

    static let unknownNames: [Failure] = [
        Failure("bridge port", """
            node: n
            ports: [{name: c1}, {name: c2}]
            bridges:
              - name: br0
                ports: [c1, c9]
            """, line: 5, path: "bridges[0].ports[1]", says: #"unknown port "c9" (expected one of: c1, c2)"#),
        Failure("masquerade out", """
            node: n
            ports: [{name: eth0}]
            nat:
              masquerade:
                - source: 172.17.0.0/16
                  out: eth1
            """, line: 6, path: "nat.masquerade[0].out", says: #"unknown port "eth1" (expected one of: eth0)"#),
        Failure("container port", """
            node: n
            ports: [{name: c1}]
            containers:
              - {name: a, port: c2}
            """, line: 4, path: "containers[0].port", says: #"unknown port "c2" (expected one of: c1)"#),
        Failure("static FDB port", """
            node: n
            ports: [{name: c1}]
            bridges:
              - name: br0
                ports: [c1]
                fdbStatic:
                  - {mac: 02:00:00:00:00:01, port: c9}
            """, line: 7, path: "bridges[0].fdbStatic[0].port", says: #"unknown port "c9" (expected one of bridge br0's ports: c1)"#),
        Failure("static FDB port not on its bridge", """
            node: n
            ports: [{name: c1}, {name: c2}]
            bridges:
              - name: br0
                ports: [c1]
                fdbStatic:
                  - mac: 02:00:00:00:00:01
                    port: c2
            """, line: 8, path: "bridges[0].fdbStatic[0].port", says: #"port "c2" is not a port of bridge br0 (expected one of: c1)"#),
        Failure("container:X", """
            node: n
            ports: [{name: c1}]
            containers:
              - {name: a, port: c1}
              - {name: b, mode: container:z}
            """, line: 5, path: "containers[1].mode", says: #"unknown container "z" (expected container:NAME with one of: a, b)"#),
        Failure("container:itself", """
            node: n
            ports: [{name: c1}]
            containers:
              - {name: a, mode: container:a}
            """, line: 4, path: "containers[0].mode", says: "expected container:NAME naming another container"),
    ]

    @Test(arguments: unknownNames)
    func unknownName(_ failure: Failure) {
        failure.check()
    }

    static let containers: [Failure] = [
        Failure("a port for two containers", """
            node: n
            ports: [{name: c1}]
            containers:
              - {name: a, port: c1}
              - {name: b, port: c1}
            """, line: 5, path: "containers[1].port", says: #"port "c1" is already container a's, containers[0].port (line 4)"#),
        Failure("shared namespace with a port", """
            node: n
            ports: [{name: c1}, {name: c2}]
            containers:
              - {name: a, port: c1}
              - {name: b, port: c2, mode: container:a}
            """, line: 5, path: "containers[1].port", says: "a container in mode container:a has no link of its own; expected no port"),
        Failure("no network with an address", """
            node: n
            ports: [{name: c1}]
            containers:
              - name: a
                mode: none
                ip: 10.0.0.2/24
            """, line: 6, path: "containers[0].ip", says: "a container in mode none has no link of its own; expected no ip"),
        Failure("container address taken by the bridge", """
            node: n
            ports: [{name: c1}]
            bridges: [{name: br0, ports: [c1], ip: 172.17.0.1/16}]
            containers:
              - {name: a, port: c1, ip: 172.17.0.1/16}
            """, line: 5, path: "containers[0].ip", says: "address 172.17.0.1 is already used at bridges[0].ip (line 3)"),
    ]

    @Test(arguments: containers)
    func container(_ failure: Failure) {
        failure.check()
    }

    static let servicesAndNAT: [Failure] = [
        Failure("duplicate service", """
            node: n
            ports: [{name: p0}]
            services:
              - {name: web, clusterIP: 10.96.0.1, ports: [{port: 80}]}
              - {name: web, clusterIP: 10.96.0.2, ports: [{port: 80}]}
            """, line: 5, path: "services[1].name", says: "duplicate service default/web, also services[0].name (line 4)"),
        Failure("same name, other namespace, same cluster IP", """
            node: n
            ports: [{name: p0}]
            services:
              - {name: web, clusterIP: 10.96.0.1, ports: [{port: 80}]}
              - {name: web, namespace: prod, clusterIP: 10.96.0.1, ports: [{port: 80}]}
            """, line: 5, path: "services[1].clusterIP", says: "cluster IP 10.96.0.1 is already web's, services[0].clusterIP (line 4)"),
        Failure("port forwarded twice", """
            node: n
            ports: [{name: p0}]
            services:
              - name: web
                clusterIP: 10.96.0.1
                ports:
                  - {port: 80, targetPort: 8080}
                  - {port: 80, targetPort: 8081}
            """, line: 8, path: "services[0].ports[1].port", says: "tcp/80 is already forwarded at services[0].ports[0].port (line 7)"),
        Failure("node port twice", """
            node: n
            ports: [{name: p0}]
            services:
              - {name: a, clusterIP: 10.96.0.1, ports: [{port: 80, nodePort: 30080}]}
              - {name: b, clusterIP: 10.96.0.2, ports: [{port: 81, nodePort: 30080}]}
            """, line: 5, path: "services[1].ports[0].nodePort", says: "node port tcp/30080 is already taken at services[0].ports[0].nodePort (line 4)"),
        Failure("node port published too", """
            node: n
            ports: [{name: p0}]
            nat:
              portMappings: [{hostPort: 30080, to: 172.17.0.5:80}]
            services:
              - {name: a, clusterIP: 10.96.0.1, ports: [{port: 80, nodePort: 30080}]}
            """, line: 6, path: "services[0].ports[0].nodePort", says: "node port tcp/30080 is already taken at nat.portMappings[0].hostPort (line 4)"),
        Failure("host port published twice", """
            node: n
            ports: [{name: p0}]
            nat:
              portMappings:
                - {proto: udp, hostPort: 53, to: 172.17.0.5:53}
                - {proto: tcp, hostPort: 53, to: 172.17.0.5:53}
                - {proto: udp, hostPort: 53, to: 172.17.0.6:53}
            """, line: 7, path: "nat.portMappings[2].hostPort", says: "udp/53 is already published at nat.portMappings[0].hostPort (line 5)"),
    ]

    @Test(arguments: servicesAndNAT)
    func serviceOrNAT(_ failure: Failure) {
        failure.check()
    }

    static let overlay: [Failure] = [
        Failure("peer is this node", """
            node: node-a
            ports: [{name: p0}]
            overlay:
              backend: vxlan
              podCIDR: 10.244.1.0/24
              peers:
                - {node: node-a, ip: 192.168.1.2, podCIDR: 10.244.2.0/24}
            """, line: 7, path: "overlay.peers[0].node", says: #""node-a" is this node, node (line 1); expected another node"#),
        Failure("peer twice", """
            node: node-a
            ports: [{name: p0}]
            overlay:
              backend: vxlan
              podCIDR: 10.244.1.0/24
              peers:
                - {node: node-b, ip: 192.168.1.2, podCIDR: 10.244.2.0/24}
                - {node: node-c, ip: 192.168.1.2, podCIDR: 10.244.3.0/24}
            """, line: 8, path: "overlay.peers[1].ip", says: "192.168.1.2 is already the IP of node-b, overlay.peers[0].ip (line 7)"),
        Failure("VTEP MAC is the uplink's", """
            node: node-a
            ports: [{name: eth0, mac: "02:00:c0:a8:01:19", ip: 192.168.1.25/24}]
            overlay:
              backend: vxlan
              podCIDR: 10.244.1.0/24
              vtepMAC: "02:00:c0:a8:01:19"
              peers:
                - {node: node-b, ip: 192.168.1.30, podCIDR: 10.244.2.0/24}
            """, line: 6, path: "overlay.vtepMAC",
                says: #"02:00:c0:a8:01:19 is port "eth0"'s MAC, ports[0].mac (line 2); expected a MAC of its own"#),
    ]

    @Test(arguments: overlay)
    func overlayPeer(_ failure: Failure) {
        failure.check()
    }
}
