import Foundation
import Testing

/// `pier inspect --filter` and `--vxlan-port`.
struct InspectOptionsTests {
    static let vxlan = Paths.capture("tcpdump__vxlan.pcap")

    @Test func filterKeepsMatchingFrames() throws {
        let result = try Tool.pier("inspect", "--filter", "udp port 4789", Self.vxlan)
        #expect(result.status == 0, "\(result)")
        #expect(result.lines.count == 10, "\(result)")
    }

    @Test func filterDropsEverythingElse() throws {
        // The ARP frames are inside VXLAN: the outer frame is IPv4, so `arp` matches nothing.
        let result = try Tool.pier("inspect", "--filter", "arp", Self.vxlan)
        #expect(result.status == 0, "\(result)")
        #expect(result.lines.isEmpty, "\(result)")
    }

    @Test func badFilterIsBadInput() throws {
        let result = try Tool.pier("inspect", "--filter", "udp port (((", Self.vxlan)
        #expect(result.status == 2, "\(result)")
        #expect(result.errorLines.count == 1, "\(result)")
        #expect(result.stdout.isEmpty, "\(result)")
    }

    @Test func vxlanPortSelectsTheDecoder() throws {
        let decoded = try Tool.inspectJSON(Self.vxlan, ["--vxlan-port", "4789"])
        #expect(decoded.count == 10)
        for frame in decoded {
            #expect(frame["vxlan.vni"]?.integer == 100, "\(frame)")
            #expect(frame["inner"] != nil, "\(frame)")
        }
        let plain = try Tool.inspectJSON(Self.vxlan, ["--vxlan-port", "9999"])
        #expect(plain.count == 10)
        for frame in plain {
            #expect(frame["inner"] == nil, "\(frame)")
            #expect(frame["vxlan.vni"] == nil, "\(frame)")
            #expect(frame["udp.dstport"]?.integer == 4789, "\(frame)")
        }
    }
}
