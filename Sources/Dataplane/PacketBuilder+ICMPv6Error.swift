import Wire

extension PacketBuilder {
    /// The most of the offending packet an ICMPv6 error quotes: the error must not exceed the
    /// IPv6 minimum MTU of 1,280 bytes (RFC 4443 §2.4(c)).
    public static let maximumQuote6 = 1_280 - IPv6Header.length - ICMPv6Message.headerLength

    /// An ICMPv6 error (`type`, `code`, `restOfHeader`: the MTU for packet too big) about
    /// `offending` (its IPv6 header and what follows), from `source` to the offender's source,
    /// sent to `destinationMAC` from `sourceMAC`, hop limit 64 (RFC 4443 §2.2, §3).
    public static func icmpv6Error(into frame: inout Frame, type: UInt8, code: UInt8, restOfHeader: UInt32 = 0,
                                   offending: RawSpan, sourceMAC: MACAddress, destinationMAC: MACAddress,
                                   source: IPv6Address, destination: IPv6Address) {
        let quoted = min(offending.byteCount, maximumQuote6)
        let length = ICMPv6Message.headerLength + quoted
        frame.resetContents(count: EthernetHeader.length + IPv6Header.length + length)
        var bytes = frame.mutableBytes
        EthernetRepr(destination: destinationMAC, source: sourceMAC, etherType: .ipv6).emit(into: &bytes)
        var ip = bytes.mutableSlice(from: EthernetHeader.length)
        IPv6Repr(source: source, destination: destination, nextHeader: .icmpv6, payloadLength: length, hopLimit: 64)
            .emit(into: &ip)
        var message = ip.mutableSlice(from: IPv6Header.length)
        message.setBytes(offending.slice(from: 0, count: quoted), at: ICMPv6Message.headerLength)
        ICMPv6Repr(type: type, code: code, restOfHeader: restOfHeader).emit(into: &message, pseudoHeaderSum:
            InternetChecksum.pseudoHeaderSum(source: source, destination: destination, protocol: .icmpv6, length: length))
        frame.layers = layers(network: .ipv6, transport: .icmpv6, at: IPv6Header.length)
    }
}
