import Foundation
import PacketIO
import Testing

/// `pier replay` without a topology passes p0 through: same bytes, same timestamps, same
/// original lengths, and counters that say so.
struct ReplayPassThroughTests {
    /// The snap length field of a classic little-endian pcap header.
    static func snapLength(_ bytes: [UInt8]) -> UInt32 { readLE32(bytes, 16) }

    @Test(arguments: Paths.publicCaptures)
    func passThrough(_ name: String) throws {
        let input = Paths.capture(name)
        let directory = try TemporaryDirectory()
        let output = directory.path("out.pcap"), stats = directory.path("stats.json")
        let result = try Tool.pier("replay", "--in", "p0=\(input)", "--out", "p0=\(output)", "--stats-json", stats)
        #expect(result.status == 0, "\(result)")
        #expect(result.stderr.isEmpty, "\(result)")

        let (records, damage) = try readRecords(input)
        #expect(damage == nil)
        let count = records.count

        // Every record comes out as it went in.
        let (written, writtenDamage) = try readRecords(output)
        #expect(writtenDamage == nil)
        #expect(written.count == count)
        for (index, (a, b)) in zip(records, written).enumerated() {
            #expect(a == b, "\(name) record \(index + 1): in \(a), out \(b)")
        }
        let inReader = try PcapReader(path: input), outReader = try PcapReader(path: output)
        #expect(inReader.linkType == outReader.linkType)
        #expect(inReader.precision == outReader.precision)

        // Classic pcap: the file itself is byte-identical.
        if name.hasSuffix(".pcap") {
            let inBytes = try fileBytes(input), outBytes = try fileBytes(output)
            // The records and every header field but the snap length.
            var inMasked = inBytes, outMasked = outBytes
            if inMasked.count >= 24, outMasked.count >= 24 {
                writeLE32(&inMasked, 16, 0)
                writeLE32(&outMasked, 16, 0)
            }
            let sameButSnapLength = inMasked == outMasked
            #expect(sameButSnapLength, "\(name): output differs from input beyond the snap length field")
            // And the snap length too: the whole file is byte-identical.
            let identical = inBytes == outBytes
            #expect(identical, "\(name): output not byte-identical (input snap length \(Self.snapLength(inBytes)), output \(Self.snapLength(outBytes)))")
        }

        // The summary line and the stats file count the frames.
        let summary = try #require(result.lines.last)
        #expect(summary.hasPrefix("replay: \(count) frames in on p0 "), "\(summary)")
        #expect(summary.contains(", \(count) out on p0 -> \(output),"), "\(summary)")
        let json = try JSON.parse(String(decoding: try fileBytes(stats), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
        #expect(json["frames_in"]?.integer == count, "\(json)")
        #expect(json["frames_out"]?.integer == count, "\(json)")
        #expect(json["bytes_in"]?.integer == records.reduce(0) { $0 + $1.bytes.count }, "\(json)")
    }

    /// The pcapng capture, checked against tshark too: every record's time, lengths and bytes.
    @Test(.enabled(if: Tool.tshark != nil, "tshark is not installed (the Makefile installs it)"))
    func pcapngMatchesUnderTshark() throws {
        let input = Paths.capture("pcapng-testgen__le_basic_test001.pcapng")
        let directory = try TemporaryDirectory()
        let output = directory.path("out.pcap")
        let result = try Tool.pier("replay", "--in", "p0=\(input)", "--out", "p0=\(output)")
        try #require(result.status == 0, "\(result)")
        let tshark = try #require(Tool.tshark)
        // `-x` cannot go with `-T fields`: one run for times and lengths, one for the bytes.
        func dump(_ file: String) throws -> String {
            try Tool.run(tshark, ["-r", file, "-T", "fields", "-e", "frame.time_epoch", "-e", "frame.len", "-e", "frame.cap_len"]).stdout
                + Tool.run(tshark, ["-r", file, "-x"]).stdout
        }
        let before = try dump(input), after = try dump(output)
        #expect(before.split(separator: "\n").count > 4 * 3, "tshark printed too little: \(before)")
        #expect(before == after)
    }
}
