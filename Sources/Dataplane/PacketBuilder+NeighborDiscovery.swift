import Wire

extension PacketBuilder {
    /// A neighbour discovery message (`repr`) from `source` to `destination` in a frame from
    /// `sourceMAC` to `destinationMAC`, with hop limit 255 as RFC 4861 §7.1 requires of every
    /// one (a receiver drops any other, so it cannot have crossed a router).
    static func neighborDiscovery(into frame: inout Frame, repr: NeighborDiscoveryRepr,
                                         sourceMAC: MACAddress, destinationMAC: MACAddress,
                                         source: IPv6Address, destination: IPv6Address) {
        icmpv6(into: &frame, length: repr.length, hopLimit: 255, sourceMAC: sourceMAC, destinationMAC: destinationMAC,
               source: source, destination: destination) { message, pseudoHeaderSum in
            repr.emit(into: &message, pseudoHeaderSum: pseudoHeaderSum)
        }
    }

    /// An Ethernet frame carrying an IPv6 packet with an ICMPv6 message of `length` bytes,
    /// which `write` fills (with the pseudo-header sum its checksum needs); the layer offsets set.
    static func icmpv6(into frame: inout Frame, length: Int, hopLimit: UInt8, sourceMAC: MACAddress, destinationMAC: MACAddress,
                       source: IPv6Address, destination: IPv6Address,
                       write: (inout MutableRawSpan, UInt16) -> Void) {
        frame.resetContents(count: EthernetHeader.length + IPv6Header.length + length)
        var bytes = frame.mutableBytes
        EthernetRepr(destination: destinationMAC, source: sourceMAC, etherType: .ipv6).emit(into: &bytes)
        var ip = bytes.mutableSlice(from: EthernetHeader.length)
        IPv6Repr(source: source, destination: destination, nextHeader: .icmpv6, payloadLength: length, hopLimit: hopLimit)
            .emit(into: &ip)
        var message = ip.mutableSlice(from: IPv6Header.length)
        write(&message, InternetChecksum.pseudoHeaderSum(source: source, destination: destination, protocol: .icmpv6, length: length))
        frame.layers = LayerOffsets(untagged: .ipv6, transport: .icmpv6, at: IPv6Header.length)
    }

    /// A solicitation for `target` to its solicited-node group, carrying `senderMAC` (RFC 4861 §7.2.2).
    static func neighborSolicitation(into frame: inout Frame, senderMAC: MACAddress, senderIP: IPv6Address,
                                            target: IPv6Address) {
        let group = target.solicitedNode
        neighborDiscovery(into: &frame, repr: NeighborDiscoveryRepr(kind: .solicitation, target: target, linkLayerAddress: senderMAC),
                          sourceMAC: senderMAC, destinationMAC: MACAddress(ipv6Multicast: group),
                          source: senderIP, destination: group)
    }
}
