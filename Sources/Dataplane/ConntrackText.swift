import Wire

// The connection table as `conntrack -L` prints it, for `--dump` and `pier conntrack`.
extension ConntrackStage {
    /// One `conntrack -L` line per connection, in table order.
    func lines(now: Timestamp) -> [String] {
        liveIndices(now: now).map { Self.line(table[$0], now: now) }
    }

    /// The records of the connections that have not expired by `now`.
    func liveIndices(now: Timestamp) -> [Int] {
        table.indices().filter { table[$0].expires > now.nanoseconds }
    }

    /// `tcp      6 431999 ESTABLISHED src=… dst=… sport=… dport=… src=… … [ASSURED]`.
    static func line(_ connection: ConntrackTable.Connection, now: Timestamp) -> String {
        let proto = connection.original.protocol
        let name = proto == .tcp ? "tcp" : proto == .udp ? "udp" : "icmp"
        let seconds = max(0, (connection.expires - now.nanoseconds) / 1_000_000_000)
        var line = name + String(repeating: " ", count: 9 - name.count) + "\(proto.rawValue) \(seconds) "
        if proto == .tcp { line += (TCPState(rawValue: connection.state)?.name ?? "?") + " " }
        line += tuple(connection.original, request: true)
        if !connection.has(.seenReply) { line += " [UNREPLIED]" }
        line += " " + tuple(connection.reply, request: false)
        if connection.has(.assured) { line += " [ASSURED]" }
        return line
    }

    private static func tuple(_ key: FlowKey, request: Bool) -> String {
        guard key.protocol == .icmp else { return key.description }
        return "src=\(key.source) dst=\(key.destination) type=\(request ? 8 : 0) code=0 id=\(key.sourcePort)"
    }
}
