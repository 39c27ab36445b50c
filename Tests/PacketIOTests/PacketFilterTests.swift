import Dataplane
import Foundation
import PacketIO
import Testing
import Wire

/// BPF filters, with tcpdump (the same libpcap compiler, run by another program) as the oracle.
struct PacketFilterTests {
    /// The number of records of `name` that `filter` matches.
    static func matches(_ expression: String, in name: String) throws -> Int {
        let reader = try PcapReader(path: Fixtures.path(name))
        let filter = try PacketFilter(expression: expression, linkType: reader.linkType, snapLength: reader.snapLength)
        var frame = Frame()
        var count = 0
        while try reader.next(into: &frame) {
            if filter.matches(frame) { count += 1 }
        }
        return count
    }

    @Test func vxlanPortMatchesEveryFrame() throws {
        #expect(try Self.matches("udp port 4789", in: "tcpdump__vxlan.pcap") == 10)
        #expect(try Self.matches("tcp", in: "tcpdump__vxlan.pcap") == 0)
        // BPF sees the outer headers only: the ARP inside VXLAN is not ARP to it.
        #expect(try Self.matches("arp", in: "tcpdump__vxlan.pcap") == 0)
    }

    struct Case: Sendable, CustomTestStringConvertible {
        var expression: String
        var capture: String
        var testDescription: String { "\(expression) on \(capture)" }
    }

    static let cases: [Case] = [
        Case(expression: "udp port 4789", capture: "tcpdump__vxlan.pcap"),
        Case(expression: "icmp", capture: "tcpdump__vxlan.pcap"),
        Case(expression: "udp and dst port 6081", capture: "suricata-verify__geneve-decoder_input.pcap"),
        Case(expression: "tcp[tcpflags] & tcp-syn != 0", capture: "tcpdump__dns_tcp.pcap"),
        Case(expression: "tcp and src port 53", capture: "tcpdump__dns_tcp.pcap"),
        Case(expression: "tcp[tcpflags] & tcp-ack != 0", capture: "tcpdump__tcp-handshake-nano.pcap"),
        Case(expression: "ip proto 4", capture: "zeek__tunnels_4in4.pcap"),
        Case(expression: "vlan and vlan and arp", capture: "tcpdump__802.1ad_QinQ.pcap"),
        Case(expression: "ip6", capture: "zeek__chksums_merged.pcap"),
        Case(expression: "udp", capture: "zeek__chksums_merged.pcap"),
        Case(expression: "ip[6:2] & 0x3fff != 0", capture: "zeek__ipv4_fragmented-2.pcap"),
        Case(expression: "host 192.168.1.102", capture: "zeek__icmp_icmp-destunreach-udp.pcap"),
        Case(expression: "ip", capture: "tcpdump__LINKTYPE_RAW_ipv4.pcap"),
        Case(expression: "greater 100", capture: "tcpdump__tcp_rst_data-trunc.pcap"),
        Case(expression: "udp", capture: "pcapng-testgen__le_basic_test001.pcapng"),
    ]

    @Test(.enabled(if: Tool.tcpdump != nil, "tcpdump is not installed"), arguments: cases)
    func countMatchesTcpdump(_ test: Case) throws {
        let tcpdump = try #require(Tool.tcpdump)
        let output = try Tool.run(tcpdump, ["--count", "-r", Fixtures.path(test.capture), test.expression])
        let expected = try #require(output.split(separator: " ").first.flatMap { Int($0) }, "tcpdump printed \(output)")
        #expect(try Self.matches(test.expression, in: test.capture) == expected)
    }

    @Test func matchingSomeButNotAll() throws {
        // The oracle cases above could all be 0 or all; this capture splits: 3 of 11 carry SYN.
        let syn = try Self.matches("tcp[tcpflags] & tcp-syn != 0", in: "tcpdump__dns_tcp.pcap")
        #expect(syn > 0 && syn < 11)
    }

    @Test func badExpressionThrows() throws {
        let error = try #require(throws: CaptureError.self) {
            _ = try PacketFilter(expression: "udp prot 4789", linkType: .ethernet)
        }
        #expect(error.description.contains("udp prot 4789"))
        #expect(error.record == nil)
        #expect(!error.problem.isEmpty)
        #expect(!error.description.contains("\n"))
    }

    @Test func filterForRawLinkType() throws {
        let filter = try PacketFilter(expression: "ip and udp", linkType: .raw)
        // A bare IPv4 header: version 4, IHL 5, protocol 17 (UDP), rest zero.
        var header = [UInt8](repeating: 0, count: 28)
        header[0] = 0x45
        header[3] = 28
        header[9] = 17
        let udp = filter.matches(makeFrame(header))
        header[9] = 6
        let tcp = filter.matches(makeFrame(header))
        #expect(udp)
        #expect(!tcp)
    }
}
