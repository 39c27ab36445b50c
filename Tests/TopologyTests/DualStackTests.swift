import Foundation
import Testing
import Topology
import Wire

/// IPv6 NAT rules and dual-stack Services: what loads, and every way they fail, each naming
/// the key, its line and what was expected.
struct DualStackTests {
    static let node = """
        node: n
        ports:
          - {name: eth0, ip: [192.168.1.25/24, "2001:db8:1::19/64"], gateway: [192.168.1.1, "2001:db8:1::1"]}
          - {name: c1}
        bridges:
          - {name: docker0, ports: [c1], ip: [172.17.0.1/16, "fd00:88::1/64"]}

        """

    @Test func ipv6MasqueradeAndPortMappingsLoadAndPrintBack() throws {
        let topology = try Topology.parse(yaml: Self.node + """
            nat:
              masquerade:
                - {source: 172.17.0.0/16, out: eth0}
                - {source: "fd00:88::/64", out: eth0}
              portMappings:
                - {proto: tcp, hostPort: 8080, to: 172.17.0.3:80}
                - {proto: tcp, hostPort: 8080, to: "[fd00:88::3]:80"}
            """, file: "topo.yaml")
        #expect(topology.nat.masquerade[1].source == .v6(try #require(IPv6Prefix("fd00:88::/64"))))
        #expect(topology.nat.portMappings[1].to == .v6(try #require(IPv6Address("fd00:88::3"))))
        #expect(topology.nat.portMappings.map(\.name) == ["tcp/8080", "tcp6/8080"])
        let again = try Topology.parse(yaml: topology.yaml(), file: "again.yaml")
        #expect(again == topology)
    }

    @Test func dualStackServiceLoadsWithItsFamiliesAndPrintsBack() throws {
        let topology = try Topology.parse(yaml: Self.node + """
            services:
              - name: web
                clusterIPs: ["fd00:96::10", 10.96.0.10]
                ipFamilyPolicy: PreferDualStack
                ports: [{port: 80, targetPort: 8080}]
                endpoints: [10.244.1.5, "fd00:244::5", "fd00:244::6"]
            """, file: "topo.yaml")
        let web = topology.services[0]
        #expect(web.clusterIP == IPv4Address(10, 96, 0, 10))
        #expect(web.clusterIP6 == IPv6Address("fd00:96::10"))
        #expect(web.ipFamilies == [.ipv6, .ipv4])
        #expect(web.ipFamilyPolicy == .preferDualStack)
        #expect(web.endpoints == [IPv4Address(10, 244, 1, 5)])
        #expect(web.endpoints6.map(\.description) == ["fd00:244::5", "fd00:244::6"])
        let text = topology.yaml()
        #expect(text.contains("clusterIP: fd00:96::10") || text.contains("clusterIP: \"fd00:96::10\""), "\(text)")
        #expect(try Topology.parse(yaml: text, file: "again.yaml") == topology)
        // Two cluster IPs and no policy: RequireDualStack, as the API server defaults it.
        let plain = try Topology.parse(yaml: Self.node + """
            services:
              - {name: web, clusterIPs: [10.96.0.10, "fd00:96::10"], ports: [{port: 80}]}
            """, file: "topo.yaml")
        #expect(plain.services[0].ipFamilyPolicy == .requireDualStack)
        #expect(plain.services[0].ipFamilies == [.ipv4, .ipv6])
    }

    static let service = Self.node + "services:\n"

    static let failures: [Failure] = [
        Failure("masquerade source neither family", Self.node + """
            nat:
              masquerade: [{source: "fd00:88::", out: eth0}]
            """, line: 8, path: "nat.masquerade[0].source",
            says: #"expected a subnet with a prefix length like 172.17.0.0/16 or fd00:88::/64, got "fd00:88::""#),
        Failure("IPv6 masquerade out of a port without IPv6", Self.node + """
            nat:
              masquerade: [{source: "fd00:88::/64", out: c1}]
            """, line: 8, path: "nat.masquerade[0].out", says: "port \"c1\" has no IPv6 address", "expected a port with an IPv6 ip"),
        Failure("IPv6 port mapping without brackets", Self.node + """
            nat:
              portMappings: [{hostPort: 8080, to: "fd00:88::3:80"}]
            """, line: 8, path: "nat.portMappings[0].to",
            says: #"expected an address and port like 172.17.0.5:80 or [fd00:88::3]:80, got "fd00:88::3:80""#),
        Failure("IPv6 port mapping without a port", Self.node + """
            nat:
              portMappings: [{hostPort: 8080, to: "[fd00:88::3]"}]
            """, line: 8, path: "nat.portMappings[0].to", says: #"got "[fd00:88::3]""#),
        Failure("two IPv6 mappings of one host port", Self.node + """
            nat:
              portMappings:
                - {hostPort: 8080, to: "[fd00:88::3]:80"}
                - {hostPort: 8080, to: "[fd00:88::4]:80"}
            """, line: 10, path: "nat.portMappings[1].hostPort", says: "tcp6/8080 is already published"),
        Failure("two cluster IPs of one family", Self.service + """
              - {name: web, clusterIPs: [10.96.0.10, 10.96.0.11], ports: [{port: 80}]}
            """, line: 8, path: "services[0].clusterIPs[1]",
            says: "expected at most one cluster IP of each family, got a second IPv4 address 10.96.0.11"),
        Failure("three cluster IPs", Self.service + """
              - {name: web, clusterIPs: [10.96.0.10, "fd00:96::10", "fd00:96::11"], ports: [{port: 80}]}
            """, line: 8, path: "services[0].clusterIPs[2]", says: "expected at most two cluster IPs"),
        Failure("clusterIP not the first of clusterIPs", Self.service + """
              - name: web
                clusterIP: 10.96.0.10
                clusterIPs: ["fd00:96::10", 10.96.0.10]
                ports: [{port: 80}]
            """, line: 9, path: "services[0].clusterIP",
            says: "10.96.0.10 is not clusterIPs[0] (fd00:96::10); expected the primary cluster IP"),
        Failure("family out of order", Self.service + """
              - name: web
                clusterIPs: [10.96.0.10, "fd00:96::10"]
                ipFamilies: [IPv6, IPv4]
                ports: [{port: 80}]
            """, line: 10, path: "services[0].ipFamilies[0]",
            says: "expected IPv4, the family of clusterIPs[0] (10.96.0.10), got IPv6"),
        Failure("family without a cluster IP", Self.service + """
              - {name: web, clusterIP: 10.96.0.10, ipFamilies: [IPv4, IPv6], ports: [{port: 80}]}
            """, line: 8, path: "services[0].ipFamilies[1]", says: "IPv6 has no cluster IP"),
        Failure("unknown family", Self.service + """
              - {name: web, clusterIP: 10.96.0.10, ipFamilies: [ipv4], ports: [{port: 80}]}
            """, line: 8, path: "services[0].ipFamilies[0]", says: #"expected one of: IPv4, IPv6, got "ipv4""#),
        Failure("unknown policy", Self.service + """
              - {name: web, clusterIP: 10.96.0.10, ipFamilyPolicy: DualStack, ports: [{port: 80}]}
            """, line: 8, path: "services[0].ipFamilyPolicy",
            says: #"expected one of: SingleStack, PreferDualStack, RequireDualStack, got "DualStack""#),
        Failure("SingleStack with two cluster IPs", Self.service + """
              - {name: web, clusterIPs: [10.96.0.10, "fd00:96::10"], ipFamilyPolicy: SingleStack, ports: [{port: 80}]}
            """, line: 8, path: "services[0].ipFamilyPolicy", says: "SingleStack with two cluster IPs"),
        Failure("RequireDualStack with one cluster IP", Self.service + """
              - {name: web, clusterIP: 10.96.0.10, ipFamilyPolicy: RequireDualStack, ports: [{port: 80}]}
            """, line: 8, path: "services[0].ipFamilyPolicy", says: "RequireDualStack with one cluster IP"),
        Failure("IPv6-only service", Self.service + """
              - {name: web, clusterIP: "fd00:96::10", ports: [{port: 80}]}
            """, line: 8, path: "services[0].clusterIP", says: "an IPv6-only service is not supported"),
        Failure("IPv6 endpoint of an IPv4 service", Self.service + """
              - name: web
                clusterIP: 10.96.0.10
                ports: [{port: 80}]
                endpoints: [10.244.1.5, "fd00:244::5"]
            """, line: 11, path: "services[0].endpoints[1]",
            says: "fd00:244::5 is an IPv6 endpoint of a service with no IPv6 cluster IP"),
        Failure("no cluster IP at all", Self.service + """
              - {name: web, ports: [{port: 80}]}
            """, line: 8, path: "services[0].clusterIP", says: "missing (expected an IPv4 address like 10.96.0.10)"),
        Failure("IPv6 cluster IP taken twice", Self.service + """
              - {name: web, clusterIPs: [10.96.0.10, "fd00:96::10"], ports: [{port: 80}]}
              - {name: api, clusterIPs: [10.96.0.11, "fd00:96::10"], ports: [{port: 80}]}
            """, line: 9, path: "services[1].clusterIPs", says: "cluster IP fd00:96::10 is already web's"),
    ]

    @Test(arguments: failures)
    func badDualStack(_ failure: Failure) {
        failure.check()
    }
}

/// DESIGN.md's block of issue 16's keys loads as written.
struct DualStackDesignTests {
    @Test func designBlockLoads() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../docs/DESIGN.md").standardizedFileURL.path
        let design = try String(contentsOfFile: path, encoding: .utf8)
        let after = try #require(design.range(of: "Keys added by issue 16 for IPv6")).upperBound
        let start = try #require(design.range(of: "```yaml\n", range: after..<design.endIndex)).upperBound
        let end = try #require(design.range(of: "```", range: start..<design.endIndex)).lowerBound
        let topology = try Topology.parse(yaml: String(design[start..<end]), file: "DESIGN.md")
        #expect(topology.services[0].clusterIP6 == IPv6Address("fd00:96::10"))
        #expect(topology.services[0].endpoints6 == [try #require(IPv6Address("fd00:244::5"))])
        #expect(topology.nat.portMappings[0].name == "tcp6/8080")
        #expect(topology.nat.masquerade[0].source == .v6(try #require(IPv6Prefix("fd00:88::/64"))))
    }
}
