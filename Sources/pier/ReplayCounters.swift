import Inspect
import PacketIO

#if canImport(Glibc)
import Glibc
#endif

/// What a replay counted, printed at the end and written by `--stats-json`.
struct ReplayCounters {
    var framesIn = 0
    var bytesIn = 0
    var framesOut = 0
    var elapsed = Duration.zero

    /// Frames per second over the whole run.
    var framesPerSecond: Double {
        let seconds = elapsed.seconds
        return seconds > 0 ? Double(framesIn) / seconds : 0
    }

    /// `replay: 11 frames in on p0 (922 bytes), 11 out on p0 -> out.pcap, 0 dropped, 0.000 s, 0.450 Mfps`.
    func summary(outputPath: String?) -> String {
        let destination = outputPath.map { " -> \($0)" } ?? " (not written: no --out)"
        let seconds = elapsed.seconds
        return "replay: \(framesIn) frames in on p0 (\(bytesIn) bytes), \(framesOut) out on p0\(destination), "
            + "0 dropped, \(format(seconds, digits: 3)) s, \(format(framesPerSecond / 1e6, digits: 3)) Mfps"
    }

    /// The counters as one JSON object.
    var json: JSONValue {
        .object([
            ("frames_in", .integer(Int64(framesIn))),
            ("bytes_in", .integer(Int64(bytesIn))),
            ("frames_out", .integer(Int64(framesOut))),
            ("drops", .object([])),
            ("ports", .object([("p0", .object([("in", .integer(Int64(framesIn))), ("out", .integer(Int64(framesOut)))]))])),
            ("elapsed_seconds", .number(format(elapsed.seconds, digits: 6))),
            ("frames_per_second", .number(format(framesPerSecond, digits: 0))),
        ])
    }

}

/// Writes `value` and a newline to `path` (`--stats-json`); a file that cannot be written is a
/// runtime failure.
func writeStats(_ value: JSONValue, to path: String) throws {
    guard let file = fopen(path, "w") else {
        throw RuntimeFailure(message: "\(path): cannot write the stats: \(systemMessage(errno))")
    }
    defer { fclose(file) }
    fputs(value.serialized + "\n", file)
}

extension Duration {
    /// The duration in seconds, as a `Double`.
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}

/// `value` with `digits` fraction digits, without Foundation.
func format(_ value: Double, digits: Int) -> String {
    guard value.isFinite else { return "0" }
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    let scaled = (value * scale).rounded()
    let whole = Int64(scaled / scale)
    guard digits > 0 else { return String(whole) }
    let fraction = Int64(abs(scaled - Double(whole) * scale))
    let fractionText = String(fraction)
    return "\(whole)." + String(repeating: "0", count: max(0, digits - fractionText.count)) + fractionText
}
