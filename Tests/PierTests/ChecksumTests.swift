import Foundation
import Testing

/// Checksum verification on zeek's `chksums_merged.pcap`: one packet each with a good and a
/// bad IPv4, TCP, UDP, ICMP, ICMPv6 checksum (MANIFEST.md).
struct ChecksumTests {
    static let name = "zeek__chksums_merged.pcap"

    /// Per frame: the layer whose checksum the frame exercises, and its status. Frames 1, 3,
    /// 5, 7 are the MANIFEST's bad ones; 9, 11, 13 are the bad IPv6 twins (TCP, UDP, ICMPv6).
    static let expected: [(key: String, status: String)] = [
        ("ip.checksum.status", "bad"),          // 1: IPv4 header checksum 0x0001
        ("tcp.checksum.status", "good"),        // 2
        ("tcp.checksum.status", "bad"),         // 3: TCP checksum 0x0001
        ("udp.checksum.status", "good"),        // 4
        ("udp.checksum.status", "bad"),         // 5: UDP checksum 0x0001
        ("icmp.checksum.status", "good"),       // 6
        ("icmp.checksum.status", "bad"),        // 7: ICMP checksum 0x000d
        ("tcp.checksum.status", "good"),        // 8: over IPv6
        ("tcp.checksum.status", "bad"),         // 9
        ("udp.checksum.status", "good"),        // 10
        ("udp.checksum.status", "bad"),         // 11
        ("icmpv6.checksum.status", "good"),     // 12
        ("icmpv6.checksum.status", "bad"),      // 13
    ]

    @Test func statusesMatchTheManifest() throws {
        let frames = try Tool.inspectJSON(Paths.capture(Self.name))
        try #require(frames.count == 13)
        for (index, (key, status)) in Self.expected.enumerated() {
            let frame = frames[index]
            #expect(frame[key]?.text == status, "frame \(index + 1) \(key): \(frame)")
            // Every other checksum in the frame is good (frame 1's UDP is; the others have a
            // good IPv4 header or none).
            for other in ["ip.checksum.status", "tcp.checksum.status", "udp.checksum.status",
                          "icmp.checksum.status", "icmpv6.checksum.status"] where other != key {
                if let value = frame[other] { #expect(value.text == "good", "frame \(index + 1) \(other): \(frame)") }
            }
        }
    }

    /// The MANIFEST's checksum values are really in those frames, so the table above is
    /// about the right packets.
    @Test func manifestChecksumFieldsAreWhereItSays() throws {
        let (records, error) = try readRecords(Paths.capture(Self.name))
        #expect(error == nil)
        try #require(records.count == 13)
        func u16(_ frame: Int, _ offset: Int) -> Int { Int(records[frame - 1].bytes[offset]) << 8 | Int(records[frame - 1].bytes[offset + 1]) }
        #expect(u16(1, 14 + 10) == 0x0001)        // IPv4 header checksum
        #expect(u16(3, 14 + 20 + 16) == 0x0001)   // TCP checksum
        #expect(u16(5, 14 + 20 + 6) == 0x0001)    // UDP checksum
        #expect(u16(7, 14 + 20 + 2) == 0x000d)    // ICMP checksum
    }

    @Test(.enabled(if: Tool.tshark != nil, "tshark is not installed (the Makefile installs it)"))
    func statusesMatchTshark() throws {
        let keys = ["ip.checksum.status", "tcp.checksum.status", "udp.checksum.status",
                    "icmp.checksum.status", "icmpv6.checksum.status"]
        let path = Paths.capture(Self.name)
        let frames = try Tool.inspectJSON(path)
        let tshark = try Tool.tsharkFields(path, keys)
        try #require(frames.count == tshark.count)
        for (index, (frame, columns)) in zip(frames, tshark).enumerated() {
            for (key, values) in zip(keys, columns) {
                let theirs = values.map { InspectMatchesTsharkTests.normalize($0, .status) }
                let ours = frame[key].flatMap(\.text).map { [$0] } ?? []
                #expect(ours == theirs, "frame \(index + 1) \(key)")
            }
        }
    }
}
