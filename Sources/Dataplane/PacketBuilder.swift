import Wire

/// Writes the packets Pier originates (ARP requests and replies, ICMP errors) into frames
/// from the pool, through the header reprs, so every length and checksum is computed. Each
/// frame gets its layer offsets too, as classification would give them, so later stages (the
/// overlay's encapsulation of an error toward a remote pod) read it like any other frame.
enum PacketBuilder {
    /// An ARP request for `target`, broadcast from `senderMAC`/`senderIP` (RFC 826).
    static func arpRequest(into frame: inout Frame, senderMAC: MACAddress, senderIP: IPv4Address,
                                  target: IPv4Address) {
        arp(into: &frame, destination: .broadcast, repr: ARPRepr(
            operation: .request, senderMAC: senderMAC, senderIP: senderIP, targetMAC: .zero, targetIP: target))
    }

    /// An ARP reply telling `targetMAC`/`targetIP` that `senderIP` is at `senderMAC`.
    static func arpReply(into frame: inout Frame, senderMAC: MACAddress, senderIP: IPv4Address,
                                targetMAC: MACAddress, targetIP: IPv4Address) {
        arp(into: &frame, destination: targetMAC, repr: ARPRepr(
            operation: .reply, senderMAC: senderMAC, senderIP: senderIP, targetMAC: targetMAC, targetIP: targetIP))
    }

    /// An Ethernet frame carrying `repr`, padded to the 60-byte Ethernet minimum as Linux sends ARP.
    static func arp(into frame: inout Frame, destination: MACAddress, repr: ARPRepr) {
        frame.resetContents(count: 60)
        var bytes = frame.mutableBytes
        EthernetRepr(destination: destination, source: repr.senderMAC, etherType: .arp).emit(into: &bytes)
        var payload = bytes.mutableSlice(from: EthernetHeader.length)
        repr.emit(into: &payload)
        frame.layers = LayerOffsets(untagged: .arp)
    }

    /// The most of the offending datagram an ICMP error quotes, keeping the error within 576
    /// bytes of IP as RFC 1812 §4.3.2.3 asks (Linux does the same).
    static let maximumQuote = 576 - IPv4Header.minimumLength - ICMPv4Message.headerLength

    /// An ICMPv4 error (`type`, `code`, `restOfHeader`: the MTU for fragmentation needed)
    /// about `offending` (its IP header and what follows), from `source` to the offender's
    /// source, sent to `destinationMAC` from `sourceMAC` (RFC 792).
    static func icmpError(into frame: inout Frame, type: ICMPv4Type, code: UInt8, restOfHeader: UInt32 = 0,
                                 offending: RawSpan, sourceMAC: MACAddress, destinationMAC: MACAddress,
                                 source: IPv4Address, destination: IPv4Address) {
        let quoted = min(offending.byteCount, maximumQuote)
        let icmpLength = ICMPv4Message.headerLength + quoted
        frame.resetContents(count: EthernetHeader.length + IPv4Header.minimumLength + icmpLength)
        var bytes = frame.mutableBytes
        EthernetRepr(destination: destinationMAC, source: sourceMAC, etherType: .ipv4).emit(into: &bytes)
        var ip = bytes.mutableSlice(from: EthernetHeader.length)
        IPv4Repr(source: source, destination: destination, protocol: .icmp, payloadLength: icmpLength,
                 ttl: 64, dontFragment: false).emit(into: &ip)
        var icmp = ip.mutableSlice(from: IPv4Header.minimumLength)
        icmp.setBytes(offending.slice(from: 0, count: quoted), at: ICMPv4Message.headerLength)
        ICMPv4Repr(type: type, code: code, restOfHeader: restOfHeader).emit(into: &icmp)
        frame.layers = LayerOffsets(untagged: .ipv4, transport: .icmp, at: IPv4Header.minimumLength)
    }
}
