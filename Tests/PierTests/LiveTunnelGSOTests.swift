import Foundation
import Testing

/// Super-frames through the overlay, live (issue 15): with `--offload` a pod's 64 KB TCP
/// segment crosses a VXLAN tunnel whole, as one UDP-tunnel GSO packet on the uplink's TAP
/// device (Linux 6.17+), and comes out of the other node's uplink whole; where the device
/// cannot take it (`--tunnel-gso off`, IP-in-IP) Pier segments it. 100 MB each way must
/// arrive SHA-256 identical; the switches' counters say which path the frames took. The
/// other node is a second Pier or the Linux kernel with its own VXLAN device. Names start
/// with `pg`.
@Suite(.serialized, .enabled(if: Live.available, "live tests need root, ip, ping, python3 and /dev/net/tun"))
struct LiveTunnelGSOTests {
    static let bytes = 100_000_000

    /// The uplink's line and the counters of `port` in the last stats line of `log`.
    static func counters(_ log: String, port: String) -> [String: Int] {
        guard let line = log.split(separator: "\n").last(where: { $0.contains("stats: ") }),
              let part = line.components(separatedBy: ", ").first(where: { $0.hasPrefix(port + " ") || $0.contains("stats: " + port + " ") })
        else { return [:] }
        let words = part.components(separatedBy: "stats: ").last!.split(separator: " ").map(String.init)
        var result: [String: Int] = [:]
        for index in words.indices.dropLast() { if let value = Int(words[index + 1]) { result[words[index]] = value } }
        return result
    }

    /// Two Pier nodes over VXLAN with `--offload`: the uplinks run UDP-tunnel GSO (said in
    /// the log), 100 MB each way arrive intact, super-frames were written whole to the uplink
    /// and read whole from it (`tx-super`, `rx-super`), and none was segmented by Pier. The
    /// uplink capture holds the super-frames whole: tshark decodes VXLAN frames longer than
    /// the 1,500-byte underlay MTU, carrying inner TCP.
    @Test func twoPierNodesCarrySuperFramesThroughVXLAN() throws {
        try requireTunnelGSO()
        let underlay = try OverlayUnderlay(tag: "sv", subnet: 140, prefix: "pg")
        let capture = underlay.directory.path("a-eth0.pcap")
        let a = try underlay.pierNode(0, backend: "vxlan", extra: ["--offload", "--capture", "eth0=\(capture)"])
        let b = try underlay.pierNode(1, backend: "vxlan", extra: ["--offload"])
        defer { a.stop(); b.stop() }
        try underlay.pingAndTransfer(bytes: Self.bytes)
        #expect(a.stop() == 0 && b.stop() == 0, "\(a.log)\n\(b.log)")
        // The pods' MTU is 1,500, the tunnel's 1,450: super-frames cut at 1,448 would make
        // segments too big for it; Pier answers fragmentation-needed and a1 lowers its MSS.
        #expect(a.log.contains("fragmentation-needed "), "\(a.log)")
        for live in [a, b] {
            #expect(live.log.contains("port eth0: offloads checksums, TSO, UDP-tunnel GSO (24-byte header)"), "\(live.log)")
            let uplink = Self.counters(live.log, port: "eth0")
            #expect((uplink["tx-super"] ?? 0) > 100 && (uplink["rx-super"] ?? 0) > 100, "uplink counters \(uplink): \(live.log)")
            #expect(uplink["tx-segmented"] == nil && uplink["offload-refused"] == nil, "\(uplink)")
        }
        let frames = try Tool.tsharkFields(capture, ["frame.len", "vxlan.vni", "tcp.len"])
        let superFrames = frames.filter { $0[1] == ["1"] && (Int($0[0].first ?? "") ?? 0) > 1_514 }
        #expect(superFrames.count > 100, "VXLAN frames over 1,514 bytes in A's uplink capture: \(superFrames.count) of \(frames.count)")
        let short = superFrames.filter { (Int($0[2].last ?? "") ?? 0) <= 1_448 }
        #expect(short.isEmpty, "super-frames carry more than one segment of TCP: \(short.prefix(3)) of \(superFrames.count)")
    }

    /// The same with `--tunnel-gso off`: the uplinks keep plain TSO, Pier segments every
    /// super-frame that enters the tunnel (`tx-segmented`), 100 MB still arrive intact, and
    /// the segments on the wire (B's side, read by the kernel bridge) are all good.
    @Test func tunnelGSOOffSegmentsInPier() throws {
        let underlay = try OverlayUnderlay(tag: "so", subnet: 141, prefix: "pg")
        let a = try underlay.pierNode(0, backend: "vxlan", extra: ["--offload", "--tunnel-gso", "off"])
        let b = try underlay.pierNode(1, backend: "vxlan", extra: ["--offload", "--tunnel-gso", "off"])
        defer { a.stop(); b.stop() }
        try underlay.pingAndTransfer(bytes: Self.bytes)
        #expect(a.stop() == 0 && b.stop() == 0, "\(a.log)\n\(b.log)")
        for live in [a, b] {
            #expect(live.log.contains("port eth0: offloads checksums, TSO") && !live.log.contains("UDP-tunnel GSO"), "\(live.log)")
            let uplink = Self.counters(live.log, port: "eth0")
            #expect((uplink["tx-segmented"] ?? 0) > 100, "uplink counters \(uplink): \(live.log)")
            #expect(uplink["offload-refused"] == nil, "\(uplink)")
        }
    }

    /// Two Pier nodes over IP-in-IP and flannel's UDP backend with `--offload`: no virtio-net
    /// type exists for those tunnels, so Pier segments every super-frame that enters one
    /// (`tx-segmented` on the uplink) and 100 MB each way still arrive intact. The pods' MTU
    /// (1,500) is above the tunnel's: the first super-frames' segments are too big, Pier
    /// answers fragmentation-needed and TCP adapts instead of stalling.
    @Test(arguments: ["ipip", "udp"])
    func otherTunnelsSegmentInPier(backend: String) throws {
        let underlay = try OverlayUnderlay(tag: backend == "ipip" ? "si" : "su", subnet: backend == "ipip" ? 144 : 145, prefix: "pg")
        let a = try underlay.pierNode(0, backend: backend, extra: ["--offload"])
        let b = try underlay.pierNode(1, backend: backend, extra: ["--offload"])
        defer { a.stop(); b.stop() }
        try underlay.pingAndTransfer(bytes: Self.bytes)
        #expect(a.stop() == 0 && b.stop() == 0, "\(a.log)\n\(b.log)")
        #expect(a.log.contains("fragmentation-needed "), "\(a.log)")
        for live in [a, b] {
            let uplink = Self.counters(live.log, port: "eth0")
            #expect((uplink["tx-segmented"] ?? 0) > 100 && uplink["tx-super"] == nil, "uplink counters \(uplink): \(live.log)")
            #expect(uplink["offload-refused"] == nil, "\(uplink)")
        }
    }

    /// Pier with `--offload` against a Linux node with a kernel VXLAN device (`udpcsum`, its
    /// default): 100 MB each way intact; the kernel's super-frames arrive whole on Pier's
    /// uplink (`rx-super`) and Pier's leave whole (`tx-super`).
    @Test(arguments: ["auto", "off"])
    func kernelVXLANPeer(tunnelGSO: String) throws {
        if tunnelGSO == "auto" { try requireTunnelGSO() }
        let underlay = try OverlayUnderlay(tag: tunnelGSO == "auto" ? "sk" : "sl", subnet: tunnelGSO == "auto" ? 142 : 143, prefix: "pg")
        try underlay.kernelNode(1, backend: "vxlan")
        let a = try underlay.pierNode(0, backend: "vxlan", extra: ["--offload", "--tunnel-gso", tunnelGSO])
        defer { a.stop() }
        try underlay.pingAndTransfer(bytes: Self.bytes)
        #expect(a.stop() == 0, "\(a.log)")
        let uplink = Self.counters(a.log, port: "eth0")
        if tunnelGSO == "auto" {
            #expect((uplink["tx-super"] ?? 0) > 100 && (uplink["rx-super"] ?? 0) > 100, "uplink counters \(uplink): \(a.log)")
        } else {
            #expect((uplink["tx-segmented"] ?? 0) > 100, "uplink counters \(uplink): \(a.log)")
        }
        #expect(uplink["offload-refused"] == nil, "\(uplink)")
    }

    /// Skips (by failing clearly) when the kernel lacks UDP-tunnel GSO on TAP devices (< 6.17).
    private func requireTunnelGSO() throws {
        let release = try String(contentsOfFile: "/proc/sys/kernel/osrelease", encoding: .utf8)
        let parts = release.split(separator: ".").prefix(2).compactMap { Int($0.prefix { $0.isNumber }) }
        try #require(parts.count == 2 && (parts[0] > 6 || (parts[0] == 6 && parts[1] >= 17)),
                     "UDP-tunnel GSO on TAP devices needs Linux 6.17 or later; this is \(release)")
    }
}

/// `--tunnel-gso` refuses what it does not know, before anything is opened.
struct TunnelGSOOptionTests {
    @Test func unknownModeIsAUsageError() throws {
        let result = try Tool.pier("switch", "--config", LiveCLITests.topology, "--offload", "--tunnel-gso", "maybe")
        #expect(result.status == 2, "\(result)")
        #expect(result.errorLines == ["pier: --tunnel-gso must be auto or off, not maybe (see pier --help)"], "\(result)")
    }
}
