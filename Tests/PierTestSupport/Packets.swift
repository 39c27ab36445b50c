import Dataplane
import PierBench
import Wire

/// Packets for the pipeline tests, built through Wire's reprs (every checksum computed
/// whole), and a checker that recomputes every checksum from scratch: the oracle for the
/// incremental patches.
public enum Packets {
    /// 02:42:ac:11:00:02, the first container on docker0.
    public static let containerMAC = MACAddress(0x02, 0x42, 0xAC, 0x11, 0x00, 0x02)
    /// 02:42:ac:11:00:01, docker0's own MAC.
    public static let bridgeMAC = MACAddress(0x02, 0x42, 0xAC, 0x11, 0x00, 0x01)

    /// Ethernet + IPv4 (`proto`) around `l4`, which `fill` writes (its checksum included).
    public static func ipv4(source: IPv4Address, destination: IPv4Address, proto: IPProtocol, l4Length: Int,
                     sourceMAC: MACAddress = containerMAC, destinationMAC: MACAddress = bridgeMAC, ttl: UInt8 = 64,
                     fill: (inout MutableRawSpan) -> Void) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: EthernetHeader.length + IPv4Header.minimumLength + l4Length)
        bytes.withMutableRawSpan { span in
            EthernetRepr(destination: destinationMAC, source: sourceMAC, etherType: .ipv4).emit(into: &span)
            var ip = span.mutableSlice(from: EthernetHeader.length)
            IPv4Repr(source: source, destination: destination, protocol: proto, payloadLength: l4Length, ttl: ttl).emit(into: &ip)
            var l4 = ip.mutableSlice(from: IPv4Header.minimumLength)
            fill(&l4)
        }
        return bytes
    }

    /// A UDP datagram with `payload`; checksum zero (none) when `checksummed` is false.
    public static func udp(_ source: IPv4Address, _ sourcePort: UInt16, _ destination: IPv4Address, _ destinationPort: UInt16,
                    payload: [UInt8] = Array("payload!".utf8), checksummed: Bool = true,
                    sourceMAC: MACAddress = containerMAC, destinationMAC: MACAddress = bridgeMAC, ttl: UInt8 = 64) -> [UInt8] {
        let length = UDPHeader.length + payload.count
        return ipv4(source: source, destination: destination, proto: .udp, l4Length: length,
                    sourceMAC: sourceMAC, destinationMAC: destinationMAC, ttl: ttl) { l4 in
            for (index, byte) in payload.enumerated() { l4.setU8(byte, at: UDPHeader.length + index) }
            let sum = InternetChecksum.pseudoHeaderSum(source: source, destination: destination, protocol: .udp, length: length)
            UDPRepr(sourcePort: sourcePort, destinationPort: destinationPort).emit(into: &l4, pseudoHeaderSum: checksummed ? sum : nil)
        }
    }

    /// A TCP segment with `flags` and no data.
    public static func tcp(_ source: IPv4Address, _ sourcePort: UInt16, _ destination: IPv4Address, _ destinationPort: UInt16,
                    flags: TCPFlags, sourceMAC: MACAddress = containerMAC, destinationMAC: MACAddress = bridgeMAC,
                    ttl: UInt8 = 64) -> [UInt8] {
        SyntheticFrames.tcp(sourceMAC: sourceMAC, destinationMAC: destinationMAC, source: source, destination: destination,
                            sourcePort: sourcePort, destinationPort: destinationPort, flags: flags, ttl: ttl)
    }

    /// An ICMP echo request or reply.
    public static func echo(_ source: IPv4Address, _ destination: IPv4Address, identifier: UInt16, sequence: UInt16 = 1,
                            reply: Bool = false, sourceMAC: MACAddress = containerMAC, destinationMAC: MACAddress = bridgeMAC,
                            ttl: UInt8 = 64) -> [UInt8] {
        ipv4(source: source, destination: destination, proto: .icmp, l4Length: 16, sourceMAC: sourceMAC,
             destinationMAC: destinationMAC, ttl: ttl) { l4 in
            ICMPv4Repr.echo(reply: reply, identifier: identifier, sequence: sequence).emit(into: &l4)
        }
    }

    /// An ICMP error quoting the IP header and 8 bytes of the IP packet in `frame` (an
    /// Ethernet frame), as a router sends it (RFC 792).
    public static func icmpError(type: ICMPv4Type, code: UInt8, _ source: IPv4Address, _ destination: IPv4Address,
                          quoting frame: [UInt8], sourceMAC: MACAddress = bridgeMAC, destinationMAC: MACAddress = containerMAC) -> [UInt8] {
        let quote = Array(frame[EthernetHeader.length...].prefix(28))
        return ipv4(source: source, destination: destination, proto: .icmp, l4Length: 8 + quote.count,
                    sourceMAC: sourceMAC, destinationMAC: destinationMAC) { l4 in
            for (index, byte) in quote.enumerated() { l4.setU8(byte, at: 8 + index) }
            ICMPv4Repr(type: type, code: code).emit(into: &l4)
        }
    }

    /// An Ethernet/ARP frame (RFC 826) from `sourceMAC` to `destinationMAC` (broadcast for a
    /// request by default); a request's target MAC is zero.
    public static func arp(_ operation: ARPOperation, senderMAC: MACAddress = containerMAC, senderIP: IPv4Address,
                           targetMAC: MACAddress = .zero, targetIP: IPv4Address,
                           sourceMAC: MACAddress? = nil, destinationMAC: MACAddress = .broadcast) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: EthernetHeader.length + ARPPacket.ethernetIPv4Length)
        bytes.withMutableRawSpan { span in
            EthernetRepr(destination: destinationMAC, source: sourceMAC ?? senderMAC, etherType: .arp).emit(into: &span)
            var body = span.mutableSlice(from: EthernetHeader.length)
            ARPRepr(operation: operation, senderMAC: senderMAC, senderIP: senderIP, targetMAC: targetMAC, targetIP: targetIP)
                .emit(into: &body)
        }
        return bytes
    }

    /// `bytes` padded with zeros to Ethernet's minimum frame of 60 bytes (without the FCS), as
    /// a sender pads a short frame such as an ARP packet.
    public static func padded(_ bytes: [UInt8]) -> [UInt8] {
        bytes + [UInt8](repeating: 0, count: max(0, 60 - bytes.count))
    }

    /// A neighbour solicitation (RFC 4861 §4.3) from `source` for `target`, to its
    /// solicited-node group, carrying `senderMAC` as the source link-layer address; hop limit
    /// 255 and every checksum computed whole.
    public static func neighborSolicitation(senderMAC: MACAddress = containerMAC, source: IPv6Address,
                                            target: IPv6Address) -> [UInt8] {
        let repr = NeighborDiscoveryRepr(kind: .solicitation, target: target, linkLayerAddress: senderMAC)
        let group = target.solicitedNode
        var bytes = [UInt8](repeating: 0, count: EthernetHeader.length + IPv6Header.length + repr.length)
        bytes.withMutableRawSpan { span in
            EthernetRepr(destination: MACAddress(ipv6Multicast: group), source: senderMAC, etherType: .ipv6).emit(into: &span)
            var ip = span.mutableSlice(from: EthernetHeader.length)
            IPv6Repr(source: source, destination: group, nextHeader: .icmpv6, payloadLength: repr.length, hopLimit: 255).emit(into: &ip)
            var message = ip.mutableSlice(from: IPv6Header.length)
            repr.emit(into: &message, pseudoHeaderSum: InternetChecksum.pseudoHeaderSum(
                source: source, destination: group, protocol: .icmpv6, length: repr.length))
        }
        return bytes
    }

    /// The IPv4 header and L4 checksums of an Ethernet/IPv4 frame, each recomputed over the
    /// whole header or segment: true when both verify (a UDP checksum of zero: not sent).
    public static func checksumsVerify(_ bytes: [UInt8]) -> Bool {
        let frame = Frame(bytes: bytes)
        return checksumsVerify(frame)
    }

    public static func checksumsVerify(_ frame: borrowing Frame) -> Bool {
        let all = frame.bytes
        guard let ip = try? IPv4Header(validating: all.slice(from: EthernetHeader.length)) else { return false }
        guard InternetChecksum.verify(all.slice(from: EthernetHeader.length, count: ip.headerLength)) else { return false }
        let l4Start = EthernetHeader.length + ip.headerLength
        let l4 = all.slice(from: l4Start, count: ip.totalLength - ip.headerLength)
        switch ip.protocol {
        case .icmp:
            return InternetChecksum.verify(l4)
        case .udp where l4.u16(at: UDPHeader.Field.checksum) == 0:
            return true
        default:
            let sum = InternetChecksum.pseudoHeaderSum(source: ip.source, destination: ip.destination, protocol: ip.protocol,
                                                       length: l4.byteCount)
            return InternetChecksum.verify(l4, initial: sum)
        }
    }
}
