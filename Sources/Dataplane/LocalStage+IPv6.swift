import Wire

/// The IPv6 half of the local stage: neighbour discovery (RFC 4861) and ICMPv6 echo
/// (RFC 4443 §4) for the node's IPv6 addresses, as the kernel answers them on docker0 or the
/// uplink. Duplicate address detection probes (source ::) are answered to all-nodes, as
/// RFC 4861 §7.2.4 asks. Router solicitations and redirects are not handled.
extension LocalStage {
    /// What the local stage needs to know of an IPv6 packet at one of the node's interfaces.
    enum IPv6Disposition {
        case malformed
        /// A valid solicitation or advertisement (hop limit 255, code 0, checksum right).
        case neighborDiscovery(NeighborDiscoveryRepr, source: IPv6Address)
        /// Neighbour discovery that RFC 4861 §7.1 says to discard silently.
        case invalidNeighborDiscovery
        case echoRequest(IPv6Address)
        case ours(IPv6Address)
        case groupAddressed
        case notOurs
    }

    /// Reads the facts of an IPv6 packet without holding on to the frame.
    func ipv6Disposition(of frame: borrowing Frame) -> IPv6Disposition {
        let network = Int(frame.layers.network)
        guard let ip = try? IPv6Header(validating: frame.bytes.slice(from: network)), !ip.isTruncated else { return .malformed }
        let destination = ip.destination, source = ip.source
        let isOurs = context.nodeAddresses6.contains(destination)
        guard frame.layers.transportProtocol == .icmpv6, frame.layers.transport >= 0 else {
            return isOurs ? .ours(destination) : destination.isMulticast ? .groupAddressed : .notOurs
        }
        let transport = Int(frame.layers.transport)
        let end = network + IPv6Header.length + ip.payloadLength
        guard transport + ICMPv6Message.headerLength <= end,
              let message = try? ICMPv6Message(validating: frame.bytes.slice(from: transport, count: end - transport))
        else { return .malformed }
        let type = message.type
        if type == NeighborDiscoveryRepr.Kind.solicitation.rawValue || type == NeighborDiscoveryRepr.Kind.advertisement.rawValue {
            let sum = InternetChecksum.pseudoHeaderSum(source: source, destination: destination,
                                                       protocol: .icmpv6, length: end - transport)
            guard ip.hopLimit == 255, message.code == 0, message.isChecksumValid(pseudoHeaderSum: sum),
                  let repr = try? NeighborDiscoveryRepr(message), !repr.target.isMulticast
            else { return .invalidNeighborDiscovery }
            return .neighborDiscovery(repr, source: source)
        }
        if isOurs { return type == ICMPv6Repr.echoRequest ? .echoRequest(destination) : .ours(destination) }
        return destination.isMulticast ? .groupAddressed : .notOurs
    }

    /// Handles an IPv6 frame addressed to `interface`: answers and learns from neighbour
    /// discovery, answers ping, leaves other unicast for the route stage.
    func handleIPv6(_ frame: inout Frame, interface: InterfaceIndex) {
        switch ipv6Disposition(of: frame) {
        case .malformed:
            frame.verdict = .drop(.malformedIPv6)
        case .neighborDiscovery(let repr, let source):
            neighborDiscovery(frame, repr: repr, source: source, interface: interface)
            frame.verdict = .delivered
            context.counters.count(.delivered)
        case .invalidNeighborDiscovery:
            frame.verdict = .drop(.malformedTransport)
            context.trace(frame, "local: neighbour discovery with hop limit not 255, bad code or checksum -> drop malformed-transport")
        case .echoRequest(let destination):
            turnIntoEchoReply6(&frame, interface: interface)
            context.trace(frame, "local: ICMPv6 echo request to \(destination): reply in place out \(context.config.ports[Int(frame.inputPort.rawValue)].name)")
        case .ours(let destination):
            frame.verdict = .drop(.localDeliveryUnsupported)
            context.trace(frame, "local: for \(destination), not an echo request -> drop local-delivery-unsupported")
        case .groupAddressed:
            frame.verdict = .drop(.unhandledMulticast)
            context.trace(frame, "local: IPv6 multicast Pier does not answer -> drop unhandled-multicast")
        case .notOurs:
            return  // the route stage forwards it
        }
    }

    /// Answers a solicitation flooding on a bridge when it asks for the bridge's own address;
    /// the frame itself floods on.
    func answerNeighborSolicitation(_ frame: borrowing Frame, interface: InterfaceIndex) {
        guard case .neighborDiscovery(let repr, let source) = ipv6Disposition(of: frame) else { return }
        neighborDiscovery(frame, repr: repr, source: source, interface: interface)
    }

    /// Learns from a solicitation or advertisement seen by `interface`, and answers a
    /// solicitation for one of its addresses.
    private func neighborDiscovery(_ frame: borrowing Frame, repr: NeighborDiscoveryRepr, source: IPv6Address,
                                   interface: InterfaceIndex) {
        let config = context.config.interfaces[interface]
        // The sender of a solicitation (not a DAD probe) and the target of an advertisement,
        // with the link-layer address they carry, from the interface's own subnets.
        let learned: IPv6Address? = repr.kind == .solicitation ? (source == .any ? nil : source) : repr.target
        if let address = learned, let mac = repr.linkLayerAddress, !mac.isGroup,
           config.ipv6.contains(where: { $0.contains(address) }) {
            resolver.learned(.ipv6(address), mac: mac, from: frame)
        }
        guard repr.kind == .solicitation, config.ipv6.contains(where: { $0.address == repr.target }) else {
            context.trace(frame, "local: neighbour \(repr.kind == .solicitation ? "solicitation" : "advertisement") for \(repr.target), taken")
            return
        }
        let isProbe = source == .any
        let destination = isProbe ? IPv6Address.allNodes : source
        let destinationMAC = isProbe ? MACAddress(ipv6Multicast: .allNodes)
            : repr.linkLayerAddress ?? frame.bytes.mac(at: EthernetHeader.Field.source)
        let flags = NeighborDiscoveryRepr.routerFlag | NeighborDiscoveryRepr.overrideFlag
            | (isProbe ? 0 : NeighborDiscoveryRepr.solicitedFlag)
        var advertisement = context.pool.take()
        PacketBuilder.neighborDiscovery(
            into: &advertisement,
            repr: NeighborDiscoveryRepr(kind: .advertisement, flags: flags, target: repr.target, linkLayerAddress: config.mac),
            sourceMAC: config.mac, destinationMAC: destinationMAC, source: repr.target, destination: destination)
        context.trace(frame, "local: neighbour solicitation for \(repr.target) (\(config.name)): advertise \(config.mac) to \(destination)")
        context.emitReply(advertisement, about: frame, counting: .neighborAdvertisementsSent)
    }

    /// Rewrites an ICMPv6 echo request into its reply in place: addresses swapped (the
    /// pseudo-header sum does not change), hop limit 64, then `answerEcho` (type 129).
    private func turnIntoEchoReply6(_ frame: inout Frame, interface: InterfaceIndex) {
        let network = Int(frame.layers.network)
        var bytes = frame.mutableBytes
        let source = bytes.bytes.ipv6(at: network + IPv6Header.Field.source)
        let destination = bytes.bytes.ipv6(at: network + IPv6Header.Field.destination)
        bytes.setIPv6(destination, at: network + IPv6Header.Field.source)
        bytes.setIPv6(source, at: network + IPv6Header.Field.destination)
        bytes.setU8(64, at: network + IPv6Header.Field.hopLimit)
        answerEcho(&frame, interface: interface, replyType: ICMPv6Repr.echoReply)
    }
}
