import Wire

/// Local: what the node itself answers on its L3 interfaces (the bridge's gateway address,
/// as docker0 does for 172.17.0.1, and the uplink's node IP). ARP requests for one of the
/// interface's addresses get a reply; ARP packets to the node teach the neighbour table (and
/// release frames held for that neighbour); ICMP echo requests to any of the node's
/// addresses are answered in place. Other traffic to the node's addresses is dropped
/// (`local-delivery-unsupported`); traffic to other addresses goes on to the route stage.
///
/// IPv6 gets the same (LocalStage+IPv6.swift): neighbour solicitations for the interface's
/// IPv6 addresses are answered, solicitations and advertisements teach the neighbour table,
/// and ICMPv6 echo requests to the node are answered in place.
///
/// ARP requests and solicitations for addresses that are not the node's are never answered
/// here: on a bridge they flood like any other broadcast or multicast.
final class LocalStage: FrameStage {
    let context: PipelineContext
    /// Told every neighbour the node hears of (it releases the frames waiting for them).
    let resolver: NeighborResolver

    init(context: PipelineContext, resolver: NeighborResolver) {
        self.context = context
        self.resolver = resolver
    }

    /// Handles one frame. The pipeline calls it frame by frame, interleaved with the route
    /// stage, so that what a frame teaches (a neighbour's MAC) only affects later frames.
    func process(_ frame: inout Frame, at index: Int) {
        switch frame.verdict {
        case .toInterface(let interface):
            handle(&frame, interface: interface)
        case .flood(let bridge, _):
            // A broadcast ARP request on a bridge floods and may also be for the bridge.
            let interface = context.bridgeInterface[bridge]
            guard interface >= 0 else { return }
            if frame.layers.networkType == .arp {
                answerARP(frame, interface: interface, consume: false)
            } else if frame.layers.networkType == .ipv6 {
                answerNeighborSolicitation(frame, interface: interface)
            }
        default:
            return
        }
    }

    /// Handles a frame addressed to `interface` (unicast to its MAC, or a group frame on a
    /// routed port).
    private func handle(_ frame: inout Frame, interface: InterfaceIndex) {
        switch frame.layers.networkType {
        case .arp:
            let consumed = answerARP(frame, interface: interface, consume: true)
            frame.verdict = consumed ? .delivered : .drop(.malformedARP)
            if consumed { context.counters.count(.delivered) }
        case .ipv4:
            handleIPv4(&frame, interface: interface)
        case .ipv6:
            handleIPv6(&frame, interface: interface)
        default:
            frame.verdict = .drop(.unhandledMulticast)
            context.trace(frame, "local: not ARP, IPv4 or IPv6 -> drop unhandled-multicast")
        }
    }

    /// Learns from and answers an ARP packet seen by `interface`. Returns false when it is
    /// not Ethernet/IPv4 ARP.
    @discardableResult
    private func answerARP(_ frame: borrowing Frame, interface: InterfaceIndex, consume: Bool) -> Bool {
        let bytes = frame.bytes.slice(from: Int(frame.layers.network))
        guard let packet = try? ARPPacket(validating: bytes), let arp = try? ARPRepr(packet) else { return false }
        let config = context.config.interfaces[interface]
        let isForUs = config.ipv4.contains { $0.address == arp.targetIP }
        // Learn the sender when the packet is addressed to us (a reply, or a request for one
        // of our addresses), as Linux does, and only from our own subnets.
        if (isForUs || arp.operation == .reply) && config.ipv4.contains(where: { $0.contains(arp.senderIP) })
            && !arp.senderMAC.isGroup && arp.senderIP != .any {
            resolver.learned(.ipv4(arp.senderIP), mac: arp.senderMAC, from: frame)
        }
        guard arp.operation == .request, isForUs else {
            if consume { context.trace(frame, "local: ARP \(arp.operation == .reply ? "reply" : "request") to \(config.name), taken") }
            return true
        }
        var reply = context.pool.take()
        PacketBuilder.arpReply(into: &reply, senderMAC: config.mac, senderIP: arp.targetIP,
                               targetMAC: arp.senderMAC, targetIP: arp.senderIP)
        context.trace(frame, "local: ARP who-has \(arp.targetIP) (\(config.name)): reply \(config.mac) out \(context.config.ports[Int(frame.inputPort.rawValue)].name)")
        context.emitReply(reply, about: frame, counting: .arpRepliesSent)
        return true
    }

    /// What the local stage needs to know of an IPv4 packet to the node's MAC.
    private enum IPv4Disposition {
        case malformed, badChecksum, groupAddressed, notOurs
        case ours(IPv4Address, isEchoRequest: Bool)
    }

    /// Reads the facts of an IPv4 packet without holding on to the frame.
    private func disposition(of frame: borrowing Frame) -> IPv4Disposition {
        guard let ip = try? IPv4Header(validating: frame.bytes.slice(from: Int(frame.layers.network))) else { return .malformed }
        guard ip.isChecksumValid else { return .badChecksum }
        let destination = ip.destination
        if frame.bytes.mac(at: EthernetHeader.Field.destination).isGroup || destination.isMulticast || destination == .broadcast {
            return .groupAddressed
        }
        guard context.nodeAddresses4.contains(destination) else { return .notOurs }
        let isEchoRequest = frame.layers.transportProtocol == .icmp && frame.layers.transport >= 0 && !ip.isFragment
            && frame.bytes.u8(at: Int(frame.layers.transport)) == ICMPv4Type.echoRequest.rawValue
        return .ours(destination, isEchoRequest: isEchoRequest)
    }

    /// Answers ping to the node's addresses; leaves other IPv4 for the route stage.
    private func handleIPv4(_ frame: inout Frame, interface: InterfaceIndex) {
        switch disposition(of: frame) {
        case .malformed:
            frame.verdict = .drop(.malformedIPv4)
        case .badChecksum:
            frame.verdict = .drop(.badIPv4Checksum)
            context.trace(frame, "local: IPv4 header checksum wrong -> drop bad-ipv4-checksum")
        case .groupAddressed:
            frame.verdict = .drop(.unhandledMulticast)
            context.trace(frame, "local: IPv4 broadcast or multicast -> drop unhandled-multicast")
        case .notOurs:
            return  // the route stage forwards it
        case .ours(let destination, let isEchoRequest):
            if isEchoRequest {
                turnIntoEchoReply(&frame, interface: interface)
            } else {
                frame.verdict = .drop(.localDeliveryUnsupported)
                context.trace(frame, "local: for \(destination), not an echo request -> drop local-delivery-unsupported")
            }
        }
    }

    /// Rewrites an echo request into its reply in place: MACs and addresses swapped, type 0,
    /// TTL 64, checksums patched (RFC 1624) rather than recomputed.
    private func turnIntoEchoReply(_ frame: inout Frame, interface: InterfaceIndex) {
        let network = Int(frame.layers.network)
        var bytes = frame.mutableBytes
        let source = bytes.bytes.u32(at: network + IPv4Header.Field.source)
        let destination = bytes.bytes.u32(at: network + IPv4Header.Field.destination)
        bytes.setU32(destination, at: network + IPv4Header.Field.source)
        bytes.setU32(source, at: network + IPv4Header.Field.destination)
        // TTL shares a 16-bit word with the protocol; the address swap leaves the sum alone.
        let oldWord = bytes.bytes.u16(at: network + IPv4Header.Field.ttl)
        let newWord = UInt16(64) << 8 | (oldWord & 0xFF)
        bytes.setU16(newWord, at: network + IPv4Header.Field.ttl)
        let ipChecksum = bytes.bytes.u16(at: network + IPv4Header.Field.checksum)
        bytes.setU16(InternetChecksum.update(ipChecksum, old: oldWord, new: newWord), at: network + IPv4Header.Field.checksum)
        answerEcho(&frame, interface: interface, replyType: ICMPv4Type.echoReply.rawValue)
        context.trace(frame, "local: echo request to \(IPv4Address(rawValue: destination)): reply in place out \(context.config.ports[Int(frame.inputPort.rawValue)].name)")
    }

    /// The steps an ICMPv4 and an ICMPv6 echo reply share, once the addresses are swapped: the
    /// frame goes back to its sender from `interface`'s MAC by the port it came in on, with
    /// the ICMP type set to `replyType` and the checksum patched for it (RFC 1624; ICMP and
    /// ICMPv6 keep type, code and checksum at the same offsets).
    func answerEcho(_ frame: inout Frame, interface: InterfaceIndex, replyType: UInt8) {
        let transport = Int(frame.layers.transport)
        let peerMAC = frame.bytes.mac(at: EthernetHeader.Field.source)
        var bytes = frame.mutableBytes
        bytes.setMAC(peerMAC, at: EthernetHeader.Field.destination)
        bytes.setMAC(context.interfaceMACs[interface], at: EthernetHeader.Field.source)
        let oldType = bytes.bytes.u16(at: transport)
        let newType = UInt16(replyType) << 8 | (oldType & 0x00FF)
        bytes.setU16(newType, at: transport)
        let checksum = bytes.bytes.u16(at: transport + ICMPv4Message.Field.checksum)
        bytes.setU16(InternetChecksum.update(checksum, old: oldType, new: newType), at: transport + ICMPv4Message.Field.checksum)
        frame.verdict = .output(frame.inputPort)
        context.counters.count(.echoRepliesSent)
    }
}

// MARK: What this part counts (names and descriptions: DropReason, PipelineCounters.Event)

extension LocalStage: CountingPart {
    package static let dropReasons: [DropReason] = [.badIPv4Checksum, .unhandledMulticast, .localDeliveryUnsupported]
    package static let events: [PipelineCounters.Event] = [.arpRepliesSent, .echoRepliesSent, .delivered, .neighborAdvertisementsSent]
}
