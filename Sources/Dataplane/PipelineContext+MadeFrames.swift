import Wire

// The frames stages make about a frame they handle, each queued with its final verdict for
// the output step: one builder per kind, whichever stage asks.
extension PipelineContext {
    /// Sends an ARP request (RFC 826) for `address` from `interface`'s MAC and its address on
    /// that subnet, leaving as `verdict` says, stamped `timestamp`; returns the sender address
    /// used, or nil (nothing sent) when the interface has no IPv4 address.
    @discardableResult
    func emitARPRequest(for address: IPv4Address, interface: InterfaceIndex, verdict: Verdict,
                        at timestamp: Timestamp) -> IPv4Address? {
        guard let source = sourceAddress(of: interface, toward: address) else { return nil }
        emitRequest(verdict: verdict, at: timestamp, counting: .arpRequestsSent) { request in
            PacketBuilder.arpRequest(into: &request, senderMAC: interfaceMACs[interface], senderIP: source, target: address)
        }
        return source
    }

    /// Sends a neighbour solicitation (RFC 4861 §7.2.2) for `address` to its solicited-node
    /// group, from `interface`'s MAC and its IPv6 address on that subnet, leaving as `verdict`
    /// says, stamped `timestamp`; returns the sender address used, or nil (nothing sent) when
    /// the interface has no IPv6 address.
    @discardableResult
    func emitNeighborSolicitation(for address: IPv6Address, interface: InterfaceIndex, verdict: Verdict,
                                  at timestamp: Timestamp) -> IPv6Address? {
        guard let source = sourceAddress(of: interface, toward: address) else { return nil }
        emitRequest(verdict: verdict, at: timestamp, counting: .neighborSolicitationsSent) { request in
            PacketBuilder.neighborSolicitation(into: &request, senderMAC: interfaceMACs[interface], senderIP: source, target: address)
        }
        return source
    }

    /// Queues a request `build` writes into a pool frame, leaving as `verdict` says, stamped
    /// `timestamp`, and counts it as `event`.
    private func emitRequest(verdict: Verdict, at timestamp: Timestamp, counting event: PipelineCounters.Event,
                             _ build: (inout Frame) -> Void) {
        var request = pool.take()
        build(&request)
        request.verdict = verdict
        request.timestamp = timestamp
        counters.count(event)
        emit(request)
    }

    /// Sends an ICMPv4 error (RFC 792) about the IPv4 packet in `frame` back out of the port
    /// it came in on: from `ingress`'s MAC and its address on the sender's subnet, to the
    /// frame's source MAC and the packet's source, quoting the packet. `restOfHeader` is the
    /// second word of the ICMP header (the next-hop MTU of fragmentation needed, RFC 1191).
    /// Nothing is sent when `ingress` has no IPv4 address or Linux's rate limits hold it back
    /// (`ICMPRateLimiter`); whether an error may be sent about this packet at all (RFC 1812
    /// §4.3.2.7) is the caller's to decide.
    func emitICMPError(about frame: borrowing Frame, ingress: InterfaceIndex, type: ICMPv4Type, code: UInt8,
                       restOfHeader: UInt32 = 0) {
        let network = Int(frame.layers.network)
        let sender = frame.bytes.ipv4(at: network + IPv4Header.Field.source)
        guard let source = sourceAddress(of: ingress, toward: sender),
              allowError(to: IPv6Address(high: 0, low: 0xFFFF_0000_0000 | UInt64(sender.rawValue)), about: frame) else { return }
        var error = pool.take()
        PacketBuilder.icmpError(into: &error, type: type, code: code, restOfHeader: restOfHeader,
                                offending: frame.bytes.slice(from: network),
                                sourceMAC: interfaceMACs[ingress],
                                destinationMAC: frame.bytes.mac(at: EthernetHeader.Field.source),
                                source: source, destination: sender)
        emitReply(error, about: frame, counting: .icmpErrorsSent)
    }

    /// Sends an ICMPv6 error (RFC 4443) about the IPv6 packet in `frame` back out of the port
    /// it came in on: from `ingress`'s MAC and its IPv6 address on the sender's subnet (else
    /// its first), to the frame's source MAC and the packet's source, quoting the packet.
    /// Nothing is sent when `ingress` has no IPv6 address or the rate limits hold it back (RFC
    /// 4443 §2.4(f)); whether an error may be sent at all (§2.4(e)) is the caller's to decide.
    func emitICMPv6Error(about frame: borrowing Frame, ingress: InterfaceIndex, type: UInt8, code: UInt8) {
        let network = Int(frame.layers.network)
        let sender = frame.bytes.ipv6(at: network + IPv6Header.Field.source)
        guard let source = sourceAddress(of: ingress, toward: sender), allowError(to: sender, about: frame) else { return }
        var error = pool.take()
        PacketBuilder.icmpv6Error(into: &error, type: type, code: code, offending: frame.bytes.slice(from: network),
                                  sourceMAC: interfaceMACs[ingress],
                                  destinationMAC: frame.bytes.mac(at: EthernetHeader.Field.source),
                                  source: source, destination: sender)
        emitReply(error, about: frame, counting: .icmpErrorsSent)
    }

    /// True when the rate limits let an error go to `destination` now; counts the ones held back.
    private func allowError(to destination: IPv6Address, about frame: borrowing Frame) -> Bool {
        guard icmpLimiter.allow(destination, now: frame.timestamp.nanoseconds) else {
            counters.count(.icmpErrorsRateLimited)
            trace(frame, "icmp: error to \(destination) held back by the rate limit")
            return false
        }
        return true
    }

    /// Queues `reply` (an error, an ARP reply, an advertisement) to leave by the port `frame`
    /// came in on, stamped with its time, and counts it as `event`.
    func emitReply(_ reply: consuming Frame, about frame: borrowing Frame, counting event: PipelineCounters.Event) {
        reply.verdict = .output(frame.inputPort)
        reply.timestamp = frame.timestamp
        counters.count(event)
        emit(reply)
    }
}
