import Dataplane
import Inspect
import Wire

/// The counters and tables of a configured replay: a summary for people, `--dump` tables
/// like `bridge fdb show`, `ip route` and `conntrack -L`, and `--stats-json` for machines.
struct ReplayReport {
    let pipeline: Pipeline
    let elapsed: Duration

    private var counters: PipelineCounters { pipeline.counters }
    private var config: PipelineConfig { pipeline.config }
    private var framesIn: Int { counters.ports.reduce(0) { $0 + $1.framesIn } }
    private var framesOut: Int { counters.ports.reduce(0) { $0 + $1.framesOut } }

    /// Lines: totals, one per port, then the drops and events that happened.
    var summary: String {
        let seconds = elapsed.seconds
        var lines = ["replay: \(framesIn) frames in, \(framesOut) out, \(counters.totalDrops) dropped, "
            + "\(pipeline.heldFrames) held, \(format(seconds, digits: 3)) s"]
        for (index, port) in config.ports.enumerated() {
            let count = counters.ports[index]
            // A port a change removed leaves its number and counts (pier switch).
            lines.append("  \(port.name.isEmpty ? "(port \(index), removed)" : port.name): in \(count.framesIn) (\(count.bytesIn) bytes), out \(count.framesOut) (\(count.bytesOut) bytes)")
        }
        let drops = DropReason.allCases.filter { counters.dropped($0) > 0 }
        if !drops.isEmpty {
            lines.append("  drops: " + drops.map { "\($0.name) \(counters.dropped($0))" }.joined(separator: ", "))
        }
        let events = PipelineCounters.Event.allCases.filter { counters.value($0) > 0 }
        if !events.isEmpty {
            lines.append("  events: " + events.map { "\($0.name) \(counters.value($0))" }.joined(separator: ", "))
        }
        return lines.joined(separator: "\n")
    }

    /// The FDB of each bridge, the routes, the neighbours and the connections.
    var dump: String { TableText.dump(pipeline).joined(separator: "\n") }

    /// The counters as one JSON object.
    var json: JSONValue {
        let seconds = elapsed.seconds
        let ports: [(String, JSONValue)] = config.ports.enumerated().map { index, port in
            let count = counters.ports[index]
            return (port.name, .object([
                ("in", .integer(Int64(count.framesIn))), ("bytes_in", .integer(Int64(count.bytesIn))),
                ("out", .integer(Int64(count.framesOut))), ("bytes_out", .integer(Int64(count.bytesOut))),
            ]))
        }
        let drops: [(String, JSONValue)] = DropReason.allCases.filter { counters.dropped($0) > 0 }
            .map { ($0.name, .integer(Int64(counters.dropped($0)))) }
        let events: [(String, JSONValue)] = PipelineCounters.Event.allCases.filter { counters.value($0) > 0 }
            .map { ($0.name, .integer(Int64(counters.value($0)))) }
        let fdb: [(String, JSONValue)] = pipeline.fdbEntries().map { bridge, entries in
            (bridge, .object([("entries", .integer(Int64(entries.count)))]))
        }
        return .object([
            ("frames_in", .integer(Int64(framesIn))),
            ("frames_out", .integer(Int64(framesOut))),
            ("dropped", .integer(Int64(counters.totalDrops))),
            ("held", .integer(Int64(pipeline.heldFrames))),
            ("ports", .object(ports)),
            ("drops", .object(drops)),
            ("events", .object(events)),
            ("fdb", .object(fdb)),
            ("conntrack", .object([("entries", .integer(Int64(pipeline.liveConnectionCount)))])),
            ("elapsed_seconds", .number(format(seconds, digits: 6))),
        ])
    }
}
