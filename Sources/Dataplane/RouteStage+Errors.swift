import Wire

// The route stage's ICMP and ICMPv6 error policy: what it reads of a packet to decide whether
// an error may be sent about it, the errors themselves (sent through the context, which
// applies Linux's rate limits), and the refusal of packets over the egress MTU.
extension RouteStage {
    /// The facts of an IPv4 packet that routing needs, read without holding the frame.
    struct IPv4Facts {
        var source: IPv4Address
        var destination: IPv4Address
        var ttl: UInt8
        var totalLength: Int
        var dontFragment: Bool
        /// RFC 1812 §4.3.2.7: no error about an ICMP error, a non-first fragment, or a
        /// packet from an unspecified, broadcast or multicast source.
        var mayTriggerError: Bool

        /// Reads the fields in place: the classify stage validated the header (version,
        /// length, total length) when it set `layers.network`; only the 20 bytes read are
        /// checked again.
        init?(of frame: borrowing Frame) {
            let network = Int(frame.layers.network)
            let bytes = frame.bytes
            guard network >= 0, bytes.byteCount >= network + IPv4Header.minimumLength else { return nil }
            typealias Field = IPv4Header.Field
            let transport = Int(frame.layers.transport)
            let isICMPError = bytes.u8(at: network + Field.protocol) == IPProtocol.icmp.rawValue && transport >= 0
                && transport < bytes.byteCount && ICMPv4Type(rawValue: bytes.u8(at: transport)).isError
            source = IPv4Address(rawValue: bytes.u32(at: network + Field.source))
            let badSource = source == .any || source == .broadcast || source.isMulticast
            let flags = bytes.u16(at: network + Field.flagsAndFragmentOffset)
            destination = IPv4Address(rawValue: bytes.u32(at: network + Field.destination))
            ttl = bytes.u8(at: network + Field.ttl)
            totalLength = Int(bytes.u16(at: network + Field.totalLength))
            dontFragment = flags & IPv4Header.FragmentMask.dontFragment != 0
            mayTriggerError = !isICMPError && flags & IPv4Header.FragmentMask.offset == 0 && !badSource
        }
    }

    /// What routing reads of the frame's IPv6 header: the destination, the hop limit, and
    /// whether an ICMPv6 error may be sent about it (RFC 4443 §2.4(e): not about an ICMPv6
    /// error or a packet whose source is unspecified or multicast; packets to a multicast
    /// address never get here, the local stage drops them as unhandled-multicast).
    struct IPv6Facts {
        var destination: IPv6Address
        var hopLimit: UInt8
        var mayTriggerError: Bool

        init?(of frame: borrowing Frame) {
            guard let header = try? IPv6Header(validating: frame.bytes.slice(from: Int(frame.layers.network))) else { return nil }
            let transport = Int(frame.layers.transport)
            let isError = frame.layers.transportProtocol == .icmpv6 && transport >= 0 && transport < frame.count
                && ICMPv6Repr.isError(frame.bytes.u8(at: transport))
            let source = header.source
            destination = header.destination
            hopLimit = header.hopLimit
            mayTriggerError = !isError && source != .any && !source.isMulticast
        }
    }

    /// True when `frame` is a super-frame (TSO/USO from a TAP device with offloads) whose
    /// segments each fit `mtu`: IP and transport headers plus `segmentSize` bytes, the length
    /// Linux's `skb_gso_validate_network_len` checks instead of the super-frame's own.
    static func segmentsFit(_ frame: borrowing Frame, mtu: Int) -> Bool {
        let offload = frame.offload
        guard offload.isSegmented, frame.layers.network >= 0, frame.layers.transport >= 0 else { return false }
        let network = Int(frame.layers.network), transport = Int(frame.layers.transport)
        let bytes = frame.bytes
        let transportHeader: Int
        if offload.innerKind == SegmentOffload.Kind.udpL4 {
            transportHeader = UDPHeader.length
        } else {
            guard transport + TCPHeader.minimumLength <= bytes.byteCount else { return false }
            transportHeader = Int(bytes.u8(at: transport + TCPHeader.Field.dataOffsetAndFlags) >> 4) * 4
        }
        return transport - network + transportHeader + Int(offload.segmentSize) <= mtu
    }

    /// Drops a packet longer than the egress MTU; with DF, tells the sender the MTU (the
    /// packet is quoted as it arrived, TTL not yet decremented, as Linux quotes it).
    func refuseTooBig(_ frame: inout Frame, facts: IPv4Facts, ingress: InterfaceIndex, mtu: Int) {
        guard facts.dontFragment else {
            frame.verdict = .drop(.tooBigForTunnel)
            context.trace(frame, "route: \(facts.totalLength) bytes over MTU \(mtu), DF clear -> drop too-big-for-tunnel (no fragmentation)")
            return
        }
        sendICMPError(about: frame, facts: facts, ingress: ingress, type: .destinationUnreachable,
                      code: ICMPv4Type.UnreachableCode.fragmentationNeeded, restOfHeader: UInt32(mtu))
        frame.verdict = .drop(.fragmentationNeeded)
        context.trace(frame, "route: \(facts.totalLength) bytes over MTU \(mtu) with DF -> drop fragmentation-needed, ICMP sent")
    }

    /// Sends an ICMP error about `frame` back out of its ingress port, unless RFC 1812
    /// §4.3.2.7 forbids one (a frame that came out of the tunnel goes back into it: the
    /// pipeline encapsulates what Pier makes).
    func sendICMPError(about frame: borrowing Frame, facts: IPv4Facts, ingress: InterfaceIndex,
                       type: ICMPv4Type, code: UInt8, restOfHeader: UInt32 = 0) {
        guard facts.mayTriggerError else { return }
        context.emitICMPError(about: frame, ingress: ingress, type: type, code: code, restOfHeader: restOfHeader)
    }

    /// Sends an ICMPv6 error of `type` (code 0) about `frame` back out of its ingress port,
    /// unless RFC 4443 §2.4(e) forbids one.
    func sendICMPv6Error(about frame: borrowing Frame, facts: IPv6Facts, ingress: InterfaceIndex, type: UInt8) {
        guard facts.mayTriggerError else { return }
        context.emitICMPv6Error(about: frame, ingress: ingress, type: type, code: 0)
    }
}
