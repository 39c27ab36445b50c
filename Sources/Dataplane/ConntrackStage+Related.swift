import Wire

// ICMP errors about tracked connections ("related" in netfilter's words): translated inside
// (the quoted IP and L4 headers) and out (the error's own addresses), every checksum patched.
extension ConntrackStage {
    /// Translates an ICMP error about a tracked connection: the quoted datagram went the
    /// other way, so its key reversed is the key of the error's own direction.
    func translateRelated(_ frame: inout Frame) {
        let transport = Int(frame.layers.transport), network = Int(frame.layers.network)
        // The message ends with the outer IP datagram: Ethernet padding after it is not quoted.
        let end = min(frame.count, network + Int(frame.bytes.u16(at: network + IPv4Header.Field.totalLength)))
        guard end > transport, let quoted = NATRewrite.quotedFacts(of: frame.bytes.slice(from: 0, count: end), transport: transport),
              let hit = table.find(quoted.key.reversed, now: frame.timestamp.nanoseconds) else { return }
        let record = table[hit.index]
        guard record.has(.sourceNAT) || record.has(.destinationNAT) else { return }
        let key = record.key(hit.direction)
        let translated = record.key(hit.direction.opposite).reversed
        var bytes = frame.mutableBytes
        NATRewrite.translateQuoted(&bytes, icmp: transport, network: quoted.network, transport: quoted.transport,
                                   end: end, quotedOld: quoted.key, quotedNew: translated.reversed)
        if bytes.bytes.u32(at: network + IPv4Header.Field.destination) == key.destination.rawValue {
            NATRewrite.setAddress(&bytes, network: network, field: IPv4Header.Field.destination, to: translated.destination)
        }
        if bytes.bytes.u32(at: network + IPv4Header.Field.source) == key.source.rawValue {
            NATRewrite.setAddress(&bytes, network: network, field: IPv4Header.Field.source, to: translated.source)
        }
        context.counters.count(.relatedTranslated)
        context.trace(frame, "conntrack: ICMP error about \(quoted.key) (related), translated to quote \(translated.reversed)")
    }
}
