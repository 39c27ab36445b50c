import Wire

extension PacketBuilder {
    /// The most of the offending packet an ICMPv6 error quotes: the error must not exceed the
    /// IPv6 minimum MTU of 1,280 bytes (RFC 4443 §2.4(c)).
    static let maximumQuote6 = 1_280 - IPv6Header.length - ICMPv6Message.headerLength

    /// An ICMPv6 error (`type`, `code`, `restOfHeader`: the MTU for packet too big) about
    /// `offending` (its IPv6 header and what follows), from `source` to the offender's source,
    /// sent to `destinationMAC` from `sourceMAC`, hop limit 64 (RFC 4443 §2.2, §3).
    static func icmpv6Error(into frame: inout Frame, type: UInt8, code: UInt8, restOfHeader: UInt32 = 0,
                                   offending: RawSpan, sourceMAC: MACAddress, destinationMAC: MACAddress,
                                   source: IPv6Address, destination: IPv6Address) {
        let quoted = min(offending.byteCount, maximumQuote6)
        icmpv6(into: &frame, length: ICMPv6Message.headerLength + quoted, hopLimit: 64, sourceMAC: sourceMAC,
               destinationMAC: destinationMAC, source: source, destination: destination) { message, pseudoHeaderSum in
            message.setBytes(offending.slice(from: 0, count: quoted), at: ICMPv6Message.headerLength)
            ICMPv6Repr(type: type, code: code, restOfHeader: restOfHeader).emit(into: &message, pseudoHeaderSum: pseudoHeaderSum)
        }
    }
}
