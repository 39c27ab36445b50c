import Wire

// Bridged traffic through conntrack, where it must go (Linux's br_netfilter): a pod that
// reaches a Service or published port whose endpoint is on its own bridge is DNATed and
// routed there with its own address, and the endpoint answers it directly, switched on the
// bridge. That reply must be un-DNATed on its way through the bridge, or the pod would see
// an answer from an address it never spoke to.
//
// Every other bridged frame is never looked up: the conntrack stage remembers the endpoints
// of such connections in a small filter, and only a bridged frame from one of them (or an
// address that shares its bit) is looked up. Found as a reply, it is tracked and translated
// like a routed one (state, timer, rewrite); an ICMP error from it is translated as related.
// A bridged frame that belongs to no connection passes untouched: bridged connections are not
// tracked (Linux tracks them, without NAT there is nothing to change).

/// A set of addresses that may give false positives and never false negatives: one bit per
/// hash of an address, 4,096 bits. Filled as connections open; emptied when the connection
/// table is (a bit stays set while any connection might still need it).
struct BridgedEndpointFilter {
    private var words = [UInt64](repeating: 0, count: 64)
    /// True when no address was added since the last `removeAll`.
    private(set) var isEmpty = true

    /// The word and bit of `address` (a multiplicative hash's top 12 bits).
    @inline(__always)
    private static func position(_ address: IPv4Address) -> (word: Int, bit: UInt64) {
        let hash = (address.rawValue &* 0x9E37_79B1) >> 20
        return (Int(hash >> 6), 1 << UInt64(hash & 63))
    }

    /// Adds `address`.
    mutating func insert(_ address: IPv4Address) {
        let (word, bit) = Self.position(address)
        words[word] |= bit
        isEmpty = false
    }

    /// False when `address` was certainly not added.
    @inline(__always)
    func mayContain(_ address: IPv4Address) -> Bool {
        let (word, bit) = Self.position(address)
        return words[word] & bit != 0
    }

    /// Forgets every address.
    mutating func removeAll() {
        guard !isEmpty else { return }
        for index in words.indices { words[index] = 0 }
        isEmpty = true
    }
}

extension ConntrackStage {
    /// What conntrack reads of a bridged `frame` (switched to a port or flooded) when it is
    /// IPv4 TCP, UDP or ICMP from an address the filter may hold; else nil.
    func bridgedFacts(of frame: borrowing Frame) -> NATRewrite.Facts? {
        switch frame.verdict {
        case .output, .flood: break
        default: return nil
        }
        guard frame.layers.networkType == .ipv4, frame.layers.transport >= 0 else { return nil }
        let network = Int(frame.layers.network)
        guard frame.count >= network + IPv4Header.minimumLength,
              bridgedEndpoints.mayContain(IPv4Address(rawValue: frame.bytes.u32(at: network + IPv4Header.Field.source)))
        else { return nil }
        return NATRewrite.facts(of: frame.bytes, network: network, transport: Int(frame.layers.transport))
    }

    /// Translates a bridged frame that is the reply of a connection (or an ICMP error about
    /// one); anything else passes as it is. Kept out of line: the common bridged frame only
    /// pays the filter's emptiness test in `process(_:at:)`.
    @inline(never)
    func trackBridged(_ frame: inout Frame) {
        guard let facts = bridgedFacts(of: frame) else { return }
        if facts.key.protocol == .icmp {
            if case .error = ICMPTracker.kind(of: ICMPv4Type(rawValue: facts.icmpType)) { translateRelated(&frame) }
            return
        }
        let now = frame.timestamp.nanoseconds
        guard let hit = table.find(facts.key, now: now), hit.direction == .reply else { return }
        context.trace(frame, "conntrack: bridged reply of a tracked connection")
        _ = track(&frame, hit: hit, facts: facts, now: now)
    }
}

// Translated frames that stay on their bridge: a frame a pod sent to the bridge's own MAC
// whose destination NAT changed (a Service or published port DNATed, or the reply of a
// masqueraded one un-SNATed) toward a station of that same bridge is bridged to it, as
// br_netfilter does (`br_nf_pre_routing_finish`: the new destination routes back out the
// bridge, so the frame is handed back to the bridge with the neighbour's MAC): its
// destination MAC becomes the station's, its source MAC and TTL stay. Back to the station
// that sent it (hairpin), only when the bridge allows hairpin (Linux's `hairpin_mode` on the
// port); otherwise, and when the station's MAC is not known yet, the route stage routes it.
extension ConntrackStage {
    /// Bridges `frame` (translated, entered through bridge interface `ingress`) to
    /// `destination` when that address leaves by the same bridge (`egress`).
    func bridgeBack(_ frame: inout Frame, ingress: InterfaceIndex, destination: IPv4Address, egress: InterfaceIndex?) {
        guard egress == ingress, case .bridge(let bridge) = context.config.interfaces[ingress].attachment,
              let mac = neighbors?.resolve(destination) else { return }
        if mac == frame.bytes.mac(at: EthernetHeader.Field.source) && !context.config.bridges[bridge].hairpin { return }
        var bytes = frame.mutableBytes
        bytes.setMAC(mac, at: EthernetHeader.Field.destination)
        frame.verdict = .toBridge(bridge)
        context.trace(frame, "conntrack: \(destination) is on the bridge it came from: bridged to \(mac), not routed")
    }
}
