import Testing
import Topology

/// Values that cannot be read: each error quotes what it found and says what it expected.
struct BadValueTests {
    @Test func bridgeAddressExactMessage() throws {
        let error = try #require(loadError("""
            node: n
            ports: [{name: p0}]
            bridges:
              - name: br0
                ports: [p0]
                ip: 172.17.0.300/16
            """))
        #expect(error.description
            == #"topo.yaml:6: bridges[0].ip: expected an address with a prefix length like 172.17.0.1/16, got "172.17.0.300/16""#)
    }

    static let addresses: [Failure] = [
        Failure("port address without prefix length", """
            node: n
            ports:
              - name: eth0
                ip: 192.168.1.25
            """, line: 4, path: "ports[0].ip",
            says: #"expected an address with a prefix length like 172.17.0.1/16, got "192.168.1.25""#),
        Failure("bad IPv6 in a list", """
            node: n
            ports:
              - name: eth0
                ip: [10.0.0.1/24, "fd00::zz/64"]
            """, line: 4, path: "ports[0].ip[1]", says: #"like fd00::1/64, got "fd00::zz/64""#),
        Failure("ip in block list form", """
            node: n
            ports:
              - name: eth0
                ip:
                  - 10.0.0.1/24
                  - 10.0.1.1/33
            """, line: 6, path: "ports[0].ip[1]", says: #"got "10.0.1.1/33""#),
        Failure("ip as a mapping", """
            node: n
            ports:
              - name: eth0
                ip: {address: 10.0.0.1/24}
            """, line: 4, path: "ports[0].ip", says: "expected an address with a prefix length", "got a mapping"),
        Failure("gateway", """
            node: n
            ports:
              - {name: eth0, ip: 192.168.1.25/24, gateway: 192.168.1.256}
            """, line: 3, path: "ports[0].gateway", says: #"expected an IP address like 192.168.1.1 or fd00::1, got "192.168.1.256""#),
        Failure("gateway with a prefix length", """
            node: n
            ports:
              - {name: eth0, ip: 192.168.1.25/24, gateway: 192.168.1.1/24}
            """, line: 3, path: "ports[0].gateway", says: #"got "192.168.1.1/24""#),
        Failure("two IPv4 gateways", """
            node: n
            ports:
              - name: eth0
                ip: 192.168.1.25/24
                gateway: [192.168.1.1, 192.168.1.2]
            """, line: 5, path: "ports[0].gateway[1]", says: "expected at most one IPv4 gateway"),
        Failure("neighbor ip", """
            node: n
            ports: [{name: p0}]
            neighbors:
              - {ip: 10.0.0, mac: 02:00:00:00:00:01}
            """, line: 4, path: "neighbors[0].ip", says: #"expected an IP address like 192.168.1.1 or fd00::1, got "10.0.0""#),
        Failure("cluster IP", """
            node: n
            ports: [{name: p0}]
            services:
              - {name: web, clusterIP: 10.96.0.1/12, ports: [{port: 80}]}
            """, line: 4, path: "services[0].clusterIP", says: #"expected an IP address like 10.96.0.10 or fd00:96::10, got "10.96.0.1/12""#),
        Failure("masquerade source", """
            node: n
            ports: [{name: p0}]
            nat:
              masquerade: [{source: 172.17.0.0, out: p0}]
            """, line: 4, path: "nat.masquerade[0].source", says: #"expected a subnet with a prefix length like 172.17.0.0/16 or fd00:88::/64, got "172.17.0.0""#),
        Failure("port mapping destination", """
            node: n
            ports: [{name: p0}]
            nat:
              portMappings:
                - {proto: tcp, hostPort: 3306, to: 172.17.0.5}
            """, line: 5, path: "nat.portMappings[0].to", says: #"expected an address and port like 172.17.0.5:80 or [fd00:88::3]:80, got "172.17.0.5""#),
    ]

    @Test(arguments: addresses)
    func badAddress(_ failure: Failure) {
        failure.check()
    }

    static let macs: [Failure] = [
        Failure("malformed", """
            node: n
            ports:
              - {name: eth0, mac: 02:00:00:00:00}
            """, line: 3, path: "ports[0].mac", says: #"expected a MAC address like 02:42:ac:11:00:01, got "02:00:00:00:00""#),
        Failure("port MAC is a group address", """
            node: n
            ports:
              - name: eth0
                mac: 01:00:5e:00:00:01
            """, line: 4, path: "ports[0].mac",
            says: "expected a unicast MAC address (low bit of the first octet clear), got the group address 01:00:5e:00:00:01"),
        Failure("broadcast bridge MAC", """
            node: n
            ports: [{name: p0}]
            bridges:
              - {name: br0, mac: "ff:ff:ff:ff:ff:ff"}
            """, line: 4, path: "bridges[0].mac", says: "expected a unicast MAC address"),
        Failure("all-zero VTEP MAC", """
            node: n
            ports: [{name: p0}]
            overlay: {backend: vxlan, podCIDR: 10.244.1.0/24, vtepMAC: "00:00:00:00:00:00"}
            """, line: 3, path: "overlay.vtepMAC", says: "expected a MAC address other than 00:00:00:00:00:00"),
    ]

    @Test(arguments: macs)
    func badMAC(_ failure: Failure) {
        failure.check()
    }

    static let numbers: [Failure] = [
        Failure("fdb capacity 0", """
            node: n
            ports: [{name: p0}]
            bridges:
              - name: br0
                fdb: {capacity: 0}
            """, line: 5, path: "bridges[0].fdb.capacity", says: "expected an FDB capacity of at least 1, got 0"),
        Failure("fdb ageing negative", """
            node: n
            ports: [{name: p0}]
            bridges:
              - name: br0
                fdb: {ageing: -1}
            """, line: 5, path: "bridges[0].fdb.ageing", says: "expected an ageing time in seconds (0: never) of at least 0, got -1"),
        Failure("vni too big", """
            node: n
            ports: [{name: p0}]
            overlay:
              backend: vxlan
              vni: 16777216
              podCIDR: 10.244.1.0/24
            """, line: 5, path: "overlay.vni", says: "expected a VNI from 0 to 16777215, got 16777216"),
        Failure("vni negative", """
            node: n
            ports: [{name: p0}]
            overlay: {backend: vxlan, vni: -1, podCIDR: 10.244.1.0/24}
            """, line: 3, path: "overlay.vni", says: "expected a VNI from 0 to 16777215, got -1"),
        Failure("vni not a number", """
            node: n
            ports: [{name: p0}]
            overlay: {backend: vxlan, vni: one, podCIDR: 10.244.1.0/24}
            """, line: 3, path: "overlay.vni", says: #"expected a VNI from 0 to 16777215, got "one""#),
        Failure("mtu", """
            node: n
            ports: [{name: p0}]
            overlay: {backend: vxlan, mtu: 40, podCIDR: 10.244.1.0/24}
            """, line: 3, path: "overlay.mtu", says: "expected an MTU from 68 to 65535, got 40"),
        Failure("host port 0", """
            node: n
            ports: [{name: p0}]
            nat:
              portMappings: [{hostPort: 0, to: 172.17.0.5:80}]
            """, line: 4, path: "nat.portMappings[0].hostPort", says: "expected a port number from 1 to 65535, got 0"),
        Failure("port mapping destination port", """
            node: n
            ports: [{name: p0}]
            nat:
              portMappings: [{hostPort: 80, to: "172.17.0.5:65536"}]
            """, line: 4, path: "nat.portMappings[0].to", says: #"got "172.17.0.5:65536""#),
        Failure("conntrack capacity", """
            node: n
            ports: [{name: p0}]
            conntrack: {capacity: lots}
            """, line: 3, path: "conntrack.capacity", says: #"expected a conntrack capacity of at least 1, got "lots""#),
        Failure("conntrack timeout zero", """
            node: n
            ports: [{name: p0}]
            conntrack:
              timeouts:
                udp: 0
            """, line: 5, path: "conntrack.timeouts.udp", says: "expected a timeout in seconds of at least 1, got 0"),
        Failure("conntrack timeout not an integer", """
            node: n
            ports: [{name: p0}]
            conntrack:
              timeouts: {icmp: 1.5}
            """, line: 4, path: "conntrack.timeouts.icmp", says: #"expected a timeout in seconds of at least 1, got "1.5""#),
    ]

    @Test(arguments: numbers)
    func badNumber(_ failure: Failure) {
        failure.check()
    }

    /// Service port numbers outside 1...65535, in each of the three port keys.
    @Test(arguments: [("port", "0"), ("targetPort", "65536"), ("nodePort", "-1"), ("port", "http")])
    func servicePortOutOfRange(key: String, value: String) {
        // A bad `port` replaces the good one (a key written twice is an error of its own).
        let goodPort = key == "port" ? "" : "        port: 80\n"
        let yaml = """
            node: n
            ports: [{name: p0}]
            services:
              - name: web
                clusterIP: 10.96.0.10
                ports:
                  - proto: tcp

            """ + goodPort + "        \(key): \(value)\n"
        Failure("service \(key) \(value)", yaml, line: key == "port" ? 8 : 9, path: "services[0].ports[0].\(key)",
                says: "expected a port number from 1 to 65535, got").check()
    }

    static let words: [Failure] = [
        Failure("proto", """
            node: n
            ports: [{name: p0}]
            nat:
              portMappings: [{proto: sctp, hostPort: 80, to: 172.17.0.5:80}]
            """, line: 4, path: "nat.portMappings[0].proto", says: #"expected one of: tcp, udp, got "sctp""#),
        Failure("backend", """
            node: n
            ports: [{name: p0}]
            overlay: {backend: geneve, podCIDR: 10.244.1.0/24}
            """, line: 3, path: "overlay.backend", says: #"expected one of: vxlan, host-gw, ipip, udp, got "geneve""#),
        Failure("session affinity", """
            node: n
            ports: [{name: p0}]
            services:
              - {name: web, clusterIP: 10.96.0.1, ports: [{port: 80}], sessionAffinity: Sticky}
            """, line: 4, path: "services[0].sessionAffinity", says: #"expected one of: None, ClientIP, got "Sticky""#),
        Failure("conntrack invalid policy", """
            node: n
            ports: [{name: p0}]
            conntrack: {invalid: ignore}
            """, line: 3, path: "conntrack.invalid", says: #"expected one of: drop, accept, got "ignore""#),
        Failure("container mode", """
            node: n
            ports: [{name: p0}]
            containers:
              - {name: c1, mode: host}
            """, line: 4, path: "containers[0].mode", says: #"expected bridge, none or container:NAME, got "host""#),
        Failure("hairpin", """
            node: n
            ports: [{name: p0}]
            bridges:
              - {name: br0, hairpin: maybe}
            """, line: 4, path: "bridges[0].hairpin", says: #"expected true or false, got "maybe""#),
        Failure("tap name too long", """
            node: n
            ports:
              - {name: p0, tap: pier-a-very-long-name}
            """, line: 3, path: "ports[0].tap", says: "expected a TAP device name of 1 to 15 characters", #"got "pier-a-very-long-name""#),
        Failure("port name with a space", """
            node: n
            ports:
              - {name: "eth 0"}
            """, line: 3, path: "ports[0].name", says: #"expected a port name without spaces, got "eth 0""#),
        Failure("ports not a list", """
            node: n
            ports: eth0
            """, line: 2, path: "ports", says: #"expected a list of ports, each with a name, got "eth0""#),
        Failure("port not a mapping", """
            node: n
            ports:
              - eth0
            """, line: 3, path: "ports[0]", says: #"expected a port: a mapping with a name, got "eth0""#),
    ]

    @Test(arguments: words)
    func badWord(_ failure: Failure) {
        failure.check()
    }
}
