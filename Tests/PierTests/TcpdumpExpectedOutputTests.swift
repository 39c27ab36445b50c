import Foundation
import Testing

/// tcpdump's own expected decodes (`expected/*.out`, from tcpdump's test suite) as a second
/// oracle: the facts tcpdump printed, pulled out with regular expressions, must be what
/// `pier inspect --json` says about the same capture.
struct TcpdumpExpectedOutputTests {
    /// One frame of tcpdump's output: its number, its time, and its text per encapsulation
    /// level (a continuation line that starts with a MAC address is the next, inner level;
    /// any other continuation line belongs to the level before).
    struct Record {
        var number: Int
        var time: String
        var levels: [String]
    }

    static func parse(_ text: String) throws -> [Record] {
        let header = try Regex(#"^\s*(\d+)\s+(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}) (.*)$"#)
        let innerStart = try Regex(#"^[0-9a-f]{2}(:[0-9a-f]{2}){5} > "#)
        var records: [Record] = []
        for line in text.split(separator: "\n") {
            if let match = try header.wholeMatch(in: line) {
                records.append(Record(number: Int(match.output[1].substring!)!, time: String(match.output[2].substring!),
                                      levels: [String(match.output[3].substring!)]))
            } else if !records.isEmpty {
                let trimmed = line.trimmingCharacters(in: .whitespaces)
                if try innerStart.prefixMatch(in: trimmed) != nil {
                    records[records.count - 1].levels.append(trimmed)
                } else {
                    records[records.count - 1].levels[records[records.count - 1].levels.count - 1] += " " + trimmed
                }
            }
        }
        return records
    }

    /// The captures of `pattern` in `text` (first match), or nil.
    static func captures(_ pattern: String, in text: String) throws -> [String]? {
        guard let match = try Regex(pattern).firstMatch(in: text) else { return nil }
        return (1..<match.output.count).map { match.output[$0].substring.map(String.init) ?? "" }
    }

    /// Every match's captures of `pattern` in `text`.
    static func allCaptures(_ pattern: String, in text: String) throws -> [[String]] {
        try text.matches(of: Regex(pattern)).map { match in
            (1..<match.output.count).map { match.output[$0].substring.map(String.init) ?? "" }
        }
    }

    /// `2013-05-18 20:21:44.837063` (UTC, as tcpdump's tests print it) as epoch seconds and
    /// fraction text: `1368908504.837063`.
    static func epoch(_ time: String) -> String {
        let parts = time.split { $0 == "-" || $0 == " " || $0 == ":" || $0 == "." }.map { Int($0)! }
        let (year, month, day) = (parts[0], parts[1], parts[2])
        // H. Hinnant's days_from_civil.
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        let days = era * 146_097 + dayOfEra - 719_468
        let seconds = days * 86_400 + parts[3] * 3600 + parts[4] * 60 + parts[5]
        return "\(seconds).\(time.split(separator: ".").last!)"
    }

    /// tcpdump's flag letters as TCP flag bits.
    static func flagBits(_ letters: String) -> Int {
        if letters == "none" { return 0 }
        let bits: [Character: Int] = ["F": 0x01, "S": 0x02, "R": 0x04, "P": 0x08, ".": 0x10, "U": 0x20, "E": 0x40, "W": 0x80]
        return letters.reduce(0) { $0 | (bits[$1] ?? 0x1000) }
    }

    @Test(arguments: Paths.expectedOutputs)
    func pierAgreesWithTcpdump(_ outName: String) throws {
        let captureName = String(outName.dropLast(".out".count)) + ".pcap"
        let capture = Paths.capture(captureName)
        let expectedText = String(decoding: try fileBytes(Paths.publicDirectory.appendingPathComponent("expected/\(outName)").path), as: UTF8.self)
        let records = try Self.parse(expectedText)
        try #require(!records.isEmpty, "no frames parsed from \(outName)")
        let frames = try Tool.inspectJSON(capture)
        let textLines = try Tool.pier("inspect", capture).lines
        try #require(frames.count == records.count, "\(captureName): pier \(frames.count) frames, tcpdump \(records.count)")
        #expect(records.map(\.number) == Array(1...records.count))

        var initialSequence: [String: Int] = [:]  // "src:port>dst:port" -> ISN, from SYNs
        var checked = 0
        for (record, frame) in zip(records, frames) {
            let context = "\(captureName) frame \(record.number)"
            let levels = frame.levels
            try #require(levels.count >= record.levels.count, "\(context): pier has \(levels.count) levels, tcpdump \(record.levels.count)")
            #expect(frame["frame.time_epoch"]?.text == Self.epoch(record.time) + "000", "\(context): time")

            for (depth, text) in record.levels.enumerated() {
                let level = levels[depth]
                let where_ = "\(context) level \(depth)"
                func expectValue(_ key: String, _ expected: String, _ kind: InspectMatchesTsharkTests.Kind = .integer) {
                    let ours = level[key]?.text.map { InspectMatchesTsharkTests.normalize($0, kind) }
                    #expect(ours == InspectMatchesTsharkTests.normalize(expected, kind), "\(where_): \(key) (tcpdump: \(text))")
                    checked += 1
                }

                // Ethernet (`-e`): MACs, EtherType, length.
                if let eth = try Self.captures(#"^([0-9a-f:]{17}) > ([0-9a-f:]{17}), ethertype [^(]*\((0x[0-9a-f]{4})\), length (\d+):"#, in: text) {
                    expectValue("eth.src", eth[0], .text)
                    expectValue("eth.dst", eth[1], .text)
                    expectValue("eth.type", eth[2])
                    if depth == 0 {
                        expectValue("frame.len", eth[3])
                    } else if let ipLength = level["ip.len"]?.integer {
                        #expect(ipLength + 14 == Int(eth[3]), "\(where_): inner frame length")
                    } else if level["arp.opcode"] != nil {
                        #expect(Int(eth[3]) == 42, "\(where_): inner ARP frame length")
                    }
                }
                // VLAN tags, outer first.
                let vlans = try Self.allCaptures(#"vlan (\d+), p \d+"#, in: text).map { Int($0[0])! }
                if !vlans.isEmpty {
                    guard case .array(let ids)? = level["vlan.id"] else {
                        Issue.record("\(where_): no vlan.id array, tcpdump has \(vlans)")
                        continue
                    }
                    #expect(ids.compactMap(\.integer) == vlans, "\(where_): vlan.id")
                    checked += 1
                }
                // ARP.
                if let arp = try Self.captures(#"Request who-has (\d+\.\d+\.\d+\.\d+) tell (\d+\.\d+\.\d+\.\d+)"#, in: text) {
                    expectValue("arp.opcode", "1")
                    expectValue("arp.dst.proto_ipv4", arp[0], .text)
                    expectValue("arp.src.proto_ipv4", arp[1], .text)
                }
                if let arp = try Self.captures(#"Reply (\d+\.\d+\.\d+\.\d+) is-at ([0-9a-f:]{17})"#, in: text) {
                    expectValue("arp.opcode", "2")
                    expectValue("arp.src.proto_ipv4", arp[0], .text)
                    expectValue("arp.src.hw_mac", arp[1], .text)
                }
                // IPv4 header details (`-v`), and the invalid total length.
                if let ip = try Self.captures(#"\(tos 0x[0-9a-f]+, ttl (\d+), id (\d+), offset (\d+), flags \[[^\]]*\], proto \w+ \((\d+)\), length (\d+)\)"#, in: text) {
                    expectValue("ip.ttl", ip[0])
                    expectValue("ip.id", ip[1])
                    expectValue("ip.frag_offset", ip[2])
                    expectValue("ip.proto", ip[3])
                    expectValue("ip.len", ip[4])
                }
                if let invalid = try Self.captures(#"\[total length (\d+) > length (\d+)\] \(invalid\)"#, in: text) {
                    expectValue("ip.len", invalid[0])
                    let present = (frame["frame.cap_len"]?.integer ?? 0) - 14
                    #expect(present == Int(invalid[1]), "\(where_): IPv4 bytes present")
                    let error = frame["error"]?.text ?? ""
                    #expect(error.lowercased().contains("ipv4"), "\(where_): error should name ipv4: \(frame)")
                    checked += 1
                }
                // Addresses and ports.
                let isTCP = text.contains("Flags [")
                if let flow = try Self.captures(#"(\d+\.\d+\.\d+\.\d+)\.(\d+) > (\d+\.\d+\.\d+\.\d+)\.(\d+):"#, in: text) {
                    expectValue("ip.src", flow[0], .text)
                    expectValue("ip.dst", flow[2], .text)
                    expectValue(isTCP ? "tcp.srcport" : "udp.srcport", flow[1])
                    expectValue(isTCP ? "tcp.dstport" : "udp.dstport", flow[3])
                }
                // ICMP echo: type from the JSON; id and seq only in the text line (the JSON
                // contract has no icmp.ident / icmp.seq).
                if let echo = try Self.captures(#"(\d+\.\d+\.\d+\.\d+) > (\d+\.\d+\.\d+\.\d+): ICMP echo (request|reply), id (\d+), seq (\d+)"#, in: text) {
                    expectValue("ip.src", echo[0], .text)
                    expectValue("ip.dst", echo[1], .text)
                    expectValue("icmp.type", echo[2] == "request" ? "8" : "0")
                    expectValue("icmp.code", "0")
                    let line = textLines.indices.contains(record.number - 1) ? textLines[record.number - 1] : ""
                    #expect(line.contains("ICMP echo \(echo[2]), id \(echo[3]), seq \(echo[4])"), "\(where_): text line \(line)")
                }
                // VXLAN.
                if let vxlan = try Self.captures(#"VXLAN, flags \[I\] \((0x[0-9a-f]+)\), vni (\d+)"#, in: text) {
                    // tcpdump prints the first flags byte; Wireshark's vxlan.flags is the 16-bit field.
                    let flagsByte = parseInteger(vxlan[0]) ?? -1
                    expectValue("vxlan.flags", String(flagsByte << 8))
                    expectValue("vxlan.vni", vxlan[1])
                }
                // TCP: flags, and sequence numbers (absolute on SYNs, relative after).
                if isTCP, let flags = try Self.captures(#"Flags \[([^\]]+)\]"#, in: text) {
                    let bits = Self.flagBits(flags[0])
                    #expect(level["tcp.flags"]?.text.flatMap(parseInteger) == bits, "\(where_): tcp.flags [\(flags[0])]")
                    checked += 1
                    guard let flow = try Self.captures(#"(\d+\.\d+\.\d+\.\d+\.\d+) > (\d+\.\d+\.\d+\.\d+\.\d+):"#, in: text),
                          let seqRaw = level["tcp.seq_raw"]?.integer, let ackRaw = level["tcp.ack_raw"]?.integer
                    else {
                        Issue.record("\(where_): no tcp.seq_raw / tcp.ack_raw: \(level)")
                        continue
                    }
                    let forward = "\(flow[0])>\(flow[1])", reverse = "\(flow[1])>\(flow[0])"
                    let isSYN = bits & 0x02 != 0
                    if isSYN { initialSequence[forward] = seqRaw }
                    func relative(_ raw: Int, _ key: String) -> Int? {
                        if isSYN { return raw }
                        return initialSequence[key].map { (raw - $0) & 0xffff_ffff }
                    }
                    if let seq = try Self.captures(#"seq (\d+)(?::(\d+))?"#, in: text) {
                        #expect(relative(seqRaw, forward) == Int(seq[0]), "\(where_): seq \(seq[0]) vs tcp.seq_raw \(seqRaw)")
                        if !seq[1].isEmpty, let length = try Self.captures(#", length (\d+)"#, in: text) {
                            #expect(Int(seq[1])! - Int(seq[0])! == Int(length[0]), "\(where_): seq range vs length")
                        }
                        checked += 1
                    }
                    if let ack = try Self.captures(#"ack (\d+)"#, in: text) {
                        #expect(relative(ackRaw, reverse) == Int(ack[0]), "\(where_): ack \(ack[0]) vs tcp.ack_raw \(ackRaw)")
                        checked += 1
                    }
                }
            }
        }
        #expect(checked >= 5 * records.count, "\(outName): too few facts recognised (\(checked)); did the regexes stop matching?")
    }

    /// The invalid-total-length capture: Pier reports the IPv4 error and still decodes UDP.
    @Test func invalidTotalLengthKeepsUDP() throws {
        let frames = try Tool.inspectJSON(Paths.capture("tcpdump__ipv4_invalid_total_length.pcap"))
        try #require(frames.count == 1)
        let frame = frames[0]
        #expect(frame["error"]?.text?.hasPrefix("ipv4") == true, "\(frame)")
        #expect(frame["udp.srcport"]?.integer == 39095)
        #expect(frame["udp.dstport"]?.integer == 53)
        #expect(frame["ip.len"]?.integer == 85)
    }
}
