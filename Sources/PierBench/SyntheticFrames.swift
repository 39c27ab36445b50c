import Wire

/// Builds well-formed frames from header reprs, for benchmarks, `pier bench` and tests:
/// every length and checksum is computed, never typed in.
package enum SyntheticFrames {
    /// An Ethernet/IPv4/TCP frame carrying `payloadLength` bytes of zeros.
    package static func tcp(sourceMAC: MACAddress = MACAddress(0x02, 0, 0, 0, 0, 0x01),
                           destinationMAC: MACAddress = MACAddress(0x02, 0, 0, 0, 0, 0x02),
                           source: IPv4Address, destination: IPv4Address,
                           sourcePort: UInt16, destinationPort: UInt16,
                           flags: TCPFlags = [.ack], payloadLength: Int = 0, ttl: UInt8 = 64) -> [UInt8] {
        let l4Length = TCPHeader.minimumLength + payloadLength
        var bytes = [UInt8](repeating: 0, count: EthernetHeader.length + IPv4Header.minimumLength + l4Length)
        bytes.withMutableRawSpan { span in
            EthernetRepr(destination: destinationMAC, source: sourceMAC, etherType: .ipv4).emit(into: &span)
            var ip = span.mutableSlice(from: EthernetHeader.length)
            IPv4Repr(source: source, destination: destination, protocol: .tcp, payloadLength: l4Length, ttl: ttl).emit(into: &ip)
            var l4 = ip.mutableSlice(from: IPv4Header.minimumLength)
            let sum = InternetChecksum.pseudoHeaderSum(source: source, destination: destination, protocol: .tcp, length: l4Length)
            TCPRepr(sourcePort: sourcePort, destinationPort: destinationPort, sequence: 1, acknowledgment: 1, flags: flags)
                .emit(into: &l4, pseudoHeaderSum: sum)
        }
        return bytes
    }

    /// `inner` (an Ethernet frame) inside Ethernet/IPv4/UDP/VXLAN, as a flannel VTEP sends
    /// it: UDP checksum zero, destination port `port`.
    package static func vxlan(inner: [UInt8], vni: UInt32 = 1, port: UInt16 = 8472, sourcePort: UInt16 = 49_152,
                             outerSource: IPv4Address = IPv4Address(192, 168, 1, 25),
                             outerDestination: IPv4Address = IPv4Address(192, 168, 9, 30)) -> [UInt8] {
        let udpLength = UDPHeader.length + VXLANHeader.length + inner.count
        let headerLength = EthernetHeader.length + IPv4Header.minimumLength + UDPHeader.length + VXLANHeader.length
        var bytes = [UInt8](repeating: 0, count: headerLength)
        bytes += inner
        bytes.withMutableRawSpan { span in
            EthernetRepr(destination: MACAddress(0x02, 0, 0xC0, 0xA8, 0x01, 0x01), source: MACAddress(0x02, 0, 0xC0, 0xA8, 0x01, 0x19),
                         etherType: .ipv4).emit(into: &span)
            var ip = span.mutableSlice(from: EthernetHeader.length)
            IPv4Repr(source: outerSource, destination: outerDestination, protocol: .udp, payloadLength: udpLength).emit(into: &ip)
            var udp = ip.mutableSlice(from: IPv4Header.minimumLength)
            var vxlan = udp.mutableSlice(from: UDPHeader.length)
            VXLANRepr(vni: vni).emit(into: &vxlan)
            UDPRepr(sourcePort: sourcePort, destinationPort: port).emit(into: &udp, pseudoHeaderSum: nil)
        }
        return bytes
    }

    /// `payload` behind Ethernet and IPv4 from `outerSource` to `outerDestination`: in UDP
    /// from `sourcePort` to `udpPort` when given (flannel's UDP backend, or VXLAN with the
    /// VXLAN header already in `payload`), else IP-in-IP (protocol 4); every length and the
    /// IPv4 checksum right, the UDP checksum zero, DF clear.
    package static func ipTunnel(_ payload: [UInt8], udpPort: UInt16?, sourcePort: UInt16 = 49_152,
                                outerSource: IPv4Address, outerDestination: IPv4Address,
                                sourceMAC: MACAddress, destinationMAC: MACAddress) -> [UInt8] {
        let udpLength = udpPort == nil ? 0 : UDPHeader.length
        var bytes = [UInt8](repeating: 0, count: EthernetHeader.length + IPv4Header.minimumLength + udpLength) + payload
        bytes.withMutableRawSpan { span in
            EthernetRepr(destination: destinationMAC, source: sourceMAC, etherType: .ipv4).emit(into: &span)
            var ip = span.mutableSlice(from: EthernetHeader.length)
            IPv4Repr(source: outerSource, destination: outerDestination, protocol: udpPort == nil ? .ipip : .udp,
                     payloadLength: udpLength + payload.count, dontFragment: false).emit(into: &ip)
            guard let udpPort else { return }
            var udp = ip.mutableSlice(from: IPv4Header.minimumLength)
            UDPRepr(sourcePort: sourcePort, destinationPort: udpPort).emit(into: &udp, pseudoHeaderSum: nil)
        }
        return bytes
    }
}
