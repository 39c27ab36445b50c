import Foundation
import Testing

/// `pier inspect --json` against Wireshark's dissectors, field for field and frame for frame,
/// on every public capture.
@Suite(.enabled(if: Tool.tshark != nil, "tshark is not installed (the Makefile installs it)"))
struct InspectMatchesTsharkTests {
    /// How a field's values are compared.
    enum Kind {
        /// Exact text (MACs, addresses).
        case text
        /// Integers; tshark may print hex (`0x9b28`, `0x0012`), Pier decimal or `"0x012"`.
        case integer
        /// Checksum status: tshark 0/1/2/3, Pier bad/good/unverified/not_present.
        case status
        /// Exact decimal text (`frame.time_epoch`).
        case decimal
    }

    /// One compared field: Pier's key and the tshark fields whose occurrences, concatenated
    /// in this order, make the same list.
    struct Field: Sendable {
        var key: String
        var tshark: [String]
        var kind: Kind

        init(_ key: String, _ kind: Kind, tshark: [String]? = nil) {
            self.key = key
            self.tshark = tshark ?? [key]
            self.kind = kind
        }
    }

    static let fields: [Field] = [
        Field("frame.len", .integer), Field("frame.cap_len", .integer), Field("frame.time_epoch", .decimal),
        Field("frame.interface_name", .text),
        Field("eth.src", .text), Field("eth.dst", .text), Field("eth.type", .integer),
        Field("sll.etype", .integer),
        // tshark: an 802.1ad tag is ieee8021ad.id, an 802.1Q tag vlan.id; Pier puts both in
        // vlan.id, outer first. In every public capture the 802.1ad tag is the outer one.
        Field("vlan.id", .integer, tshark: ["ieee8021ad.id", "vlan.id"]),
        Field("arp.opcode", .integer), Field("arp.src.hw_mac", .text), Field("arp.src.proto_ipv4", .text),
        Field("arp.dst.hw_mac", .text), Field("arp.dst.proto_ipv4", .text),
        Field("ip.src", .text), Field("ip.dst", .text), Field("ip.proto", .integer), Field("ip.ttl", .integer),
        Field("ip.len", .integer), Field("ip.id", .integer), Field("ip.flags.mf", .integer),
        Field("ip.frag_offset", .integer), Field("ip.checksum.status", .status),
        Field("ipv6.src", .text), Field("ipv6.dst", .text), Field("ipv6.nxt", .integer), Field("ipv6.hlim", .integer),
        Field("icmp.type", .integer), Field("icmp.code", .integer), Field("icmp.checksum.status", .status),
        Field("icmpv6.type", .integer), Field("icmpv6.code", .integer), Field("icmpv6.checksum.status", .status),
        Field("udp.srcport", .integer), Field("udp.dstport", .integer), Field("udp.length", .integer),
        Field("udp.checksum.status", .status),
        Field("tcp.srcport", .integer), Field("tcp.dstport", .integer), Field("tcp.flags", .integer),
        Field("tcp.seq_raw", .integer), Field("tcp.ack_raw", .integer), Field("tcp.checksum.status", .status),
        Field("vxlan.flags", .integer), Field("vxlan.vni", .integer),
        Field("geneve.vni", .integer), Field("geneve.proto_type", .integer),
    ]

    /// Keys Pier prints that are not compared with tshark, and why.
    static let notCompared: [String: String] = [
        "frame.number": "checked against the frame's position instead",
        "inner": "the nesting itself: its members are compared",
        "error": "Pier's own diagnosis; tshark has expert info instead",
        // Not Wireshark's names: tshark has ipv6.fraghdr.offset / ipv6.fraghdr.more (see the
        // report); no public capture holds an IPv6 fragment anyway.
        "ipv6.fragment.offset": "no such tshark field (tshark: ipv6.fraghdr.offset)",
        "ipv6.fragment.more": "no such tshark field (tshark: ipv6.fraghdr.more)",
    ]

    /// One frame's field that is allowed or known to differ. `frame` nil: every frame.
    struct Exception: Sendable {
        var file: String
        var frame: Int?
        var key: String
        var reason: String

        func covers(file: String, frame: Int, key: String) -> Bool {
            self.file == file && self.key == key && (self.frame == nil || self.frame == frame)
        }
    }

    /// Legitimate differences of interpretation: Pier and tshark both right.
    static let allowed: [Exception] = [
        // (none so far: every disagreement found on the public captures is listed below as a
        // known issue in Pier, not a matter of interpretation)
    ]

    /// Disagreements that are bugs in Pier (see the report): kept visible with withKnownIssue.
    /// (Empty: the two found when this test was written, vxlan.flags as one byte and a whole
    /// UDP datagram in a too-short IPv4 packet left unverified, are fixed.)
    static let knownIssues: [Exception] = []

    /// Pier's values of `field` in `frame`: each level's, outer first ("inner" recursively).
    static func pierValues(_ frame: JSON, _ field: Field) -> [String] {
        frame.levels.flatMap { level -> [String] in
            switch level[field.key] {
            case .array(let items)?: items.compactMap(\.text)
            case let value?: value.text.map { [$0] } ?? ["<\(value)>"]
            case nil: []
            }
        }
    }

    /// `value` in a form both sides agree on.
    static func normalize(_ value: String, _ kind: Kind) -> String {
        switch kind {
        case .text: return value.lowercased()
        case .decimal: return value
        case .integer: return parseInteger(value).map(String.init) ?? "<not an integer: \(value)>"
        case .status:
            switch value {
            case "0": return "bad"
            case "1": return "good"
            case "2": return "unverified"
            case "3": return "not_present"
            default: return value
            }
        }
    }

    @Test("pier inspect --json agrees with tshark -T fields", arguments: Paths.publicCaptures)
    func matchesTshark(_ name: String) throws {
        let path = Paths.capture(name)
        let pier = try Tool.inspectJSON(path)
        let tshark = try Tool.tsharkFields(path, Self.fields.flatMap(\.tshark))
        try #require(pier.count == tshark.count, "\(name): pier printed \(pier.count) frames, tshark \(tshark.count)")
        #expect(pier.count > 0)

        // Every key Pier prints is compared, or deliberately not (listed here with why).
        let compared = Set(Self.fields.map(\.key)).union(Self.notCompared.keys)
        for frame in pier {
            for level in frame.levels {
                for key in level.keys where !compared.contains(key) {
                    Issue.record("\(name): pier prints \(key), which this test does not compare with tshark; add it to fields or notCompared")
                }
            }
        }

        var seenAllowed = Set<Int>(), seenKnown = Set<Int>()
        for (index, (frame, columns)) in zip(pier, tshark).enumerated() {
            let number = index + 1
            #expect(frame["frame.number"]?.integer == number, "\(name) frame \(number): frame.number")
            var column = 0
            for field in Self.fields {
                let theirs = field.tshark.indices.flatMap { columns[column + $0] }.map { Self.normalize($0, field.kind) }
                column += field.tshark.count
                let ours = Self.pierValues(frame, field).map { Self.normalize($0, field.kind) }
                guard ours != theirs else { continue }
                let message = "\(name) frame \(number) \(field.key): pier \(ours), tshark \(theirs)"
                if let entry = Self.allowed.firstIndex(where: { $0.covers(file: name, frame: number, key: field.key) }) {
                    seenAllowed.insert(entry)
                } else if let entry = Self.knownIssues.firstIndex(where: { $0.covers(file: name, frame: number, key: field.key) }) {
                    seenKnown.insert(entry)
                    withKnownIssue(Comment(rawValue: Self.knownIssues[entry].reason)) {
                        Issue.record(Comment(rawValue: message))
                    }
                } else {
                    Issue.record(Comment(rawValue: message))
                }
            }
        }
        // Every entry of the lists must still describe a real difference.
        for (index, entry) in Self.allowed.enumerated() where entry.file == name && !seenAllowed.contains(index) {
            Issue.record("stale allow-list entry, pier and tshark now agree: \(entry.file) \(entry.key)")
        }
        for (index, entry) in Self.knownIssues.enumerated() where entry.file == name && !seenKnown.contains(index) {
            Issue.record("known issue no longer reproduces (fixed? remove it): \(entry.file) \(entry.key): \(entry.reason)")
        }
    }

    /// The timestamps tshark prints must be Pier's exactly, even for the nanosecond capture.
    @Test func nanosecondTimesExact() throws {
        let frames = try Tool.inspectJSON(Paths.capture("tcpdump__tcp-handshake-nano.pcap"))
        #expect(frames.map { $0["frame.time_epoch"]?.text } == ["1418145369.924505488", "1418145370.052027262", "1418145370.052115157"])
    }
}
