import Dataplane
import Wire

/// The pipeline's tables as text, one entry a line, shared by `pier replay --dump` and the
/// live switch's control socket (`pier fdb`), so both print the same lines. (`pier conntrack`
/// prints the connection lines alone, without the header and indent, as `conntrack -L` does.)
enum TableText {
    /// Per bridge, `fdb docker0: 2 entries` then `  02:42:ac:11:00:02 dev c1 age 3s` lines,
    /// like `bridge fdb show`.
    static func fdb(_ pipeline: Pipeline) -> [String] {
        var lines: [String] = []
        for (bridge, entries) in pipeline.fdbEntries() {
            lines.append("fdb \(bridge): \(entries.count) entries")
            for entry in entries {
                let port = pipeline.config.ports[Int(entry.port.rawValue)].name
                lines.append("  \(entry.mac) dev \(port) \(entry.isStatic ? "static" : "age \(entry.ageSeconds)s")")
            }
        }
        return lines
    }

    /// `routes:` then one line per IPv4 route, like `ip route`.
    static func routes(_ pipeline: Pipeline) -> [String] {
        var lines = ["routes:"]
        for route in pipeline.routes4() {
            var line = "  " + route.prefix.canonical.description
            if let gateway = route.gateway { line += " via " + gateway.description }
            line += " dev " + route.interface
            lines.append(line)
        }
        return lines
    }

    /// `neighbors:` then one line per IPv4 neighbour, like `ip neigh`.
    static func neighbors(_ pipeline: Pipeline) -> [String] {
        var lines = ["neighbors:"]
        for (address, entry) in pipeline.neighbors.ipv4.sorted(by: { $0.key < $1.key }) {
            lines.append("  \(address) lladdr \(entry.mac) \(entry.isStatic ? "PERMANENT" : "REACHABLE")")
        }
        return lines
    }

    /// `conntrack: N entries` then one line per connection, like `conntrack -L`.
    static func conntrack(_ pipeline: Pipeline) -> [String] {
        let connections = pipeline.conntrackLines()
        return ["conntrack: \(connections.count) entries"] + connections.map { "  " + $0 }
    }

    /// Everything `--dump` prints: the FDBs, the routes, the neighbours and the connections.
    static func dump(_ pipeline: Pipeline) -> [String] {
        fdb(pipeline) + routes(pipeline) + neighbors(pipeline) + conntrack(pipeline)
    }
}
