import Wire

// The connection table as `conntrack -L` prints it, for `--dump` and `pier conntrack`.
extension ConntrackStage {
    /// One `conntrack -L` line per connection, in table order.
    func lines(now: Timestamp) -> [String] {
        liveIndices(now: now).map { index in
            let connection = table[index]
            return connection.original.isIPv6 ? Self.line6(connection, addresses: table.addresses6(at: index), now: now)
                                              : Self.line(connection, now: now)
        }
    }

    /// The records of the connections that have not expired by `now`.
    func liveIndices(now: Timestamp) -> [Int] {
        table.indices().filter { table[$0].expires > now.nanoseconds }
    }

    /// `tcp      6 431999 ESTABLISHED src=… dst=… sport=… dport=… src=… … [ASSURED]`.
    static func line(_ connection: ConntrackTable.Connection, now: Timestamp) -> String {
        line(connection, now: now, original: tuple(connection.original, request: true), reply: tuple(connection.reply, request: false))
    }

    /// An IPv6 connection as `conntrack -L -o extended` prints it: `ipv6     10 tcp      6 …`
    /// with the full addresses (ICMPv6 echo: `type=128 code=0 id=…`, its reply `type=129`).
    static func line6(_ connection: ConntrackTable.Connection, addresses: ConnectionAddresses6, now: Timestamp) -> String {
        func tuple(_ key: FlowKey, _ pair: AddressPair6, request: Bool) -> String {
            guard key.protocol == .icmpv6 else { return tuple6(key, pair) }
            return "src=\(pair.source) dst=\(pair.destination) type=\(request ? 128 : 129) code=0 id=\(key.sourcePort)"
        }
        return "ipv6     10 " + line(connection, now: now, original: tuple(connection.original, addresses.original, request: true),
                                    reply: tuple(connection.reply, addresses.reply, request: false))
    }

    private static func line(_ connection: ConntrackTable.Connection, now: Timestamp, original: String, reply: String) -> String {
        let proto = connection.original.protocol
        let name = proto == .tcp ? "tcp" : proto == .udp ? "udp" : proto == .icmpv6 ? "icmpv6" : "icmp"
        let seconds = max(0, (connection.expires - now.nanoseconds) / 1_000_000_000)
        var line = name + String(repeating: " ", count: 9 - name.count) + "\(proto.rawValue) \(seconds) "
        if proto == .tcp { line += (TCPState(rawValue: connection.state)?.name ?? "?") + " " }
        line += original
        if !connection.has(.seenReply) { line += " [UNREPLIED]" }
        line += " " + reply
        if connection.has(.assured) { line += " [ASSURED]" }
        return line
    }

    private static func tuple(_ key: FlowKey, request: Bool) -> String {
        guard key.protocol == .icmp else { return key.description }
        return "src=\(key.source) dst=\(key.destination) type=\(request ? 8 : 0) code=0 id=\(key.sourcePort)"
    }
}
